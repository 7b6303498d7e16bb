"""A small raster canvas on Pillow: a plot rectangle with data-to-pixel mapping, nice ticks, texts it remembers.

Why not matplotlib: on this 2-core machine an empty matplotlib figure with one image and a title takes ~200 ms to
save (tick and text machinery in Python), the whole heatmap ~350 ms; Pillow with the cells mapped by numpy takes
a few tens of ms (benchmarks/bench_png.py). Deterministic: Pillow writes no timestamp or software chunk into the
PNG, so the same inputs give the same bytes in every worker.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

from .style import BACKGROUND, GRID, MUTED, PANEL, TEXT, font, utc_text


def nice_ticks(lo: float, hi: float, target: int) -> np.ndarray:
    """Round values inside [lo, hi], about ``target`` of them, spaced 1, 2, 2.5 or 5 x 10^k."""
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo:
        return np.array([lo]) if np.isfinite(lo) else np.zeros(0)
    raw = (hi - lo) / max(1, target)
    mag = 10 ** np.floor(np.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    return np.arange(np.ceil(lo / step) * step, hi + step * 1e-9, step)


_TIME_STEPS_MS = [m * 60_000 for m in (1, 5, 15, 30, 60, 120, 180, 240, 360, 720, 1440, 2880, 10080, 20160, 43200,
                                       86400, 129600, 525600)]


def time_ticks(lo_ms: int, hi_ms: int, target: int) -> tuple[np.ndarray, list[str]]:
    """UTC tick times on whole steps (1m .. 1y) and their labels: the date at midnight, else HH:MM."""
    span = max(1, hi_ms - lo_ms)
    step = next((s for s in _TIME_STEPS_MS if span / s <= max(2, target)), _TIME_STEPS_MS[-1])
    ticks = np.arange(-(-lo_ms // step) * step, hi_ms + 1, step, dtype="int64")
    labels = []
    for t in ticks:
        midnight = t % 86_400_000 == 0
        labels.append(utc_text(t, "%b %d") if midnight or step >= 86_400_000 else utc_text(t, "%H:%M"))
    return ticks, labels


# zlib level 1: a 500 x 500 heatmap at 1200x675 encodes in ~30-40 ms instead of ~90-200 ms at Pillow's default 6,
# for a file ~50% larger (~300 KB instead of ~200 KB): far below what Discord or Telegram accept
PNG_COMPRESS_LEVEL = 1


@dataclass
class Plot:
    """The plot rectangle in pixels [left, right) x [top, bottom) and its data ranges (y grows upwards)."""

    left: int
    top: int
    right: int
    bottom: int
    x_range: tuple[float, float]
    y_range: tuple[float, float]

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    def x_px(self, x):
        lo, hi = self.x_range
        return self.left + (np.asarray(x, dtype="float64") - lo) / (hi - lo) * self.width

    def y_px(self, y):
        lo, hi = self.y_range
        return self.bottom - (np.asarray(y, dtype="float64") - lo) / (hi - lo) * self.height

    def column_values(self):
        """Data x at the centre of every pixel column."""
        lo, hi = self.x_range
        return lo + (np.arange(self.width) + 0.5) / self.width * (hi - lo)

    def row_values(self):
        """Data y at the centre of every pixel row, top row first."""
        lo, hi = self.y_range
        return hi - (np.arange(self.height) + 0.5) / self.height * (hi - lo)


@dataclass
class Canvas:
    width: int
    height: int
    scale: float = 1.0
    texts: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.image = Image.new("RGB", (self.width, self.height), BACKGROUND)
        self.draw = ImageDraw.Draw(self.image)

    def px(self, points: float) -> int:
        return max(1, round(points * self.scale))

    def text(self, xy, text: str, size: float = 11, fill=TEXT, anchor: str = "la", bold: bool = False) -> None:
        self.texts.append(text)
        self.draw.text((round(xy[0]), round(xy[1])), text, font=font(self.px(size), bold), fill=fill, anchor=anchor)

    def text_width(self, text: str, size: float = 11, bold: bool = False) -> int:
        return int(self.draw.textlength(text, font=font(self.px(size), bold)))

    def panel(self, plot: Plot) -> None:
        self.draw.rectangle([plot.left, plot.top, plot.right - 1, plot.bottom - 1], fill=PANEL)

    def frame(self, plot: Plot) -> None:
        self.draw.rectangle([plot.left - 1, plot.top - 1, plot.right, plot.bottom], outline=GRID)

    def paste(self, rgb: np.ndarray, left: int, top: int) -> None:
        self.image.paste(Image.fromarray(np.ascontiguousarray(rgb, dtype="uint8"), "RGB"), (left, top))

    def paste_indexed(self, index: np.ndarray, palette: np.ndarray, left: int, top: int) -> None:
        """An H x W uint8 array of palette indices (palette: 256 x 3 uint8), converted in C by Pillow."""
        tile = Image.fromarray(np.ascontiguousarray(index, dtype="uint8"), "L").convert("P")
        tile.putpalette(palette.tobytes())
        self.image.paste(tile.convert("RGB"), (left, top))

    def hline(self, plot: Plot, y: float, fill, dash: int = 0, width: int = 1) -> None:
        yp = round(float(plot.y_px(y)))
        if not plot.top <= yp < plot.bottom:
            return
        if not dash:
            self.draw.line([plot.left, yp, plot.right - 1, yp], fill=fill, width=width)
            return
        for x in range(plot.left, plot.right, 2 * dash):
            self.draw.line([x, yp, min(x + dash, plot.right) - 1, yp], fill=fill, width=width)

    def y_axis(self, plot: Plot, values, labels, *, grid: bool = False, avoid: tuple[float, ...] = ()) -> None:
        """Ticks and labels right of the plot (TradingView puts prices on the right); no label within 16 px of a
        price in ``avoid`` (the close's own label sits there)."""
        keep_out = [float(plot.y_px(a)) for a in avoid if a is not None]
        for v, label in zip(values, labels, strict=True):
            y = round(float(plot.y_px(v)))
            if not plot.top <= y <= plot.bottom:
                continue
            if any(abs(y - k) < self.px(16) for k in keep_out):
                continue
            if grid:
                self.draw.line([plot.left, y, plot.right - 1, y], fill=GRID)
            self.draw.line([plot.right, y, plot.right + self.px(4), y], fill=MUTED)
            self.text((plot.right + self.px(7), y), label, size=11, anchor="lm")

    def x_axis(self, plot: Plot, values, labels, *, grid: bool = False, title: str = "") -> None:
        for v, label in zip(values, labels, strict=True):
            x = round(float(plot.x_px(v)))
            if not plot.left <= x <= plot.right:
                continue
            if grid:
                self.draw.line([x, plot.top, x, plot.bottom - 1], fill=GRID)
            self.draw.line([x, plot.bottom, x, plot.bottom + self.px(4)], fill=MUTED)
            self.text((x, plot.bottom + self.px(6)), label, size=11, anchor="ma")
        if title:
            self.text((plot.right, plot.bottom + self.px(6)), title, size=9, fill=MUTED, anchor="ra")

    def png(self, compress_level: int = PNG_COMPRESS_LEVEL) -> bytes:
        buffer = io.BytesIO()
        self.image.save(buffer, format="PNG", compress_level=compress_level)
        return buffer.getvalue()
