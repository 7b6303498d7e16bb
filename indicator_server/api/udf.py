"""TradingView UDF datafeed under /udf: point the Charting Library's stock adapter,
``new Datafeeds.UDFCompatibleDatafeed("http://HOST/udf")``, at it.

Thin views: arguments through the schemas of ``udf_schemas``, one call into ``udf_service`` (which reuses the
overlay builders), the answer in UDF's own shapes. Every /udf response, errors included, carries CORS headers
(the Charting Library runs on another origin), and every error, whatever raised it (bad arguments, unknown
symbol, exchange down, unknown /udf path), is UDF's ``{"s": "error", "errmsg": ...}`` with the status the JSON
API would give (4xx for bad input, 502/503/504 upstream) and the stable code in ``X-Error-Code``.
"""

from __future__ import annotations

import orjson
from flask import Response, current_app, request
from flask.views import MethodView
from marshmallow import EXCLUDE

from ..errors import InvalidArgument
from ..services import services
from ..timeframes import timeframe_ms
from ..udf.bars import plan_window
from ..udf.symbols import SUPPORTED_RESOLUTIONS, parse_symbol, search_items, timeframe_for
from ..webhooks import get_webhooks
from . import Blueprint
from .caching import dumps, serve_overlay
from .udf_schemas import (
    UdfConfigSchema,
    UdfErrorSchema,
    UdfHistoryQuerySchema,
    UdfHistorySchema,
    UdfMarksSchema,
    UdfRangeQuerySchema,
    UdfSearchItemSchema,
    UdfSearchQuerySchema,
    UdfSymbolInfoSchema,
    UdfSymbolQuerySchema,
    UdfTimescaleMarkSchema,
)
from .udf_service import history_payload, listed_symbols, marks_table, regime_args, regime_payload, resolve_symbol


class _NoJsonDefaultError:
    """The Api as the response documenter sees it, minus its default error (the JSON shape): every /udf view
    documents UDF's error form as its default response instead."""

    DEFAULT_ERROR_RESPONSE_NAME = None

    def __init__(self, api) -> None:
        self._api = api

    def __getattr__(self, name: str):
        return getattr(self._api, name)


class UdfBlueprint(Blueprint):
    """Errors in UDF's own form (documented as each view's default), and unknown query parameters ignored: the
    stock UDF adapter and the Charting Library add parameters of their own to these URLs (every other endpoint
    refuses an undeclared parameter, api/__init__.py)."""

    JSON_ERRORS = False

    def arguments(self, schema, **kwargs):
        kwargs.setdefault("unknown", EXCLUDE)
        return super().arguments(schema, **kwargs)

    @staticmethod
    def _prepare_response_doc(doc, doc_info, *, api, spec, **kwargs):
        return Blueprint._prepare_response_doc(doc, doc_info, api=_NoJsonDefaultError(api), spec=spec, **kwargs)


blp = UdfBlueprint("udf", __name__, url_prefix="/udf",
                description="TradingView UDF datafeed (Charting Library / Trading Platform): candles and each "
                            "overlay series as symbols, the signal log as marks, regime changes as timescale marks.")

_ERRORS = {"description": "Bad argument, in UDF's error form (as every /udf error)."}
_DEFAULT = {"description": "UDF error form: 404 unknown symbol or path, 405, 502/503/504 the exchange failed."}


def _json(payload) -> Response:
    return Response(dumps(payload), mimetype="application/json")


def _symbol(text: str):
    svc = services()
    sym = parse_symbol(text, list(svc.sources), svc.settings.default_exchange)
    svc.market.source(sym.exchange)  # an exchange not served here is a 400 unknown_exchange
    return sym


def _check_range(from_s: int | None, to_s: int) -> None:
    if from_s is not None and from_s > to_s:
        raise InvalidArgument("from must not be after to", details={"from": from_s, "to": to_s})


@blp.after_app_request
def _udf_cors_and_errors(response: Response) -> Response:
    """CORS on every /udf response; any error body of the JSON API rewritten in UDF's error form."""
    if request.path != "/udf" and not request.path.startswith("/udf/"):
        return response
    if response.status_code >= 400 and response.mimetype == "application/json":
        body = response.get_json(silent=True)
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            response.set_data(orjson.dumps({"s": "error", "errmsg": str(error.get("message") or "error")}))
            response.headers["X-Error-Code"] = str(error.get("code") or "error")
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Methods"] = "GET, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = request.headers.get(
        "Access-Control-Request-Headers", "Content-Type")
    response.headers["Access-Control-Expose-Headers"] = "ETag, X-Cache, X-Error-Code, Retry-After"
    response.headers["Access-Control-Max-Age"] = "86400"
    return response


@blp.route("/config")
class Config(MethodView):
    @blp.response(200, UdfConfigSchema)
    @blp.alt_response("default", schema=UdfErrorSchema, **_DEFAULT)
    def get(self):
        """Datafeed configuration (the adapter's onReady): search and per-symbol resolve, marks, server time."""
        svc = services()
        exchanges = [{"value": "", "name": "All exchanges", "desc": ""}] + [
            {"value": name.upper(), "name": name.upper(), "desc": "built-in market simulator" if name == "sim"
             else f"{name} USD-M perpetuals"} for name in svc.sources]
        return _json({
            "supports_search": True, "supports_group_request": False, "supports_marks": True,
            "supports_timescale_marks": True, "supports_time": True,
            "supported_resolutions": SUPPORTED_RESOLUTIONS, "exchanges": exchanges,
            "symbols_types": [{"name": "All types", "value": ""}, {"name": "Crypto", "value": "crypto"},
                              {"name": "Indicator", "value": "indicator"}],
        })


