"""Liquidation-price calculator with stop advice: ``GET /api/v1/liquidation-price``.

The price comes from the exchanges' own formulas (``overlays.liquidation_price``). The advice runs the liquidation
model on market data (``exchange_data``, default the server's default exchange, i.e. the simulator) and points at
the dense liquidation clusters around the position: a stop inside a cluster is swept with it (seeds 001 and 002:
"place your stop-loss just outside significant liquidation clusters"), so the suggested stop sits just beyond
the nearest cluster between the entry and the liquidation price, or just before it when the cluster reaches the
liquidation price (a stop beyond it would never fire before the liquidation).
"""

from __future__ import annotations

import math
from typing import Any

from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, post_load
from marshmallow.validate import Length, OneOf, Range, Regexp

from ..errors import InvalidArgument
from ..market.registry import FACTORIES
from ..overlays.liquidation_price import CONTRACTS, EXCHANGES, MARGIN_MODES, SIDES, liquidation_price
from ..services import services
from ..timeframes import TIMEFRAMES
from . import MARKET_ERRORS, Blueprint
from .liquidations import LOOKBACK_HELP, LOOKBACK_PATTERN, lookback_bars

blp = Blueprint(
    "calculator",
    __name__,
    url_prefix="/api/v1",
    errors=MARKET_ERRORS,
    description="Liquidation price of a position (exchange formulas) with stop advice from liquidation clusters.",
)

STOP_BUFFER_PCT = 0.2  # "just outside" a cluster: this far beyond its edge, % of the edge price
NEAREST_CLUSTERS = 6
MAX_ENTRY_GAP_PCT = 25.0  # the model's map covers +-25% around the market price
# Bounds of the inputs, far beyond any real position, so every result is a finite number (JSON has no Infinity)
MIN_AMOUNT = 1e-8  # > 0: smaller prices or sizes make the distances overflow
MAX_PRICE = 1e9
MAX_AMOUNT = 1e12
MAX_LEVERAGE = 1000.0  # the exchanges' tiers stop at 125x (Binance, Bybit) and 100x (OKX); above is their 400
MIN_LOOKBACK_BARS, MAX_LOOKBACK_BARS = 48, 5000
FEE_EXCHANGES = ("okx",)  # the only formula with a fee term (OKX's liquidation fee); Binance and Bybit have none


