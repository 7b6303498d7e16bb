"""The chart page: candles with the liquidation heatmap behind them, OI delta, RSI/score and funding panes.

``/`` and ``/chart`` render ``web/templates/chart.html``; the page's own ES modules are ``web/static/*`` and the
charting library is TradingView's lightweight-charts 5.2.1, served from ``web/node_modules`` (installed by
``make install`` with ``npm ci``; never committed, never fetched from a CDN). Query arguments of the page
(exchange, symbol, timeframe, lookback, leverage, refresh) are read by the page's script, never echoed into the
HTML. Pages and assets are left out of the OpenAPI document (registered with Flask's own ``add_url_rule``).
"""

from __future__ import annotations

from pathlib import Path

import flask
from flask import render_template, send_from_directory

from ..errors import ApiError
from ..services import services
from ..timeframes import TIMEFRAMES
from . import Blueprint

WEB = Path(__file__).resolve().parents[1] / "web"
VENDOR_DIR = WEB / "node_modules" / "lightweight-charts" / "dist"
VENDOR_FILE = "lightweight-charts.standalone.production.mjs"

blp = Blueprint(
    "chart",
    __name__,
    static_folder=str(WEB / "static"),
    static_url_path="/chart/static",
    template_folder=str(WEB / "templates"),
)


class ChartAssetsMissing(ApiError):
    status = 503
    code = "chart_assets_missing"


def vendor_path() -> Path:
    """Where lightweight-charts' ES module is; a 503 saying to run ``make install`` when it is not there."""
    path = VENDOR_DIR / VENDOR_FILE
    if not path.is_file():
        raise ChartAssetsMissing(
            "the chart library (lightweight-charts) is not installed: run `make install` "
            "(it runs `npm ci` in indicator_server/web)",
            details={"missing": str(path)},
        )
    return path


def _page_config() -> dict:
    settings = services().settings
    return {
        "exchanges": list(settings.exchanges),
        "defaultExchange": settings.default_exchange,
        "symbols": list(settings.sim_symbols),
        "timeframes": list(TIMEFRAMES),
        "leverage": ["", "low", "medium", "high"],
        "defaults": {"symbol": "BTCUSDT", "timeframe": "1h", "lookback": "500", "leverage": "", "refresh": 30},
    }


def chart_page():
    vendor_path()
    return render_template("chart.html", config=_page_config())


def chart_library():
    path = vendor_path()
    return send_from_directory(path.parent, path.name, mimetype="text/javascript", max_age=86400)


for _rule, _endpoint, _view in (
    ("/", "index", chart_page),
    ("/chart", "page", chart_page),
    ("/chart/vendor/lightweight-charts.mjs", "library", chart_library),
):
    flask.Blueprint.add_url_rule(blp, _rule, _endpoint, _view, methods=["GET"])
