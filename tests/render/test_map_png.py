"""The map picture: long liquidations drawn below the close, short ones above, stacked by leverage tier."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from indicator_server.overlays.liquidations import LiquidationParams, estimate_liquidations
from indicator_server.render import render_map_png
from indicator_server.render.map_png import map_canvas, tier_colors
from indicator_server.render.style import LONG, SHORT
from tests.render.conftest import meta_for


def codes(pixels: np.ndarray) -> np.ndarray:
    return pixels.astype(np.int64) @ [65536, 256, 1]


def code(color) -> int:
    return color[0] * 65536 + color[1] * 256 + color[2]


@pytest.mark.parametrize(("width", "height"), [(1200, 675), (500, 800)])
def test_png_of_the_asked_size_and_deterministic(estimate, width, height):
    bars, result, meta = estimate
    data = render_map_png(bars, result, meta, width=width, height=height)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert Image.open(io.BytesIO(data)).size == (width, height)
    assert render_map_png(bars, result, meta, width=width, height=height) == data


def test_long_bars_below_the_close_and_short_bars_above(estimate):
    bars, result, meta = estimate
    canvas = map_canvas(bars, result, meta)
    plot = canvas.plot
    pixels = codes(np.asarray(canvas.image)[plot.top:plot.bottom, plot.left:plot.right])
    close_row = float(plot.y_px(result.price)) - plot.top
    bin_px = plot.height / len(result.map["price"])
    long_rows = np.nonzero(np.isin(pixels, [code(c) for c in canvas.colors["long"]]).any(axis=1))[0]
    short_rows = np.nonzero(np.isin(pixels, [code(c) for c in canvas.colors["short"]]).any(axis=1))[0]
    assert len(long_rows) > 20 and len(short_rows) > 20
    assert long_rows.min() >= close_row - bin_px - 1  # image rows grow downwards: long bars sit below the close
    assert short_rows.max() <= close_row + bin_px + 1


def test_bar_lengths_follow_the_notional(estimate):
    """The bin holding the most long notional gets the longest long bar."""
    bars, result, meta = estimate
    canvas = map_canvas(bars, result, meta)
    plot, lmap = canvas.plot, result.map
    pixels = codes(np.asarray(canvas.image)[plot.top:plot.bottom, plot.left:plot.right])
    is_long = np.isin(pixels, [code(c) for c in canvas.colors["long"]])
    # a bar is the run of long pixels from the left edge (the dashed max-pain line, in the side's pure colour,
    # which is also the top tier's, may cross any row: its dashes are not counted past the first gap)
    lengths = np.where(is_long.all(axis=1), is_long.shape[1], np.argmin(is_long, axis=1))
    row = int(np.argmax(lengths))
    peak = int(np.argmax(lmap["long_usd"]))
    price_at_row = plot.y_range[1] - (row + 0.5) / plot.height * (plot.y_range[1] - plot.y_range[0])
    assert lmap["price_low"][peak] - (lmap["price_high"][0] - lmap["price_low"][0]) <= price_at_row
    assert price_at_row <= lmap["price_high"][peak] + (lmap["price_high"][0] - lmap["price_low"][0])
    assert lengths[row] / plot.width == pytest.approx(lmap["long_usd"][peak] / plot.x_range[1], abs=0.01)


def test_title_legend_and_max_pain_texts(estimate):
    bars, result, meta = estimate
    texts = map_canvas(bars, result, meta).texts
    assert "BTCUSDT 1h" in texts[0] and "liquidation map" in texts[0]
    assert f"{result.model['name']} {result.model['version']}" in texts[1]
    assert {"5x", "10x", "25x", "50x", "100x", "long", "short", "USD per bin"} <= set(texts)
    assert any(t.startswith("max pain long") for t in texts) and any(t.startswith("max pain short") for t in texts)


def test_a_leverage_filter_shows_only_its_tiers(btc_bars):
    result = estimate_liquidations(btc_bars, LiquidationParams(), bins=200, include=("map",), leverage=[50.0, 100.0])
    meta = meta_for(btc_bars, result, parameters={"lookback": "600", "leverage": [50.0, 100.0]})
    canvas = map_canvas(btc_bars, result, meta)
    assert {"50x", "100x"} <= set(canvas.texts) and "5x" not in canvas.texts
    assert "tiers 50x, 100x" in canvas.texts[1]


def test_tier_shades_run_from_light_to_the_pure_colour():
    shades = tier_colors(LONG, 5)
    assert shades[-1] == LONG and len(set(shades)) == 5 and sum(shades[0]) > sum(shades[-1])
    assert tier_colors(SHORT, 1) == [SHORT]
