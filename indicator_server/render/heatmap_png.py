"""The liquidation heatmap as a picture for bots: still-open notional per (time, price) cell behind the candles.

The model's grid (``LiquidationResult.heatmap``: rows = sampled bars holding the notional open at that bar's close,
columns = price bins) is mapped to pixels with numpy (each pixel takes the largest cell it covers, so thin dense
bins stay visible when there are more bins than pixels), coloured with viridis on a square-root scale clipped at
the 99th percentile of the non-empty cells (one huge cell must not darken the rest), candles on top, the last close
as a dashed line, and a colour scale in USD per bin.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..timeframes import timeframe_ms
from .canvas import Canvas, Plot, nice_ticks, time_ticks
from .heading import axis_note, draw_close, draw_heading, heading, new_canvas
from .style import DOWN, GRID, MUTED, UP, price_decimals, usd_text, viridis_lut

CLIP_PERCENTILE = 99.0
GAMMA = 0.5


def color_limit(values: np.ndarray) -> float:
    """The USD amount drawn in the brightest colour: the 99th percentile of the non-empty cells."""
    positive = values[values > 0]
    return float(max(np.percentile(positive, CLIP_PERCENTILE), 1e-9)) if len(positive) else 1.0


def color_index(values: np.ndarray, vmax: float) -> np.ndarray:
    """0..255 index into the colour table: sqrt(v / vmax) (GAMMA 0.5), clipped; 0 for empty cells."""
    scaled = np.sqrt(np.clip(values * (1.0 / vmax), 0.0, 1.0))
    scaled *= 255.0
    scaled += 0.5
    return scaled.astype("uint8")


def _cover(edges_px_data: np.ndarray, cell_lo: float, cell_size: float, n_cells: int) -> np.ndarray:
    """First cell each pixel covers (pixel boundaries given in data units, increasing)."""
    return np.clip(np.floor((edges_px_data - cell_lo) / cell_size), 0, n_cells - 1).astype("int64")


def _pick(grid: np.ndarray, first: np.ndarray, axis: int) -> np.ndarray:
    """Per pixel along ``axis``, the largest cell from ``first[i]`` up to ``first[i + 1]`` (exclusive); the one
    cell when pixels outnumber cells (``np.maximum.reduceat`` semantics, ``take`` being the faster case)."""
    if len(first) < 2 or np.all(np.diff(first) <= 1):
        return np.take(grid, first, axis=axis)
    return np.maximum.reduceat(grid, first, axis=axis)


def heat_pixels(values: np.ndarray, plot: Plot, t0: float, cell_ms: float, p0: float, bin_size: float) -> np.ndarray:
    """The H x W grid of ``values`` per pixel (top row first): each pixel holds the largest cell it covers, so a
    thin dense bin stays visible when there are more bins than pixel rows; pixels outside the cells' time are 0."""
    rows, bins = values.shape
    xlo, xhi = plot.x_range
    x_edges = xlo + np.arange(plot.width) / plot.width * (xhi - xlo)
    cols = _cover(x_edges, t0, cell_ms, rows)
    ylo, yhi = plot.y_range
    y_edges = ylo + np.arange(plot.height) / plot.height * (yhi - ylo)  # bottom pixel row first
    pix_bins = _cover(y_edges, p0, bin_size, bins)
    grid = _pick(_pick(values, cols, axis=0), pix_bins, axis=1)  # W x H (bottom first)
    inside_x = (x_edges + (xhi - xlo) / plot.width > t0) & (x_edges < t0 + rows * cell_ms)
    grid[~inside_x] = 0
    return grid.T[::-1]


