"""The heatmap picture: a PNG of the asked size, deterministic, with the heatmap's colours, candles and title."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from PIL import Image

from indicator_server.overlays.liquidations import estimate_liquidations
from indicator_server.render import render_heatmap_png
from indicator_server.render.canvas import Plot, nice_ticks, time_ticks
from indicator_server.render.heatmap_png import color_limit, heat_pixels, heatmap_canvas
from indicator_server.render.style import DOWN, UP, viridis_lut
from tests.render.conftest import meta_for

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_chunks(data: bytes) -> list[bytes]:
    out, pos = [], 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        out.append(kind)
        pos += 12 + length
    return out


@pytest.mark.parametrize(("width", "height"), [(1200, 675), (400, 300), (1920, 1080)])
def test_png_of_the_asked_size(estimate, width, height):
    bars, result, meta = estimate
    data = render_heatmap_png(bars, result, meta, width=width, height=height)
    assert data[:8] == PNG_MAGIC
    image = Image.open(io.BytesIO(data))
    assert image.size == (width, height) and image.mode == "RGB"


def test_same_inputs_give_the_same_bytes_and_no_varying_chunks(estimate):
    bars, result, meta = estimate
    first, second = (render_heatmap_png(bars, result, meta) for _ in range(2))
    assert first == second
    assert set(png_chunks(first)) <= {b"IHDR", b"IDAT", b"IEND", b"pHYs"}  # no tIME, tEXt (software, date)


def test_the_heatmap_colours_are_in_the_pixels(estimate):
    bars, result, meta = estimate
    canvas = heatmap_canvas(bars, result, meta)
    plot = canvas.plot
    pixels = np.asarray(Image.open(io.BytesIO(canvas.png())))[plot.top:plot.bottom, plot.left:plot.right]
    lut = viridis_lut()
    codes = pixels.reshape(-1, 3).astype(np.int64) @ [65536, 256, 1]
    lut_codes = lut.astype(np.int64) @ [65536, 256, 1]
    present = np.isin(lut_codes, codes)
    assert present[255] and present[0]  # the brightest (>= 99th percentile cells) and the empty colour
    assert present.sum() > 150  # the square-root scale spreads the cells over most of the table
    assert np.isin(codes, lut.astype(np.int64) @ [65536, 256, 1]).mean() > 0.6  # mostly heatmap behind candles
    for color in (UP, DOWN):
        assert (codes == np.int64(color[0] * 65536 + color[1] * 256 + color[2])).sum() > 100  # candles drawn


def test_the_largest_cell_is_drawn_where_its_time_and_price_are(estimate):
    bars, result, meta = estimate
    canvas = heatmap_canvas(bars, result, meta)
    plot, heat = canvas.plot, result.heatmap
    values = heat["values"]
    t, p = np.unravel_index(np.argmax(values), values.shape)
    step = 3_600_000
    x = int(plot.x_px(heat["time"][t] + step / 2)) - plot.left
    y = int(plot.y_px(heat["price"][p])) - plot.top
    pixels = np.asarray(canvas.image)[plot.top:plot.bottom, plot.left:plot.right]
    window = pixels[max(0, y - 2):y + 3, max(0, x - 2):x + 3].reshape(-1, 3)
    assert (window == viridis_lut()[255]).all(axis=1).any()


def test_title_says_symbol_timeframe_time_and_model(estimate):
    bars, result, meta = estimate
    texts = heatmap_canvas(bars, result, meta).texts
    title, subtitle = texts[0], texts[1]
    assert "BTCUSDT 1h" in title and "binance" in title and "heatmap" in title
    assert title.endswith(meta_time(meta))
    assert f"model {result.model['name']} {result.model['version']}" in subtitle and "600 bars" in subtitle
    assert "UTC" in texts and any(t.startswith("$") for t in texts)  # time axis note, colour-scale amounts
    price_labels = [t for t in texts if t.replace(",", "").isdigit()]
    assert len(price_labels) >= 4


def meta_time(meta) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(meta["freshness"]["last_bar_close"] / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def test_warnings_and_stale_data_are_written_on_the_picture(btc_bars):
    bars = btc_bars.iloc[:20].reset_index(drop=True)
    result = estimate_liquidations(bars, include=("heatmap",), bins=50)
    meta = meta_for(bars, result, freshness={"last_bar_close": int(bars["time"].iloc[-1]) + 3_600_000,
                                             "stale": True})
    canvas = heatmap_canvas(bars, result, meta, width=600, height=400)
    assert "(stale data)" in canvas.texts[0]
    assert any(t.startswith("warning: only 20 bars") for t in canvas.texts)


def test_each_pixel_keeps_the_largest_cell_it_covers():
    values = np.zeros((3, 2000))
    values[1, 1234] = 5.0  # one thin bin among 2,000 drawn into 100 pixel rows
    plot = Plot(0, 0, 30, 100, x_range=(0.0, 3.0), y_range=(0.0, 2000.0))
    grid = heat_pixels(values, plot, 0.0, 1.0, 0.0, 1.0)
    assert grid.shape == (100, 30)
    rows, cols = np.nonzero(grid)
    assert set(cols) == set(range(10, 20)) and set(rows) == {100 - 1 - 1234 // 20}


def test_color_limit_is_the_99th_percentile_of_non_empty_cells():
    values = np.concatenate([np.zeros(1000), np.arange(1, 101, dtype=float)])
    assert color_limit(values) == pytest.approx(np.percentile(np.arange(1, 101), 99))
    assert color_limit(np.zeros(5)) == 1.0


def test_ticks_are_round_and_inside():
    ticks = nice_ticks(74_321.0, 96_800.0, 6)
    assert ticks[0] >= 74_321 and ticks[-1] <= 96_800 and np.all(ticks % 1000 == 0) and 4 <= len(ticks) <= 10
    times, labels = time_ticks(1_780_000_000_000, 1_780_000_000_000 + 7 * 86_400_000, 8)
    assert np.all(np.diff(times) == 86_400_000) and all(len(label) == 6 for label in labels)  # "May 28"
    times, labels = time_ticks(1_780_000_000_000, 1_780_000_000_000 + 6 * 3_600_000, 6)
    assert all(":" in label or " " in label for label in labels) and np.all(times % 3_600_000 == 0)
