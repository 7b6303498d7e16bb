"""GET /api/v1/signals (keyset pagination, newest first), /api/v1/signals/<id>, /api/v1/signals.csv."""

from __future__ import annotations

import base64
import csv
import io

import orjson
from flask import Response, current_app
from flask.views import MethodView

from ..errors import InvalidArgument, NotFound
from ..store.signals import SIGNAL_COLUMNS
from ..webhooks import get_webhooks
from ..webhooks.normalise import normalise_action, normalise_exchange, normalise_symbol, parse_time_ms
from . import Blueprint
from .signal_schemas import SignalCsvQuerySchema, SignalPageSchema, SignalQuerySchema, SignalSchema

blp = Blueprint("signals", __name__, description="The log of received TradingView alerts, with market context.")


def _encode_cursor(signal_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{signal_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not text.startswith("id:"):
            raise ValueError(cursor)
        return int(text[3:])
    except (ValueError, UnicodeDecodeError):
        raise InvalidArgument("invalid cursor", details={"fields": {"cursor": ["not a cursor of this API"]}}) \
            from None


def _time_arg(name: str, value: str | None) -> int | None:
    if value is None:
        return None
    ms = parse_time_ms(value)
    if ms is None:
        raise InvalidArgument(f"{name} must be epoch ms or ISO 8601 with a zone",
                              details={"fields": {name: ["not a time"]}})
    return ms


def _filters(args):
    from ..store.signal_repo import SignalFilters

    return SignalFilters(
        exchange=normalise_exchange(args.get("exchange")),
        symbol=normalise_symbol(args["symbol"]) if args.get("symbol") else None,
        action=normalise_action(args.get("action")),
        since=_time_arg("since", args.get("since")),
        until=_time_arg("until", args.get("until")),
    )


def _query(args):
    before = _decode_cursor(args["cursor"]) if args.get("cursor") else None
    rows = get_webhooks(current_app).repo.query(_filters(args), limit=args["limit"], before_id=before)
    next_cursor = _encode_cursor(rows[-1].id) if len(rows) == args["limit"] else None
    return rows, next_cursor


@blp.route("/api/v1/signals")
class Signals(MethodView):
    @blp.arguments(SignalQuerySchema, location="query")
    @blp.response(200, SignalPageSchema)
    def get(self, args):
        """Signals, newest first; pass ``pagination.next_cursor`` as ``cursor`` for the next page."""
        rows, next_cursor = _query(args)
        return {"data": rows, "pagination": {"limit": args["limit"], "next_cursor": next_cursor}}


@blp.route("/api/v1/signals/<int:signal_id>")
class SignalById(MethodView):
    @blp.response(200, SignalSchema)
    def get(self, signal_id: int):
        """One signal with its context and outcome."""
        row = get_webhooks(current_app).repo.get(signal_id)
        if row is None:
            raise NotFound(f"no signal {signal_id}", details={"id": signal_id})
        return row


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return str(value)


def signals_csv(rows) -> str:
    """One row per signal: the stored columns, every payload field (``payload.<name>``), every context field
    (``context.<name>``) and each outcome (``outcome.<N>.change_pct``...)."""
    payload_keys: dict[str, None] = {}
    context_keys: dict[str, None] = {}
    outcome_keys: dict[str, None] = {}
    for row in rows:
        payload_keys.update(dict.fromkeys(row.payload or {}))
        context_keys.update(dict.fromkeys(row.context or {}))
        for n, result in (row.outcome or {}).items():
            outcome_keys.update(dict.fromkeys(f"{n}.{k}" for k in (result or {})))
    header = (SIGNAL_COLUMNS + ["raw_body"] + [f"payload.{k}" for k in payload_keys]
              + [f"context.{k}" for k in context_keys] + [f"outcome.{k}" for k in outcome_keys])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        outcome = row.outcome or {}
        cells = [getattr(row, c) for c in SIGNAL_COLUMNS] + [row.raw_body]
        cells += [(row.payload or {}).get(k) for k in payload_keys]
        cells += [(row.context or {}).get(k) for k in context_keys]
        for key in outcome_keys:
            n, field = key.split(".", 1)
            cells.append((outcome.get(n) or {}).get(field))
        writer.writerow([_cell(c) for c in cells])
    return out.getvalue()


@blp.route("/api/v1/signals.csv")
class SignalsCsv(MethodView):
    @blp.arguments(SignalCsvQuerySchema, location="query")
    @blp.response(200, content_type="text/csv", description="CSV, newest first; X-Next-Cursor for more.")
    def get(self, args):
        """The same filters as /api/v1/signals, as CSV with a column for every stored alert field."""
        rows, next_cursor = _query(args)
        response = Response(signals_csv(rows), mimetype="text/csv")
        response.headers["Content-Disposition"] = "attachment; filename=signals.csv"
        if next_cursor:
            response.headers["X-Next-Cursor"] = next_cursor
        return response