def draw_candles(canvas: Canvas, plot: Plot, bars: pd.DataFrame, step_ms: int) -> None:
    """One candle per group of k bars so each stays at least ~3 px wide (open of the first, close of the last)."""
    n = len(bars)
    k = max(1, -(-n // max(1, plot.width // 3)))
    group = (np.arange(n)[::-1] // k)[::-1]
    starts = np.flatnonzero(np.r_[True, np.diff(group) != 0])
    ends = np.r_[starts[1:], n] - 1
    t = bars["time"].to_numpy("int64")
    o, c = bars["open"].to_numpy(float)[starts], bars["close"].to_numpy(float)[ends]
    h = np.maximum.reduceat(bars["high"].to_numpy(float), starts)
    lo = np.minimum.reduceat(bars["low"].to_numpy(float), starts)
    left, right = plot.x_px(t[starts]), plot.x_px(t[ends] + step_ms)
    half = np.maximum(0.0, (right - left) * 0.35 - 0.5)
    mid = (left + right) / 2
    yo, yc, yh, yl = plot.y_px(o), plot.y_px(c), plot.y_px(h), plot.y_px(lo)
    draw = canvas.draw
    for i in range(len(starts)):
        if not np.isfinite(yh[i] + yl[i] + yo[i] + yc[i]):
            continue
        color = UP if c[i] >= o[i] else DOWN
        x = round(mid[i])
        draw.line([x, round(yh[i]), x, round(yl[i])], fill=color)
        top, bottom = sorted((round(yo[i]), round(yc[i])))
        draw.rectangle([round(mid[i] - half[i]), top, round(mid[i] + half[i]), max(top, bottom)], fill=color)


def draw_scale(canvas: Canvas, plot: Plot, vmax: float, title: str) -> tuple[int, int]:
    """The vertical colour scale right of the price labels, ticks at equal steps of colour; its x extent."""
    lut = viridis_lut()
    left = plot.right + canvas.px(78)
    width = canvas.px(12)
    strip = lut[np.round(np.linspace(255, 0, plot.height)).astype(int)]
    canvas.paste(np.repeat(strip[:, None, :], width, axis=1), left, plot.top)
    canvas.draw.rectangle([left - 1, plot.top - 1, left + width, plot.bottom], outline=GRID)
    for q in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = round(plot.bottom - q * plot.height)
        canvas.draw.line([left + width, y, left + width + canvas.px(3), y], fill=MUTED)
        canvas.text((left + width + canvas.px(5), min(max(y, plot.top + canvas.px(6)), plot.bottom - canvas.px(6))),
                    usd_text(vmax * q ** (1 / GAMMA)) + ("+" if q == 1.0 else ""), size=9, anchor="lm")
    canvas.text((canvas.width - canvas.px(4), plot.top - canvas.px(4)), title, size=9, fill=MUTED, anchor="rd")
    return left, left + width


def heatmap_canvas(bars: pd.DataFrame, result, meta: dict[str, Any], *, width: int = 1200,
                   height: int = 675) -> Canvas:
    """The drawn canvas (``.image``, ``.texts``, ``.plot``, ``.vmax``): tests look at it before PNG encoding."""
    canvas, plot = new_canvas(width, height, right=160)
    title, subtitle = heading(meta, result, "heatmap")
    draw_heading(canvas, plot, title, subtitle, list(meta.get("warnings") or []))
    step = timeframe_ms(meta.get("timeframe") or "1h")
    heat = result.heatmap
    values = np.asarray(heat["values"], dtype="float64") if heat is not None else np.zeros((0, 0))
    if len(bars):
        plot.x_range = (float(bars["time"].iloc[0]), float(bars["time"].iloc[-1] + step))
    if values.size:
        plot.y_range = (float(heat["price_low"][0]), float(heat["price_high"][-1]))
    elif len(bars):
        plot.y_range = (float(bars["low"].min()) * 0.99, float(bars["high"].max()) * 1.01)
    canvas.panel(plot)
    vmax = color_limit(values)
    if values.size:
        stride = int(heat.get("stride", 1))
        times = np.asarray(heat["time"], dtype="int64")
        t0 = float(times[0] - (stride - 1) * step)
        # colour first (monotone, so the max over cells commutes with it), then map the small uint8 grid to pixels
        index = heat_pixels(color_index(values, vmax), plot, t0, stride * step, float(heat["price_low"][0]),
                            float(heat["price_high"][0] - heat["price_low"][0]))
        canvas.paste_indexed(index, viridis_lut(), plot.left, plot.top)
    if len(bars):
        draw_candles(canvas, plot, bars, step)
    canvas.frame(plot)
    decimals = price_decimals(result.price)
    ticks = nice_ticks(*plot.y_range, target=max(4, plot.height // 60))
    canvas.y_axis(plot, ticks, [f"{v:,.{decimals}f}" for v in ticks], avoid=(result.price,))
    tt, labels = time_ticks(int(plot.x_range[0]), int(plot.x_range[1]), target=max(3, plot.width // 110))
    canvas.x_axis(plot, tt, labels)
    axis_note(canvas, plot, "UTC")
    draw_close(canvas, plot, result.price)
    draw_scale(canvas, plot, vmax, "open USD per bin")
    canvas.plot, canvas.vmax = plot, vmax
    return canvas


def render_heatmap_png(bars: pd.DataFrame, result, meta: dict[str, Any], *, width: int = 1200,
                       height: int = 675) -> bytes:
    """PNG bytes: ``bars`` (time, open, high, low, close; oldest first), ``result`` a ``LiquidationResult`` with
    its heatmap, ``meta`` as the liquidations endpoint answers it (symbol, timeframe, exchange, bars, freshness,
    model, parameters, warnings)."""
    return heatmap_canvas(bars, result, meta, width=width, height=height).png()
