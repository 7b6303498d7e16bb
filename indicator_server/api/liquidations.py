"""GET /api/v1/overlays/liquidations: estimated liquidation levels, map, clusters, max pain, heatmap, swept.

Thin view: arguments through ``LiquidationsQuerySchema``, bars through ``services().market``, the maths in
``overlays.liquidations``, the serialised body cached per closed bar with an ETag (``caching.serve_overlay``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, post_load, validate, validates, validates_schema

from ..errors import InvalidArgument
from ..market.registry import FACTORIES
from ..overlays.liquidations import (
    DEFAULT_INCLUDE,
    LEVERAGE_GROUPS,
    PARTS,
    LiquidationParams,
    estimate_liquidations,
    leverage_for_names,
)
from ..overlays.liquidations.payload import result_payload
from ..services import services
from ..timeframes import TIMEFRAMES, timeframe_ms
from . import MARKET_ERRORS, Blueprint
from .caching import serve_overlay
from .liquidation_model import OVERRIDES, check_overrides, choose_params, model_fields, model_query, resolve_leverage
from .overlay_schemas import MetaSchema, TimestampMs

blp = Blueprint(
    "liquidations",
    __name__,
    url_prefix="/api/v1/overlays",
    errors=MARKET_ERRORS,
    description="Estimated liquidation levels (OI-flow model): levels, map, clusters, max pain, heatmap.",
)

MIN_BINS, MAX_BINS = 10, 2000
MAX_LOOKBACK_BARS = 20_000
_UNITS_MS = {"m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 7 * 86_400_000, "y": 365 * 86_400_000}
# ASCII digits only ("²".isdigit() is True and int("²") raises); the same pattern is declared in /openapi.json.
LOOKBACK_PATTERN = r"^[1-9][0-9]{0,8}[mhdwy]?$"
LOOKBACK_HELP = "use a bar count (500) or a duration (12h, 7d, 30d, 90d, 1y)"
_LOOKBACK = re.compile(r"([0-9]{1,9})([mhdwy]?)")
_TIERS = LiquidationParams().leverage_tiers
_LEVERAGE_TOKEN = "(?:" + "|".join([*LEVERAGE_GROUPS, *(f"{t:g}(?:\\.0+)?x?" for t in _TIERS)]) + ")"
LEVERAGE_PATTERN = f"^{_LEVERAGE_TOKEN}(?:,{_LEVERAGE_TOKEN})*$"
_PART = "(?:" + "|".join(PARTS) + ")"
INCLUDE_PATTERN = f"^{_PART}(?:,{_PART})*$"
DEFAULT_HEATMAP_ROWS = 500


def lookback_bars(lookback: str | int, timeframe: str) -> int:
    """"500" (or 500) -> 500 bars; "12h", "7d", "30d", "90d", "1y" (m, h, d, w, y = 365d) -> bars of ``timeframe``.

    Shared by every endpoint that takes a lookback (overlays, pictures, Pine, the liquidation-price advice)."""
    match = _LOOKBACK.fullmatch(str(lookback))
    if not match:
        raise ValidationError(LOOKBACK_HELP)
    count, unit = int(match.group(1)), match.group(2)
    return count if not unit else count * _UNITS_MS[unit] // timeframe_ms(timeframe)


class LiquidationsQuerySchema(Schema.from_dict(model_fields())):
    exchange = fields.String(load_default=None, validate=validate.Length(min=1), metadata={"enum": list(FACTORIES),
                                                          "description": "sim (no network) or binance."})
    symbol = fields.String(load_default="BTCUSDT", validate=validate.Length(min=1, max=40))
    timeframe = fields.String(load_default="1h", metadata={"enum": list(TIMEFRAMES), "description": "Bar size."})
    lookback = fields.String(load_default="7d", validate=validate.Regexp(LOOKBACK_PATTERN, error=LOOKBACK_HELP),
                             metadata={
        "description": "Position history the model uses: bars (\"500\") or a duration (12h, 7d, 30d, 90d, 1y)."})
    end = TimestampMs(load_default=None, metadata={"description": "Last bar (default: the last closed bar)."})
    bins = fields.Integer(load_default=500, validate=validate.Range(min=MIN_BINS, max=MAX_BINS),
                          metadata={"description": "Price bins of the map and heatmap."})
    leverage = fields.String(load_default=None, validate=validate.Regexp(
        LEVERAGE_PATTERN, error="tier values (10,25 or 10x) or names low, medium, high, comma-separated"), metadata={
        "description": "Tiers to keep: values (\"10,25\") or names low (<=10x), medium (10x-50x), high (>=50x). "
                       f"Default tiers: {', '.join(f'{t:g}x' for t in _TIERS)}; names select the tiers of the model "
                       "used (a calibrated model may have others), values must be tiers of it (meta.model.params)."})
    include = fields.String(load_default=",".join(DEFAULT_INCLUDE), validate=validate.Regexp(
        INCLUDE_PATTERN, error=f"parts from {', '.join(PARTS)}, comma-separated"), metadata={
        "description": f"Parts to answer, comma-separated, from {', '.join(PARTS)} (heatmap and cascade only on "
                       "request)."})
    heatmap_format = fields.String(load_default="sparse", validate=validate.OneOf(["sparse", "dense"]))
    heatmap_rows = fields.Integer(load_default=DEFAULT_HEATMAP_ROWS, validate=validate.Range(min=10, max=2000),
                                  metadata={"description": "Time rows of the heatmap at most (every k-th bar, "
                                                           "ending at the last one)."})
    max_levels = fields.Integer(load_default=500, validate=validate.Range(min=1, max=5000),
                                metadata={"description": "Open levels listed, largest first."})

    @validates("leverage")
    def _check_leverage(self, value: str | None, **_: Any) -> None:
        if value is None:
            return
        try:
            chosen = leverage_for_names(value.split(","), _TIERS)
        except InvalidArgument as exc:
            raise ValidationError(exc.message) from None
        if not chosen:
            raise ValidationError("the filter keeps no tier")

    @validates_schema
    def _check_model(self, data: dict[str, Any], **_: Any) -> None:
        check_overrides(data)

    @post_load
    def _resolve(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        try:
            bars = lookback_bars(data["lookback"], data["timeframe"])
        except ValidationError as exc:
            raise ValidationError(exc.messages, field_name="lookback") from None
        if not 1 <= bars <= MAX_LOOKBACK_BARS:
            raise ValidationError(f"lookback is {bars} bars of {data['timeframe']}; allowed 1..{MAX_LOOKBACK_BARS}",
                                  field_name="lookback")
        data["limit"], data["start"] = bars, None
        if "include" in data:  # a derived schema (.png, .pine) may exclude it and choose its parts itself
            data["include"] = sorted({p.strip() for p in data["include"].split(",") if p.strip()})
        # kept as named (tier values, group names): resolved on the tiers of the model actually used
        data["leverage"] = None if data["leverage"] is None else sorted(
            {_leverage_token(t) for t in data["leverage"].split(",") if t.strip()})
        return data


def _leverage_token(token: str) -> str:
    token = token.strip().lower()
    return token if token in LEVERAGE_GROUPS else f"{float(token.removesuffix('x')):g}"


class LiquidationsMetaSchema(MetaSchema):
    model = fields.Dict(metadata={"description": "{name, version, params, mode, calibration}: every assumption of "
                                                 "the model as used; calibration: how its free parameters were fitted "
                                                 "(method, fitted, prior, data, quality, warnings), null for "
                                                 "model=default."})


class LiquidationLevelSchema(Schema):
    price = fields.Float(required=True)
    side = fields.String(required=True, metadata={"enum": ["long", "short"]})
    leverage = fields.Float(required=True)
    notional_usd = fields.Float(required=True, metadata={"description": "Still open at the last close."})
    initial_usd = fields.Float(metadata={"description": "Opened in that bar."})
    opened_at = fields.Integer(required=True, metadata={"description": "Open time of the bar, epoch ms."})


class LiquidationClusterSchema(Schema):
    side = fields.String(required=True)
    price_low = fields.Float(required=True)
    price_high = fields.Float(required=True)
    price_peak = fields.Float(required=True)
    notional_usd = fields.Float(required=True)
    distance_pct = fields.Float(required=True)


class LiquidationSweptSchema(Schema):
    time = fields.Integer(required=True)
    long_usd = fields.Float(required=True)
    short_usd = fields.Float(required=True)


class LiquidationsResponseSchema(Schema):
    meta = fields.Nested(LiquidationsMetaSchema, required=True)
    price = fields.Float(allow_none=True, metadata={"description": "Last close."})
    levels = fields.List(fields.Nested(LiquidationLevelSchema))
    map = fields.Dict(metadata={"description": "Columns per price bin: price_low, price_high, price, long_usd, "
                                               "short_usd, long_cum_usd, short_cum_usd; by_leverage; outside_usd."})
    clusters = fields.List(fields.Nested(LiquidationClusterSchema), metadata={"description": "Sorted by distance."})
    max_pain = fields.Dict(allow_none=True, metadata={"description": "{long, short}: {price, notional_usd, "
                                                                     "bin_usd, distance_pct} or null."})
    heatmap = fields.Dict(metadata={"description": "time and price axes; data [[t, p, usd]] (sparse) or "
                                                   "values[t][p] (dense)."})
    swept = fields.List(fields.Nested(LiquidationSweptSchema), metadata={"description": "Model liquidations per bar."})
    cascade = fields.Dict(metadata={"description": "include=cascade: per move of moves_pct % down (long levels) and "
                                    "up (short levels): {move_pct, price, forced_usd, hourly_volume_usd, "
                                    "forced_share_of_hourly_volume, exhaustion_price, exhaustion_pct, run_forced_usd, "
                                    "beyond_map}; summary {down, up}: the first move whose forced notional reaches "
                                    "one typical hour of volume (or null); rule: the constants used."})


def estimate_for_request(market, args: dict[str, Any], params: dict[str, Any]):
    """The bars of the request (``market.bars(...)``: ``.requested`` frame with OHLC, ``.meta``) and the model's
    ``LiquidationResult`` on them with ``params`` (bins, include, heatmap_rows, leverage, and the model choice of
    ``liquidation_model.model_query``: calibrated by default); a lookback longer than the data is a 400. Shared by
    the JSON view, the PNG pictures and the generated Pine. ``result.model`` holds the params used, ``mode`` and
    ``calibration``; ``result.leverage`` the tiers the filter kept."""
    bars = market.bars(args.get("exchange"), args["symbol"], args["timeframe"], limit=args["limit"],
                       end=args.get("end"), liquidations=True)
    frame = bars.requested
    start_bar, _ = market.resolve_range(args["timeframe"], args["limit"], None, args.get("end"))
    # a few missing first bars (a gap) are the market service's warning; a history that starts later is a 400
    slack = max(1, args["limit"] // 20) * timeframe_ms(args["timeframe"])
    if frame.empty or int(frame["time"].iloc[0]) > start_bar + slack:
        raise InvalidArgument(
            f"lookback {args['lookback']} ({args['limit']} bars) is longer than the data: {len(frame)} bars "
            "available", details={"field": "lookback", "requested_bars": args["limit"],
                                  "available_bars": int(len(frame)),
                                  "first_available": int(frame["time"].iloc[0]) if len(frame) else None})
    include = params["include"]
    query = {"model": params.get("model", "calibrated"), **{k: v for k, v in params.items() if k in OVERRIDES}}
    chosen, calibration, notes = choose_params(services(), args, query, frame)
    model_params = chosen.replace(max_heatmap_rows=params.get("heatmap_rows", DEFAULT_HEATMAP_ROWS))
    leverage, leverage_notes = resolve_leverage(params.get("leverage"), model_params.leverage_tiers)
    result = estimate_liquidations(frame, model_params, bins=params["bins"], include=include, leverage=leverage)
    result.model = dict(result.model, mode=query["model"], calibration=calibration)
    result.warnings = [*result.warnings, *notes, *leverage_notes]
    result.leverage = leverage
    return bars, result


def liquidations_meta(bars, result, params: dict[str, Any], shaping: Iterable[str] = ()) -> dict[str, Any]:
    """meta of a liquidation answer: the bars' meta, the request's parameters (the leverage filter as the tiers it
    kept), the model (name, version, params used, mode, calibration) and every warning."""
    shown = dict(params, leverage=list(getattr(result, "leverage", None) or []) or None) if "leverage" in params \
        else params
    return dict(bars.meta, parameters=shown, model=result.model,
                warnings=list(bars.meta.get("warnings", [])) + result.warnings + list(shaping))


def build_liquidations(market, args: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    bars, result = estimate_for_request(market, args, params)
    include = params["include"]
    body, shaping = result_payload(result, include, max_levels=params["max_levels"],
                                   heatmap_format=params["heatmap_format"])
    return {"meta": liquidations_meta(bars, result, params, shaping), **body}


@blp.route("/liquidations")
class Liquidations(MethodView):
    @blp.arguments(LiquidationsQuerySchema, location="query")
    @blp.response(200, LiquidationsResponseSchema)
    @blp.alt_response(304, description="Not modified (If-None-Match matched).")
    def get(self, args):
        """Estimated liquidation levels and their map, clusters, max pain, heatmap and per-bar sweeps
        (DOMAIN.md section 3). Every answer echoes the model's name, version and parameters in meta.model."""
        params = {**{k: args[k] for k in ("bins", "leverage", "include", "heatmap_format", "heatmap_rows",
                                          "max_levels", "lookback")}, **model_query(args)}
        return serve_overlay("liquidations", args, params,
                             lambda: build_liquidations(services().market, args, params))
