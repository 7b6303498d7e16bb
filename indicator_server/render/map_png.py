"""The liquidation map as a picture for bots: open notional per price bin as horizontal bars, long liquidations
below the last close and short ones above, stacked by leverage tier, with the cumulative curves (notional liquidated
on the way from the close to a price), max pain and the close.

Bars are rasterised with numpy into palette indices (one colour per side and tier, lighter = lower leverage);
when there are more bins than pixel rows, a pixel row sums the bins it covers so no notional disappears.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .canvas import Canvas, Plot, nice_ticks
from .heading import axis_note, draw_close, draw_heading, heading, new_canvas
from .style import LONG, MUTED, PANEL, SHORT, TEXT, price_decimals, price_text, usd_text


def tier_colors(base: tuple[int, int, int], count: int) -> list[tuple[int, int, int]]:
    """``count`` shades of ``base``: the lowest leverage mixed 55% with white, the highest the pure colour."""
    mix = np.linspace(0.55, 0.0, count) if count > 1 else np.zeros(1)
    return [tuple(int(round(c + (255 - c) * m)) for c in base) for m in mix]


def _stack(lmap: dict[str, Any]) -> tuple[np.ndarray, list[str], list[tuple[str, str]]]:
    """bins x segments (long tiers, then short tiers) of USD, with each segment's tier name and side."""
    tiers = list(lmap["by_leverage"])
    cols, names = [], []
    for side in ("long", "short"):
        for t in tiers:
            cols.append(np.asarray(lmap["by_leverage"][t][f"{side}_usd"], dtype="float64"))
            names.append((side, t))
    if not cols:  # no tier breakdown: one segment per side
        cols = [np.asarray(lmap["long_usd"], float), np.asarray(lmap["short_usd"], float)]
        names, tiers = [("long", "all"), ("short", "all")], ["all"]
    return np.column_stack(cols), tiers, names


def bar_pixels(stack: np.ndarray, plot: Plot, p0: float, bin_size: float) -> tuple[np.ndarray, float]:
    """H x W palette indices (0 = empty, k + 1 = segment k) and the USD at the right edge of the plot."""
    bins = stack.shape[0]
    ylo, yhi = plot.y_range
    y_edges = ylo + np.arange(plot.height) / plot.height * (yhi - ylo)  # bottom pixel row first
    first = np.clip(np.floor((y_edges - p0) / bin_size), 0, bins - 1).astype("int64")
    rows = np.add.reduceat(stack, first, axis=0)[::-1]  # H x segments, top row first
    xmax = float(rows.sum(axis=1).max()) * 1.08 if rows.size and rows.sum() > 0 else 1.0
    cum = np.cumsum(rows, axis=1)
    x = (np.arange(plot.width) + 0.5) / plot.width * xmax
    segment = np.zeros((plot.height, plot.width), dtype="uint8")
    for k in range(cum.shape[1]):
        segment += x[None, :] > cum[:, k][:, None]
    index = np.where(segment < cum.shape[1], segment + 1, 0).astype("uint8")
    return index, xmax


