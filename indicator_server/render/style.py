"""What every picture shares: the dark palette, fonts, and how prices, amounts and UTC times are written.

Pure (no Flask). The palette is TradingView's dark theme, which reads well in Discord's and Telegram's dark clients.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import matplotlib
import numpy as np
from PIL import ImageFont

BACKGROUND = (19, 23, 34)
PANEL = (22, 26, 37)
TEXT = (209, 212, 220)
MUTED = (120, 123, 134)
GRID = (42, 46, 57)
UP = (38, 166, 154)
DOWN = (239, 83, 80)
PRICE_LINE = (255, 255, 255)
WARNING = (255, 152, 0)
LONG = (242, 54, 69)  # long liquidations: forced sells, below price
SHORT = (8, 153, 129)  # short liquidations: forced buys, above price

# DejaVu Sans ships with matplotlib (a dependency), so every worker draws with the same font file
_FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"


@lru_cache(maxsize=32)
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(_FONTS / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")), size)


def viridis_lut() -> np.ndarray:
    """256 x 3 uint8: matplotlib's viridis (the perceptually uniform map Coinglass-like heatmaps use)."""
    return _VIRIDIS


_VIRIDIS = (matplotlib.colormaps["viridis"](np.linspace(0, 1, 256))[:, :3] * 255).round().astype("uint8")


def utc_text(ms: int | None, fmt: str = "%Y-%m-%d %H:%M UTC") -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(int(ms) / 1000, tz=UTC).strftime(fmt)


def price_decimals(price: float | None) -> int:
    """Decimals a price is read with: 82,821 -> 0, 152.37 -> 2, 0.04312 -> 6."""
    if price is None or not np.isfinite(price) or price <= 0:
        return 2
    return int(min(8, max(0, 4 - math.floor(math.log10(price)))))


def price_text(price: float | None, decimals: int | None = None) -> str:
    if price is None or not np.isfinite(price):
        return "-"
    return f"{price:,.{price_decimals(price) if decimals is None else decimals}f}"


def usd_text(usd: float) -> str:
    """$1.25B, $4.5M, $12.3K, $950: up to two decimals below 100 of the unit, none from there (tick values such as
    $1.25M must not read $1.2M)."""
    a = abs(usd)
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if a >= size:
            if a >= 100 * size:
                return f"${usd / size:,.0f}{unit}"
            return "$" + f"{usd / size:.2f}".rstrip("0").rstrip(".") + unit
    return f"${usd:,.0f}"
