"""GET /api/v1/overlays/liquidations.png: the liquidation heatmap with candles, or the map, as a PNG for bots.

Thin view: the liquidations query schema (``LiquidationsQuerySchema``) plus the picture's size and view, the
estimate from the liquidations builder (``estimate_for_request``), the drawing in ``render`` (pure), the bytes
cached per closed bar with an ETag by ``caching.serve_overlay(render=..., mimetype="image/png")``. Bad input is
the one JSON error shape, never an image.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import fields, validate

from ..render import render_heatmap_png, render_map_png
from ..services import services
from . import MARKET_ERRORS, Blueprint
from .caching import serve_overlay
from .liquidation_model import model_query
from .liquidations import LiquidationsQuerySchema, estimate_for_request, liquidations_meta

blp = Blueprint("pictures", __name__, url_prefix="/api/v1/overlays",
                description="Pictures of the liquidation estimate (PNG) for Discord and Telegram bots.",
                errors=MARKET_ERRORS)

MIN_WIDTH, MAX_WIDTH = 400, 3000
MIN_HEIGHT, MAX_HEIGHT = 300, 2000
VIEWS = {"heatmap": ("heatmap", render_heatmap_png), "map": ("map", render_map_png)}


class LiquidationsPngQuerySchema(LiquidationsQuerySchema):
    class Meta:
        exclude = ("include", "heatmap_format", "max_levels")

    view = fields.String(load_default="heatmap", validate=validate.OneOf(list(VIEWS)), metadata={
        "description": "heatmap: open notional over time and price behind the candles; map: open notional per "
                       "price bin as horizontal bars, long below the close, short above."})
    width = fields.Integer(load_default=1200, validate=validate.Range(min=MIN_WIDTH, max=MAX_WIDTH),
                           metadata={"description": "Picture width in pixels."})
    height = fields.Integer(load_default=675, validate=validate.Range(min=MIN_HEIGHT, max=MAX_HEIGHT),
                            metadata={"description": "Picture height in pixels."})


def build_picture(market, args: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    part, _ = VIEWS[params["view"]]
    model_params = {k: v for k, v in params.items() if k not in ("view", "width", "height")}
    bars, result = estimate_for_request(market, args, {**model_params, "include": [part]})
    return {"meta": liquidations_meta(bars, result, model_params), "bars": bars.requested, "result": result,
            "view": params["view"], "width": params["width"], "height": params["height"]}


def render_picture(payload: dict[str, Any]) -> bytes:
    _, render = VIEWS[payload["view"]]
    return render(payload["bars"], payload["result"], payload["meta"], width=payload["width"],
                  height=payload["height"])


@blp.route("/liquidations.png")
class LiquidationsPng(MethodView):
    @blp.arguments(LiquidationsPngQuerySchema, location="query")
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="image/png",
                  description="The PNG (width x height pixels). Cached per closed bar with an ETag; errors are JSON.")
    @blp.alt_response(304, description="Not modified (If-None-Match matched).")
    def get(self, args):
        """The liquidation heatmap with candles (view=heatmap) or the liquidation map (view=map) as a PNG: title
        with symbol, timeframe, time of the last close and model; price and UTC time axes; a colour scale."""
        params = {**{k: args[k] for k in ("bins", "leverage", "heatmap_rows", "lookback", "view", "width", "height")},
                  **model_query(args)}
        return serve_overlay("liquidations.png", args, params,
                             lambda: build_picture(services().market, args, params),
                             render=render_picture, mimetype="image/png")
