"""GET /api/v1/overlays/liquidations.pine: a Pine Script v6 indicator that draws the server's current clusters,
max-pain prices and strongest levels on a TradingView chart.

Thin view: the liquidations query schema plus how much to draw, the estimate from ``estimate_for_request``, the
code from ``render.pine_script`` (pure), the text cached per closed bar with an ETag by
``caching.serve_overlay(render=..., mimetype="text/plain")`` (Werkzeug adds ``; charset=utf-8``).
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import fields, validate

from .. import __version__
from ..overlays.liquidations.payload import active_levels
from ..render import generate_pine
from ..services import services
from . import MARKET_ERRORS, Blueprint
from .caching import serve_overlay
from .liquidation_model import model_query
from .liquidations import LiquidationsQuerySchema, estimate_for_request, liquidations_meta

blp = Blueprint("pine_generated", __name__, url_prefix="/api/v1/overlays",
                description="Generated Pine Script with the server's liquidation levels baked in.",
                errors=MARKET_ERRORS)

MAX_LINES, MAX_CLUSTERS = 400, 100  # Pine: at most 500 lines and 500 boxes per script


class LiquidationsPineQuerySchema(LiquidationsQuerySchema):
    class Meta:
        exclude = ("include", "heatmap_format", "heatmap_rows", "max_levels")

    levels = fields.Integer(load_default=40, validate=validate.Range(min=0, max=MAX_LINES), metadata={
        "description": "Strongest open levels drawn as lines (largest notional first)."})
    clusters = fields.Integer(load_default=20, validate=validate.Range(min=0, max=MAX_CLUSTERS), metadata={
        "description": "Clusters drawn as boxes, nearest to the close first."})


def build_pine(market, args: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    model_params = {k: v for k, v in params.items() if k not in ("levels", "clusters")}
    bars, result = estimate_for_request(market, args, {**model_params, "include": ["clusters", "levels"]})
    levels, _ = active_levels(result, params["levels"])
    meta = liquidations_meta(bars, result, params)
    return {"meta": meta, "result": result, "levels": levels, "clusters": params["clusters"]}


def render_pine(payload: dict[str, Any]) -> bytes:
    return generate_pine(payload["meta"], payload["result"], payload["levels"], max_clusters=payload["clusters"],
                         generator=f"indicator-server {__version__}").encode("utf-8")


@blp.route("/liquidations.pine")
class LiquidationsPine(MethodView):
    @blp.arguments(LiquidationsPineQuerySchema, location="query")
    @blp.response(200, {"type": "string"}, content_type="text/plain",
                  description="Pine Script v6 source (text/plain; charset=utf-8). Cached per closed bar with an ETag; "
                              "errors are JSON.")
    @blp.alt_response(304, description="Not modified (If-None-Match matched).")
    def get(self, args):
        """A Pine Script v6 indicator drawing the current clusters (boxes), max pain (dashed lines) and strongest
        levels (lines) at their prices; its header says from which data and model, and until when it is current."""
        params = {**{k: args[k] for k in ("bins", "leverage", "lookback", "levels", "clusters")}, **model_query(args)}
        return serve_overlay("liquidations.pine", args, params, lambda: build_pine(services().market, args, params),
                             render=render_pine, mimetype="text/plain")
