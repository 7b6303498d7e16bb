"""GET /api/v1/candles: the closed OHLCV bars the overlays are computed on (the chart page draws them).

Same query, range semantics, caching and ETag as the overlays, so a chart polling candles and overlays sees the
same bars move at the same moment.
"""

from __future__ import annotations

from flask.views import MethodView
from marshmallow import Schema, fields

from ..services import services
from . import MARKET_ERRORS, Blueprint
from .caching import serve_overlay
from .overlay_builders import build_candles
from .overlay_schemas import MarketQuerySchema, MetaSchema

blp = Blueprint("candles", __name__, url_prefix="/api/v1", description="Closed OHLCV bars of a symbol.",
                errors=MARKET_ERRORS)

_num = {"allow_none": True}


class CandleSchema(Schema):
    time = fields.Integer(required=True, metadata={"description": "Bar open time, epoch ms UTC."})
    open = fields.Float(**_num)
    high = fields.Float(**_num)
    low = fields.Float(**_num)
    close = fields.Float(**_num)
    volume = fields.Float(**_num, metadata={"description": "Base-asset volume (e.g. BTC)."})
    quote_volume = fields.Float(**_num, metadata={"description": "Quote-asset volume (USDT)."})
    taker_buy_volume = fields.Float(**_num, metadata={"description": "Base volume bought by takers."})
    trades = fields.Float(**_num)


class CandlesResponseSchema(Schema):
    meta = fields.Nested(MetaSchema, required=True)
    series = fields.List(fields.Nested(CandleSchema), required=True)


@blp.route("/candles")
class Candles(MethodView):
    @blp.arguments(MarketQuerySchema, location="query")
    @blp.response(200, CandlesResponseSchema)
    @blp.alt_response(304, description="Not modified (If-None-Match matched).")
    def get(self, args):
        """Closed bars: open, high, low, close, volumes and trade count, oldest first."""
        return serve_overlay("candles", args, {}, lambda: build_candles(services().market, args, {}))
