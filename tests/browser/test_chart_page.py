"""The chart page in real headless Chromium against the real server (gunicorn, 2 workers, sim data)."""

from __future__ import annotations

import io
import json
import urllib.request

import numpy as np
import pytest
from PIL import Image

from .conftest import WEBHOOK_SECRET

pytestmark = pytest.mark.browser

READY = "window.chartState && (window.chartState.ready || window.chartState.error !== null)"
BACKGROUND = np.array([0x0D, 0x11, 0x17])
DOWN_CANDLE = np.array([0xEF, 0x53, 0x50])


def open_chart(page, server, query=""):
    page.goto(f"{server}/chart{query}")
    page.wait_for_function(READY, timeout=30_000)
    page.wait_for_timeout(300)  # one more animation frame: the canvases are painted
    return page.evaluate("JSON.parse(JSON.stringify(window.chartState))")


def price_pane_pixels(page, path) -> np.ndarray:
    """The price pane (left of the price scale, below the legend's row) of a screenshot, RGB."""
    box = page.evaluate("""() => {
        const r = document.getElementById('chart').getBoundingClientRect();
        const v = window.chartState.view;
        return {x: r.x, y: r.y, w: r.width - v.chart.priceScale('right').width(),
                h: v.chart.panes()[0].getHeight()};
    }""")
    png = page.screenshot(path=str(path))
    image = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    x0, y0 = int(box["x"]) + 4, int(box["y"]) + 4
    return image[y0:y0 + int(box["h"]) - 8, x0:x0 + int(box["w"]) - 8]


def bar_point(page, back: int, field: str, dy: float = 0) -> dict:
    """Page coordinates of bar ``back`` bars from the last, at its ``field`` price, ``dy`` pixels lower."""
    return page.evaluate("""([back, field, dy]) => {
        const v = window.chartState.view;
        const r = document.getElementById('chart').getBoundingClientRect();
        const bars = v.candles.data();
        const bar = bars[bars.length - 1 - back];
        return {x: r.x + v.chart.timeScale().timeToCoordinate(bar.time),
                y: r.y + v.candles.priceToCoordinate(bar[field]) + dy};
    }""", [back, field, dy])


def count_colour(pixels: np.ndarray, colour: np.ndarray, tolerance: int = 6) -> int:
    return int((np.abs(pixels - colour).max(axis=2) <= tolerance).sum())


def unexpected(errors):
    # Chromium logs every 4xx/5xx fetch as "Failed to load resource"; those are the API's answers, not page errors
    return [e for e in errors if "Failed to load resource" not in e]


def test_page_loads_draws_every_series_and_heatmap_behind_candles(page, server, tmp_path):
    state = open_chart(page, server)
    assert state["error"] is None
    assert page.log.errors == []
    drawn = state["drawn"]
    assert drawn["candles"] == 500
    assert drawn["oi"] == 500 and drawn["rsi"] > 400 and drawn["score"] > 400 and drawn["funding"] > 400
    assert drawn["heatmapCells"] > 1000
    assert drawn["priceLines"] >= 2
    assert page.locator("#legend").is_visible()
    assert "per bin" in page.locator("#legend-max").inner_text()

    with_heatmap = price_pane_pixels(page, tmp_path / "chart.png")
    drawn_share = (np.abs(with_heatmap - BACKGROUND).max(axis=2) > 12).mean()
    assert drawn_share > 0.3, f"only {drawn_share:.0%} of the price pane is drawn"

    page.evaluate("window.chartState.view.heatmap.setData(null)")
    page.wait_for_timeout(200)
    without = price_pane_pixels(page, tmp_path / "chart-no-heatmap.png")
    heatmap_share = (np.abs(with_heatmap - without).max(axis=2) > 12).mean()
    assert heatmap_share > 0.2, f"the heatmap changed only {heatmap_share:.0%} of the price pane"
    # behind: the candles keep their exact colour over the heatmap (a heatmap on top would tint them)
    red_without = count_colour(without, DOWN_CANDLE)
    assert red_without > 500
    assert count_colour(with_heatmap, DOWN_CANDLE) >= 0.95 * red_without


def test_levels_show_on_hover(page, server, tmp_path):
    open_chart(page, server)
    point = bar_point(page, 39, "close")
    page.mouse.move(point["x"], point["y"])
    tooltip = page.locator("#tooltip")
    tooltip.wait_for(state="visible")
    text = tooltip.inner_text()
    assert "nearest liquidation levels" in text
    assert ("long" in text or "short" in text) and "x @" in text and "$" in text
    page.screenshot(path=str(tmp_path / "hover.png"))


def test_a_coin_below_one_dollar_gets_its_own_price_precision(page, server):
    btc = open_chart(page, server)
    assert btc["pricePrecision"] == 1  # 65,000.0
    cheap = open_chart(page, server, "?symbol=SCALP1USDT")  # the sim prices it near 0.017
    assert cheap["error"] is None and cheap["lastClose"] < 0.1
    assert cheap["pricePrecision"] >= 5  # four significant digits, not 0.02 on every axis label
    label = page.evaluate("window.chartState.view.candles.priceFormatter().format(window.chartState.lastClose)")
    assert float(label) == round(cheap["lastClose"], cheap["pricePrecision"]) and label != "0.02"


