"""The title block of every picture: what, where, when, from which model; and the layout around the plot."""

from __future__ import annotations

from typing import Any

from .canvas import Canvas, Plot
from .style import BACKGROUND, MUTED, PRICE_LINE, TEXT, WARNING, price_text, utc_text


def heading(meta: dict[str, Any], result, view: str) -> tuple[str, str]:
    """Title (symbol, timeframe, exchange, view, time of the last close) and subtitle (bars, lookback, tiers,
    close, model name and version, max pain)."""
    model = meta.get("model") or {}
    fresh = meta.get("freshness") or {}
    stale = " (stale data)" if fresh.get("stale") else ""
    title = (f"{meta.get('symbol', '')} {meta.get('timeframe', '')} · {meta.get('exchange', '')} · liquidation "
             f"{view} · {utc_text(fresh.get('last_bar_close'))}{stale}")
    params = meta.get("parameters") or {}
    leverage = params.get("leverage")
    tiers = "all leverage tiers" if not leverage else "tiers " + ", ".join(f"{x:g}x" for x in leverage)
    pain = result.max_pain or {}
    pains = " / ".join(f"{side} {price_text((pain.get(side) or {}).get('price'))}"
                       for side in ("long", "short") if pain.get(side))
    subtitle = (f"{meta.get('bars', 0)} bars (lookback {params.get('lookback', '?')}), {tiers} · close "
                f"{price_text(result.price)} · model {model.get('name', '?')} {model.get('version', '')}"
                + (f" · max pain {pains}" if pains else ""))
    return title, subtitle


def new_canvas(width: int, height: int, right: int) -> tuple[Canvas, Plot]:
    """A canvas with the plot rectangle inside fixed margins (``right``: room for labels and the scale)."""
    scale = max(0.75, min(2.0, min(width / 1200, height / 675)))
    canvas = Canvas(width, height, scale)
    plot = Plot(left=canvas.px(14), top=canvas.px(58), right=width - canvas.px(right), bottom=height - canvas.px(34),
                x_range=(0.0, 1.0), y_range=(0.0, 1.0))
    return canvas, plot


def draw_heading(canvas: Canvas, plot: Plot, title: str, subtitle: str, warnings: list[str]) -> None:
    canvas.text((plot.left, canvas.px(10)), title, size=16, bold=True)
    canvas.text((plot.left, canvas.px(35)), subtitle, size=12, fill=MUTED)
    if warnings:
        canvas.text((plot.left, canvas.height - canvas.px(3)), ("warning: " + "; ".join(warnings))[:180], size=9,
                    fill=WARNING, anchor="ld")


def axis_note(canvas: Canvas, plot: Plot, text: str) -> None:
    canvas.text((plot.right + canvas.px(7), plot.bottom + canvas.px(6)), text, size=9, fill=TEXT, anchor="la")


def draw_close(canvas: Canvas, plot: Plot, price: float | None) -> None:
    """The last close: a dashed line across the plot and its price in a tag on the right axis."""
    if price is None:
        return
    canvas.hline(plot, price, PRICE_LINE, dash=4)
    y = float(plot.y_px(price))
    label = price_text(price)
    w = canvas.text_width(label, 11) + canvas.px(8)
    canvas.draw.rectangle([plot.right + 1, round(y) - canvas.px(8), plot.right + 1 + w, round(y) + canvas.px(8)],
                          fill=PRICE_LINE)
    canvas.text((plot.right + canvas.px(5), y), label, size=11, fill=BACKGROUND, anchor="lm")