def draw_legend(canvas: Canvas, plot: Plot, tiers: list[str], long_colors, short_colors) -> None:
    """The colour scale: one swatch per tier and side."""
    x = plot.right + canvas.px(80)
    y = plot.top + canvas.px(4)
    canvas.text((x, y), "leverage", size=10, fill=MUTED)
    sw = canvas.px(12)
    columns = ((x + canvas.px(40), "long", LONG), (x + canvas.px(80), "short", SHORT))
    for left, name, color in columns:
        canvas.text((left + sw // 2, y + canvas.px(18)), name, size=9, fill=color, anchor="ma")
    for i, tier in enumerate(tiers):
        row = y + canvas.px(36) + i * canvas.px(18)
        canvas.text((x, row + sw // 2), f"{tier}x" if tier != "all" else "all", size=10, anchor="lm")
        for (left, _, _), color in zip(columns, (long_colors[i], short_colors[i]), strict=True):
            canvas.draw.rectangle([left, row, left + sw, row + sw], fill=color)
    note = y + canvas.px(46) + len(tiers) * canvas.px(18)
    canvas.text((x, note), "long: below close", size=9, fill=LONG)
    canvas.text((x, note + canvas.px(14)), "short: above close", size=9, fill=SHORT)


def map_canvas(bars: pd.DataFrame, result, meta: dict[str, Any], *, width: int = 1200, height: int = 675) -> Canvas:
    """The drawn canvas (``.image``, ``.texts``, ``.plot``, ``.colors``: side -> tier colours)."""
    canvas, plot = new_canvas(width, height, right=190)
    title, subtitle = heading(meta, result, "map")
    draw_heading(canvas, plot, title, subtitle, list(meta.get("warnings") or []))
    lmap = result.map
    canvas.panel(plot)
    long_colors: list = []
    short_colors: list = []
    tiers: list[str] = []
    if lmap is not None and len(lmap["price_low"]):
        plot.y_range = (float(lmap["price_low"][0]), float(lmap["price_high"][-1]))
        stack, tiers, names = _stack(lmap)
        long_colors, short_colors = tier_colors(LONG, len(tiers)), tier_colors(SHORT, len(tiers))
        palette = [PANEL] + [(long_colors if side == "long" else short_colors)[tiers.index(t)] for side, t in names]
        table = np.zeros((256, 3), dtype="uint8")
        table[: len(palette)] = np.asarray(palette, dtype="uint8")
        bin_size = float(lmap["price_high"][0] - lmap["price_low"][0])
        index, xmax = bar_pixels(stack, plot, float(lmap["price_low"][0]), bin_size)
        plot.x_range = (0.0, xmax)
        canvas.paste_indexed(index, table, plot.left, plot.top)
        _cumulative(canvas, plot, lmap)
        ticks = nice_ticks(0.0, xmax, target=max(3, plot.width // 140))
        canvas.x_axis(plot, ticks, [usd_text(v) for v in ticks])
        axis_note(canvas, plot, "USD per bin")
    canvas.frame(plot)
    decimals = price_decimals(result.price)
    yt = nice_ticks(*plot.y_range, target=max(4, plot.height // 60))
    canvas.y_axis(plot, yt, [f"{v:,.{decimals}f}" for v in yt], avoid=(result.price,))
    _marks(canvas, plot, result)
    draw_legend(canvas, plot, tiers, long_colors, short_colors)
    canvas.plot, canvas.colors = plot, {"long": long_colors, "short": short_colors}
    return canvas


def _cumulative(canvas: Canvas, plot: Plot, lmap: dict[str, Any]) -> None:
    """The cumulative curves on their own scale (top of the plot), long below the close and short above."""
    mids = np.asarray(lmap["price"], dtype="float64")
    cum_max = max(float(np.max(lmap["long_cum_usd"], initial=0)), float(np.max(lmap["short_cum_usd"], initial=0)))
    if cum_max <= 0:
        return
    for side, color in (("long", LONG), ("short", SHORT)):
        cum = np.asarray(lmap[f"{side}_cum_usd"], dtype="float64")
        sel = cum > 0
        if sel.sum() < 2:
            continue
        xs = plot.left + cum[sel] / (cum_max * 1.08) * plot.width
        ys = plot.y_px(mids[sel])
        canvas.draw.line(list(zip(np.round(xs).tolist(), np.round(ys).tolist(), strict=True)), fill=color, width=2)
    canvas.text((plot.right - canvas.px(6), plot.top + canvas.px(6)),
                f"lines: cumulative liquidations from the close (full width {usd_text(cum_max * 1.08)})", size=10,
                fill=TEXT, anchor="ra")


def _marks(canvas: Canvas, plot: Plot, result) -> None:
    pad = canvas.px(6)
    for side, color in (("long", LONG), ("short", SHORT)):
        pain = (result.max_pain or {}).get(side)
        if not pain:
            continue
        canvas.hline(plot, pain["price"], color, dash=6)
        y = float(plot.y_px(pain["price"]))
        if plot.top <= y <= plot.bottom:
            canvas.text((plot.right - pad, y + (-pad if side == "short" else pad)),
                        f"max pain {side} {price_text(pain['price'])} · {usd_text(pain['notional_usd'])} on the way",
                        size=10, fill=color, anchor="rd" if side == "short" else "ra")
    draw_close(canvas, plot, result.price)


def render_map_png(bars: pd.DataFrame, result, meta: dict[str, Any], *, width: int = 1200,
                   height: int = 675) -> bytes:
    """PNG bytes of the map: ``result`` a ``LiquidationResult`` with its map (``bars`` unused but taken for the
    same signature as ``render_heatmap_png``)."""
    return map_canvas(bars, result, meta, width=width, height=height).png()
