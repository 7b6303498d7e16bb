"""OI-delta and RSI/funding confluence overlays: thin views over market data and the pure maths."""

from __future__ import annotations

from flask.views import MethodView

from ..services import services
from . import MARKET_ERRORS, Blueprint
from .caching import serve_overlay
from .overlay_builders import build_confluence, build_oi_delta
from .overlay_schemas import (
    ConfluenceQuerySchema,
    ConfluenceResponseSchema,
    OiDeltaQuerySchema,
    OiDeltaResponseSchema,
)

blp = Blueprint(
    "overlays",
    __name__,
    url_prefix="/api/v1/overlays",
    errors=MARKET_ERRORS,
    description="Per-bar overlays for a symbol and timeframe, computed on closed bars and cached per bar.",
)

_CACHE_DOC = {
    "headers": {
        "ETag": {
            "description": "Entity tag of the body; send it back in If-None-Match.",
            "schema": {"type": "string"},
        },
        "Cache-Control": {"description": "max-age until the next bar closes.", "schema": {"type": "string"}},
    }
}


@blp.route("/oi-delta")
class OiDelta(MethodView):
    @blp.arguments(OiDeltaQuerySchema, location="query")
    @blp.response(200, OiDeltaResponseSchema, **_CACHE_DOC)
    @blp.alt_response(304, description="Not modified (If-None-Match matched).")
    def get(self, args):
        """Open interest and its change per bar, with z-score and price/OI quadrant (DOMAIN.md section 4)."""
        params = {"zscore_window": args["zscore_window"]}
        return serve_overlay("oi-delta", args, params, lambda: build_oi_delta(services().market, args, params))


@blp.route("/confluence")
class Confluence(MethodView):
    @blp.arguments(ConfluenceQuerySchema, location="query")
    @blp.response(200, ConfluenceResponseSchema, **_CACHE_DOC)
    @blp.alt_response(304, description="Not modified (If-None-Match matched).")
    def get(self, args):
        """RSI, funding, OI and liquidation-cluster confluence: a score in -100..100 with its reasons."""
        params = {k: args[k] for k in ("rsi_length", "zscore_window", "clusters") if args.get(k) is not None}
        return serve_overlay("confluence", args, params, lambda: build_confluence(services().market, args, params))