def test_selectors_change_the_data_and_the_url(page, server):
    first = open_chart(page, server)
    page.fill("#controls input[name=symbol]", "ethusdt")
    page.press("#controls input[name=symbol]", "Enter")
    page.wait_for_function("window.chartState.loads >= 2 && window.chartState.error === null")
    second = page.evaluate("JSON.parse(JSON.stringify(window.chartState))")
    assert "symbol=ETHUSDT" in page.url
    assert second["lastClose"] != first["lastClose"]
    assert second["lastClose"] < 20_000  # ETH's price, not BTC's

    page.select_option("#controls select[name=timeframe]", "4h")
    page.wait_for_function("window.chartState.loads >= 3")
    page.select_option("#controls select[name=leverage]", "high")
    page.wait_for_function("window.chartState.loads >= 4")
    state = page.evaluate("JSON.parse(JSON.stringify(window.chartState))")
    assert "timeframe=4h" in page.url and "leverage=high" in page.url
    assert state["drawn"]["candles"] == 500 and state["chartsCreated"] == 1
    assert any("timeframe=4h" in url and "leverage=high" in url for _, url in page.log.responses)

    # the shared URL opens the same view
    page.goto(page.url)
    page.wait_for_function(READY)
    assert page.input_value("#controls input[name=symbol]") == "ETHUSDT"
    assert page.input_value("#controls select[name=timeframe]") == "4h"
    assert page.log.errors == []


def test_refresh_polls_with_etag_and_updates_in_place(page, server):
    open_chart(page, server, "?refresh=1")
    # Each gunicorn worker has its own memory cache (and body, so ETag): a poll answered by the other worker is
    # a 200 with the same bars; wait until some polls were answered 304 to If-None-Match.
    page.wait_for_function("window.chartState.polls >= 2 && window.chartState.notModified >= 2", timeout=20_000)
    state = page.evaluate("JSON.parse(JSON.stringify(window.chartState))")
    assert state["chartsCreated"] == 1 and state["error"] is None
    assert state["drawn"]["candles"] == 500
    assert any(status == 304 and "/api/v1/" in url for status, url in page.log.responses)
    assert page.log.errors == []


def post_alert(server, body):
    request = urllib.request.Request(f"{server}/webhook/tradingview", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_marker_appears_after_a_webhook_with_its_context_on_hover(page, server, tmp_path):
    state = open_chart(page, server, "?symbol=SOLUSDT&refresh=1")
    assert state["drawn"]["markers"] == 0
    answer = post_alert(server, {"secret": WEBHOOK_SECRET, "ticker": "SOLUSDT", "exchange": "sim",
                                 "interval": "1h", "action": "buy", "price": "150"})
    page.wait_for_function("window.chartState.drawn.markers >= 1", timeout=15_000)
    point = bar_point(page, 0, "low", 14)
    page.mouse.move(point["x"], point["y"])
    tooltip = page.locator("#tooltip")
    tooltip.wait_for(state="visible")
    page.screenshot(path=str(tmp_path / "marker.png"))
    assert f"signal #{answer['id']}: buy" in tooltip.inner_text()
    assert page.log.errors == []


def test_unknown_symbol_shows_the_api_message(page, server, tmp_path):
    state = open_chart(page, server, "?symbol=NOPE")
    assert state["error"]["status"] == 404 and state["error"]["code"] == "unknown_symbol"
    message = page.locator("#message")
    assert message.is_visible()
    assert "has no symbol 'NOPE'" in message.inner_text()
    assert "HTTP 404" in message.inner_text()
    page.screenshot(path=str(tmp_path / "unknown-symbol.png"))
    assert unexpected(page.log.errors) == []


def test_upstream_down_shows_503(page, server, tmp_path):
    state = open_chart(page, server, "?exchange=binance&symbol=BTCUSDT")
    assert state["error"]["status"] == 503
    message = page.locator("#message")
    assert message.is_visible()
    assert "Market data unavailable" in message.inner_text()
    assert "retrying" in message.inner_text() and "no data" in page.inner_text("#status")
    page.wait_for_function("window.chartState.polls >= 1 && window.chartState.error.status === 503")
    page.screenshot(path=str(tmp_path / "upstream-down.png"))
    assert unexpected(page.log.errors) == []


def test_page_helpers_in_the_browser(page, server):
    """The page's pure helpers, imported as the page imports them: lookback to bars, nearest levels, colour."""
    page.goto(f"{server}/chart")
    result = page.evaluate("""async () => {
        const {lookbackBars} = await import('/chart/static/controls.js');
        const {nearestLevels} = await import('/chart/static/hover.js');
        const {levelOf, LEVELS} = await import('/chart/static/heatmap.js');
        const levels = [100, 105, 110, 120, 150].map((price) => ({price}));
        return {
            bars: [['500', '1h'], ['7d', '1h'], ['7d', '4h'], ['30d', '15m'], ['1y', '1h'], ['x', '1h'], ['3', '1h']]
                .map(([l, t]) => lookbackBars(l, t)),
            near: [nearestLevels(levels, 108, 3), nearestLevels(levels, 0, 2), nearestLevels(levels, 999, 2),
                   nearestLevels([], 5, 3)].map((ls) => ls.map((l) => l.price)),
            colour: [levelOf(0, 10), levelOf(0.01, 10), levelOf(10, 10), levelOf(2.5, 10), levelOf(5, 0), LEVELS],
        };
    }""")
    assert result["bars"] == [500, 168, 42, 2880, 5000, 500, 20]
    assert result["near"] == [[110, 105, 100], [100, 105], [150, 120], []]
    levels = result["colour"][-1]
    assert result["colour"][:5] == [-1, -1, levels - 1, levels // 2, -1]