@blp.route("/symbols")
class Symbols(MethodView):
    @blp.arguments(UdfSymbolQuerySchema, location="query")
    @blp.response(200, UdfSymbolInfoSchema)
    @blp.alt_response("default", schema=UdfErrorSchema, **_DEFAULT)
    @blp.alt_response(400, schema=UdfErrorSchema, **_ERRORS)
    def get(self, args):
        """Symbol info of EXCHANGE:SYMBOL or EXCHANGE:SYMBOL:SERIES."""
        return _json(resolve_symbol(services().market, _symbol(args["symbol"])))


@blp.route("/search")
class Search(MethodView):
    @blp.arguments(UdfSearchQuerySchema, location="query")
    @blp.response(200, UdfSearchItemSchema(many=True))
    @blp.alt_response("default", schema=UdfErrorSchema, **_DEFAULT)
    @blp.alt_response(400, schema=UdfErrorSchema, **_ERRORS)
    def get(self, args):
        """Listed symbols and their overlay series whose ticker contains the query."""
        items = search_items(listed_symbols(services()), args["query"], type_=args["type"],
                             exchange=args["exchange"], limit=args["limit"])
        return _json(items)


@blp.route("/history")
class History(MethodView):
    @blp.arguments(UdfHistoryQuerySchema, location="query")
    @blp.response(200, UdfHistorySchema)
    @blp.alt_response("default", schema=UdfErrorSchema, **_DEFAULT)
    @blp.alt_response(400, schema=UdfErrorSchema, **_ERRORS)
    @blp.alt_response(304, description="Not modified (If-None-Match matched).")
    def get(self, args):
        """Closed bars in [from, to) or the `countback` bars before `to`, at most 5000 (the latest), cached per
        closed bar; no_data with nextTime when earlier bars exist."""
        sym, timeframe = _symbol(args["symbol"]), timeframe_for(args["resolution"])
        if args["countback"] is None and args["from_"] is None:
            raise InvalidArgument("from or countback is required", details={"fields": {"from": ["missing"]}})
        if args["countback"] is None:
            _check_range(args["from_"], args["to"])
        market = services().market
        sym = type(sym)(sym.exchange, market.check_symbol(market.source(sym.exchange), sym.symbol), sym.series)
        step = timeframe_ms(timeframe)
        _, last_closed = market.resolve_range(timeframe, 1, None, None)
        window = plan_window(step, last_closed, from_s=args["from_"], to_s=args["to"], countback=args["countback"])
        if window is None:
            before = min(args["to"] * 1000, last_closed + step)
            return _json(history_payload(market, sym, timeframe, None, empty_before_ms=before)["udf"])
        cache_args = {"exchange": sym.exchange, "symbol": sym.symbol, "timeframe": timeframe,
                      "limit": window.limit, "start": None, "end": window.end}
        return serve_overlay("udf-history", cache_args, {"series": sym.series},
                             lambda: history_payload(market, sym, timeframe, window),
                             render=lambda payload: dumps(payload["udf"]))


@blp.route("/time")
class Time(MethodView):
    @blp.response(200, {"type": "string", "example": "1780317296"}, content_type="text/plain",
                  description="Server time, Unix seconds, as plain text.")
    @blp.alt_response("default", schema=UdfErrorSchema, **_DEFAULT)
    def get(self):
        """Server time in Unix seconds (plain text, as the adapter parseInt()s it)."""
        return Response(str(int(services().clock())), mimetype="text/plain")


@blp.route("/marks")
class Marks(MethodView):
    @blp.arguments(UdfRangeQuerySchema, location="query")
    @blp.response(200, UdfMarksSchema)
    @blp.alt_response("default", schema=UdfErrorSchema, **_DEFAULT)
    @blp.alt_response(400, schema=UdfErrorSchema, **_ERRORS)
    def get(self, args):
        """The signal log (TradingView alerts received) of the symbol's exchange and market in [from, to]."""
        sym = _symbol(args["symbol"])
        timeframe_for(args["resolution"])
        _check_range(args["from_"], args["to"])
        repo = get_webhooks(current_app).repo
        return _json(marks_table(repo, sym, args["from_"], args["to"]))


@blp.route("/timescale_marks")
class TimescaleMarks(MethodView):
    @blp.arguments(UdfRangeQuerySchema, location="query")
    @blp.response(200, UdfTimescaleMarkSchema(many=True))
    @blp.alt_response("default", schema=UdfErrorSchema, **_DEFAULT)
    @blp.alt_response(400, schema=UdfErrorSchema, **_ERRORS)
    def get(self, args):
        """Confluence regime changes (into long cascade risk, short squeeze risk, back to neutral) in
        [from, to] at the chart's resolution, the latest 5000 bars at most."""
        sym, timeframe = _symbol(args["symbol"]), timeframe_for(args["resolution"])
        _check_range(args["from_"], args["to"])
        market = services().market
        args_ = regime_args(market, sym, timeframe, args["from_"], args["to"])
        return serve_overlay("udf-regimes", args_, {"from": args["from_"]},
                             lambda: regime_payload(market, args_, args["from_"], args["to"]),
                             render=lambda payload: dumps(payload["udf"]))