class LiquidationPriceQuerySchema(Schema):
    exchange = fields.String(load_default="binance", validate=OneOf(EXCHANGES))
    contract = fields.String(
        load_default="linear", validate=OneOf(CONTRACTS),
        metadata={"description": "linear (USDT-margined) or inverse (coin-margined; bybit, okx)."},
    )
    margin_mode = fields.String(load_default="isolated", validate=OneOf(MARGIN_MODES))
    side = fields.String(required=True, validate=OneOf(SIDES))
    entry = fields.Float(required=True, validate=Range(MIN_AMOUNT, MAX_PRICE),
                         metadata={"description": f"Entry price ({MIN_AMOUNT:g}..{MAX_PRICE:g})."})
    leverage = fields.Float(required=True, validate=Range(1, MAX_LEVERAGE),
                            metadata={"description": "Leverage (>= 1); the exchange's tier limit applies."})
    quantity = fields.Float(
        required=True, validate=Range(MIN_AMOUNT, MAX_AMOUNT),
        metadata={"description": "Linear: base asset (BTC). Inverse: position size in USD (contracts x face "
                                 f"value). {MIN_AMOUNT:g}..{MAX_AMOUNT:g}."},
    )
    balance = fields.Float(
        load_default=None, validate=Range(0, MAX_AMOUNT),
        metadata={"description": "Cross margin only (required there): balance available beyond the position's "
                                 "initial margin, in the margin currency (USDT linear, coin inverse)."},
    )
    fee = fields.Float(
        load_default=None, validate=Range(0, 0.01),
        metadata={"description": "OKX liquidation (taker) fee rate; default 0.0005. OKX only: Binance's and "
                                 "Bybit's formulas have no fee term, so fee is refused there."},
    )
    advice = fields.Boolean(load_default=True, metadata={"description": "Add stop advice from liquidation clusters."})
    exchange_data = fields.String(
        load_default=None, validate=Length(min=1),
        metadata={"enum": list(FACTORIES), "description": "Market data the advice uses: sim or binance (default: "
                                                          "the server's DEFAULT_EXCHANGE, sim unless configured)."},
    )
    symbol = fields.String(load_default="BTCUSDT", metadata={"description": "Symbol the advice looks at."})
    timeframe = fields.String(load_default="1h", validate=OneOf(list(TIMEFRAMES)))
    lookback = fields.String(
        load_default="720", validate=Regexp(LOOKBACK_PATTERN, error=LOOKBACK_HELP),
        metadata={"description": "History the model uses, as the liquidations overlay takes it: bars (\"720\") or a "
                                 f"duration (12h, 7d, 30d, 1y); {MIN_LOOKBACK_BARS}..{MAX_LOOKBACK_BARS} bars."},
    )

    @post_load
    def _resolve(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if data.get("fee") is not None and data["exchange"] not in FEE_EXCHANGES:
            raise ValidationError(f"fee applies to {', '.join(FEE_EXCHANGES)} only: {data['exchange']}'s formula "
                                  "has no fee term", field_name="fee")
        bars = lookback_bars(data["lookback"], data["timeframe"])
        if not MIN_LOOKBACK_BARS <= bars <= MAX_LOOKBACK_BARS:
            raise ValidationError(f"lookback is {bars} bars of {data['timeframe']}; allowed "
                                  f"{MIN_LOOKBACK_BARS}..{MAX_LOOKBACK_BARS}", field_name="lookback")
        data["lookback_bars"] = bars
        return data


class BracketSchema(Schema):
    tier = fields.Integer()
    floor = fields.Float()
    cap = fields.Float()
    mmr = fields.Float()
    cum = fields.Float(metadata={"description": "Maintenance amount (Binance cum, Bybit MM deduction)."})
    max_leverage = fields.Float()


class ClusterSchema(Schema):
    side = fields.String(metadata={"description": "long: long liquidations (below price); short: above."})
    price_low = fields.Float()
    price_high = fields.Float()
    price_peak = fields.Float()
    notional_usd = fields.Float()
    distance_pct = fields.Float(metadata={"description": "Distance of the peak from the entry, % of entry."})
    between_entry_and_liquidation = fields.Boolean()


class StopAdviceSchema(Schema):
    exchange_data = fields.String()
    symbol = fields.String()
    timeframe = fields.String()
    market_price = fields.Float(allow_none=True)
    market_time = fields.Integer(allow_none=True)
    suggested_stop = fields.Float(allow_none=True)
    placement = fields.String(metadata={"description": "beyond_cluster, before_cluster or none."})
    reason = fields.String()
    cluster = fields.Nested(ClusterSchema, allow_none=True)
    nearest_clusters = fields.List(fields.Nested(ClusterSchema))
    model = fields.Dict()
    warnings = fields.List(fields.String())


class LiquidationPriceSchema(Schema):
    price = fields.Float(allow_none=True, metadata={"description": "null: a falling price cannot liquidate it."})
    distance_pct = fields.Float(allow_none=True, metadata={"description": "|entry - price| / entry, %."})
    exchange = fields.String()
    contract = fields.String()
    margin_mode = fields.String()
    side = fields.String()
    notional = fields.Float()
    notional_currency = fields.String()
    initial_margin = fields.Float()
    maintenance_margin = fields.Float()
    maintenance_rate = fields.Float()
    fee_rate = fields.Float()
    bracket = fields.Nested(BracketSchema)
    formula = fields.String()
    source = fields.String(metadata={"description": "The exchange documentation the formula comes from."})
    stop_advice = fields.Nested(StopAdviceSchema, allow_none=True)


@blp.route("/liquidation-price")
class LiquidationPrice(MethodView):
    @blp.arguments(LiquidationPriceQuerySchema, location="query")
    @blp.response(200, LiquidationPriceSchema)
    def get(self, args):
        """Liquidation price (exchange formula, bracket, maintenance rate, source) and stop advice."""
        result = liquidation_price(
            args["exchange"], args["contract"], args["margin_mode"], args["side"], args["entry"],
            args["leverage"], args["quantity"], balance=args["balance"], fee=args["fee"],
        )
        body = result.as_dict()
        body["distance_pct"] = None if result.price is None else abs(args["entry"] - result.price) / args["entry"] * 100
        body["stop_advice"] = advise(args, result.price) if args["advice"] else None
        return refuse_non_finite(body)


def refuse_non_finite(value: Any, path: str = "") -> Any:
    """The body unchanged, or a 400 naming the first non-finite number in it (JSON has no NaN or Infinity; the
    input bounds keep every formula finite, this is the edge's last guard)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidArgument(f"the inputs give a non-finite {path or 'result'}; use realistic amounts",
                              details={"field": path})
    if isinstance(value, dict):
        for key, item in value.items():
            refuse_non_finite(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            refuse_non_finite(item, f"{path}[{i}]")
    return value


def advise(args: dict[str, Any], liq_price: float | None) -> dict[str, Any]:
    """Run the liquidation model on the market data and place a stop around the clusters."""
    from ..overlays.liquidations import LiquidationParams, estimate_liquidations

    svc = services()
    exchange = args["exchange_data"] or svc.settings.default_exchange
    bars = svc.market.bars(exchange, args["symbol"], args["timeframe"], limit=args["lookback_bars"])
    frame = getattr(bars, "requested", bars.frame)
    model = estimate_liquidations(frame, LiquidationParams(), include=("clusters",))
    warnings = list(getattr(bars, "warnings", []) or []) + list(model.warnings)
    if model.price and abs(args["entry"] - model.price) / model.price * 100 > MAX_ENTRY_GAP_PCT:
        warnings.append(
            f"entry {args['entry']:g} is more than {MAX_ENTRY_GAP_PCT:g}% from {args['symbol']}'s price "
            f"{model.price:g} on {exchange}: the clusters describe that market, not this position"
        )
    advice = stop_advice(args["side"], args["entry"], liq_price, model.clusters or [])
    advice.update(
        exchange_data=exchange, symbol=args["symbol"].upper(), timeframe=args["timeframe"],
        market_price=model.price, market_time=model.time,
        model={k: model.model.get(k) for k in ("name", "version")}, warnings=warnings,
    )
    return advice


def stop_advice(side: str, entry: float, liq_price: float | None, clusters: list[dict]) -> dict[str, Any]:
    """Pick the stop (pure: no Flask). Long positions look at long-liquidation clusters below the entry, shorts at
    short-liquidation clusters above it; only clusters reaching into the zone between entry and liquidation price
    matter (beyond the liquidation price the position is gone first)."""
    long = side == "long"
    buf = STOP_BUFFER_PCT / 100
    liq = liq_price if liq_price is not None else (0.0 if long else float("inf"))

    def annotate(c: dict) -> dict:
        inside = (c["price_high"] > liq and c["price_low"] < entry) if long else \
            (c["price_low"] < liq and c["price_high"] > entry)
        return {**c, "distance_pct": abs(c["price_peak"] - entry) / entry * 100,
                "between_entry_and_liquidation": bool(inside and c["side"] == side)}

    annotated = sorted((annotate(c) for c in clusters), key=lambda c: c["distance_pct"])
    risky = [c for c in annotated if c["between_entry_and_liquidation"]]
    risky.sort(key=lambda c: -c["price_high"] if long else c["price_low"])
    out: dict[str, Any] = {"nearest_clusters": annotated[:NEAREST_CLUSTERS], "cluster": None,
                           "suggested_stop": None, "placement": "none"}
    if not risky:
        out["reason"] = (f"no dense {side}-liquidation cluster between the entry and the liquidation price: "
                         "no sweep zone to avoid; place the stop by your own risk")
        return out
    nearest = risky[0]
    out["cluster"] = nearest
    beyond = nearest["price_low"] * (1 - buf) if long else nearest["price_high"] * (1 + buf)
    before = nearest["price_high"] * (1 + buf) if long else nearest["price_low"] * (1 - buf)
    if (beyond > liq) if long else (beyond < liq):
        out.update(suggested_stop=beyond, placement="beyond_cluster",
                   reason=f"stop {STOP_BUFFER_PCT:g}% beyond the nearest {side}-liquidation cluster "
                          f"({nearest['price_low']:.2f}-{nearest['price_high']:.2f}): a sweep of the cluster "
                          "should not take it")
    elif (before < entry) if long else (before > entry):
        out.update(suggested_stop=before, placement="before_cluster",
                   reason="the nearest cluster reaches the liquidation price, so a stop beyond it would never fire "
                          f"before liquidation: exit {STOP_BUFFER_PCT:g}% before the cluster, or lower the leverage")
    else:
        out["reason"] = ("the entry sits inside a cluster that reaches the liquidation price: no stop outside it; "
                         "lower the leverage")
    return out
