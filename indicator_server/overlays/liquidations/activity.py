"""What the cascade view needs from a window's bars (``cascade.py``): each bar's price range and per-hour quote
volume, the typical hourly volume at a price, and the daily scales of the square-root impact law. Pure maths.

- Per-hour quote volume of a bar: quote volume / bar hours (volume x close where the quote volume is missing), so
  bars of any timeframe count per hour.
- Typical hourly volume at a price: the median per-hour quote volume of the bars whose [low, high] contains the
  price; with no such bar, the window's median per-hour quote volume.
- sigma_D: standard deviation of log close-to-close returns x sqrt(24 / bar hours); V_D: mean per-hour quote
  volume x 24 (Toth et al. 2011 state the square-root law with the daily volatility and daily volume).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .flow import bar_hours, column


@dataclass(frozen=True)
class Activity:
    """What the cascade needs from the window's bars: the range and per-hour quote volume of every bar with a
    known volume (sorted by that volume), plus the square-root law's daily scales."""

    low: np.ndarray
    high: np.ndarray
    hourly_volume: np.ndarray  # quote volume per hour, ascending
    daily_vol: float  # sigma_D, fraction
    daily_volume: float  # V_D, USD

    @property
    def median_hourly_volume(self) -> float:
        return float(np.median(self.hourly_volume)) if len(self.hourly_volume) else float("nan")


def activity(low: np.ndarray, high: np.ndarray, close: np.ndarray, quote: np.ndarray, bar_hours: float) -> Activity:
    """The bars' activity: quote volume per hour (``quote`` may hold NaN), sigma_D = std of log close returns x
    sqrt(24 / bar_hours), V_D = mean per-hour quote volume x 24."""
    hours = bar_hours if bar_hours > 0 else 1.0
    low, high, close = (np.asarray(a, dtype="float64") for a in (low, high, close))
    per_hour = np.asarray(quote, dtype="float64") / hours
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.diff(np.log(close))
    r = r[np.isfinite(r)]
    sigma = float(np.std(r, ddof=1) * np.sqrt(24.0 / hours)) if len(r) >= 2 else 0.0
    ok = np.isfinite(per_hour) & (per_hour > 0) & np.isfinite(low) & np.isfinite(high)
    daily = float(per_hour[ok].mean() * 24.0) if ok.any() else float("nan")
    order = np.argsort(per_hour[ok], kind="stable")
    return Activity(low[ok][order], high[ok][order], per_hour[ok][order], sigma, daily)


def bars_activity(bars: pd.DataFrame) -> Activity:
    """``activity`` of a bar frame (``BAR_COLUMNS``): quote volume, else volume x close."""
    close = column(bars, "close")
    quote = column(bars, "quote_volume")
    quote = np.where(np.isfinite(quote), quote, column(bars, "volume") * close)
    return activity(column(bars, "low"), column(bars, "high"), close, quote, bar_hours(bars))


def hourly_volume_at(prices: np.ndarray, act: Activity) -> np.ndarray:
    """Median per-hour quote volume of the bars whose [low, high] contains each price (the window's median where
    none does). With the bars in volume order, the containing bars of price i are row i of a prices x bars mask
    in volume order too, so its median is the mean of its ((c - 1) // 2)-th and (c // 2)-th True cell."""
    prices = np.asarray(prices, dtype="float64")
    out = np.full(len(prices), act.median_hourly_volume)
    n = len(act.hourly_volume)
    if not n or not len(prices):
        return out
    inside = (act.low[None, :] <= prices[:, None]) & (act.high[None, :] >= prices[:, None])
    count = inside.sum(axis=1)
    cells = np.flatnonzero(inside)
    offset = np.cumsum(count) - count
    has = count > 0
    lo = cells[(offset + (count - 1) // 2)[has]] % n
    hi = cells[(offset + count // 2)[has]] % n
    out[has] = (act.hourly_volume[lo] + act.hourly_volume[hi]) / 2
    return out
