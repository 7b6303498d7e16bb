"""Two naive predictors of where and when liquidations happen, scored next to the model.

Each gives a MAP (open long / short USD per bin of any price edges, as of the window's last close) and a SWEPT
series (long / short USD per bar), so every column of the accuracy table can be scored for it. Their clusters are
found with the model's own rule (``product.map_clusters`` on the cluster grid), so only the map differs.

- **volume at price**: the window's volume profile, each bar's quote volume spread evenly over [low, high] (the
  uniform-within-bar approximation of a volume profile, Steidlmayer's market profile as charting tools draw it from
  OHLCV bars). Long side = the profile below the last close, short side = above it. Swept per bar = the bar's quote
  volume on both sides: the profile mass "not yet reached" is always zero (volume sits where price traded), so the
  mass a bar reaches is its own volume; this is also the "daily volume" timing baseline of the study.
- **excursion x OI**: each bar's open interest (USD) spread evenly over the band of a typical adverse excursion
  beyond its range: [low x (1 - e_down), low] for longs, [high, high x (1 + e_up)] for shorts, e = the window's
  median 24 h excursion (how far price went below / above a bar's close within the next 24 h). The part of a band
  that a later bar traded through is dropped (those positions would be gone). Swept per bar = down move x OI for
  longs, up move x OI for shorts, (open - low) / open x OI and (high - open) / open x OI, as the study's daily
  "excursion x OI" baseline.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DAY_MS = 86_400_000


def _col(bars: pd.DataFrame, name: str) -> np.ndarray:
    return bars[name].to_numpy(dtype="float64") if name in bars else np.full(len(bars), np.nan)


def _uniform_cdf(edges: np.ndarray, lo: np.ndarray, hi: np.ndarray, weight: np.ndarray,
                 cap: np.ndarray | None = None) -> np.ndarray:
    """Sum over items of weight x the share of [lo, hi] below each edge (uniform density on [lo, hi]; an item with
    hi == lo is a point mass at lo). ``cap`` truncates each item's mass at that price (mass above it removed)."""
    edges = np.asarray(edges, dtype="float64")
    width = hi - lo
    point = width <= 0
    safe = np.where(point, 1.0, width)
    top = hi if cap is None else np.minimum(hi, cap)
    out = np.zeros(len(edges))
    for a in range(0, len(lo), 512):  # blocks bound memory at 512 x edges
        z = slice(a, a + 512)
        e = edges[None, :]
        share = np.clip((np.minimum(e, top[z, None]) - lo[z, None]) / safe[z, None], 0.0, 1.0)
        share = np.where(point[z, None], (e >= lo[z, None]) & (lo[z, None] <= top[z, None]), share)
        out += (weight[z, None] * share).sum(axis=0)
    return out


def _split_at(edges: np.ndarray, cdf, price: float) -> tuple[np.ndarray, np.ndarray]:
    """Mass per bin of ``edges`` below and above ``price`` from a cumulative function of price."""
    edges = np.asarray(edges, dtype="float64")
    below = cdf(np.minimum(edges, price))
    total = cdf(edges)
    long_usd = np.diff(below)
    short_usd = np.diff(total) - long_usd
    return np.maximum(long_usd, 0.0), np.maximum(short_usd, 0.0)


def volume_profile(bars: pd.DataFrame, edges: np.ndarray) -> np.ndarray:
    """Quote volume per bin of ``edges``, each bar's volume spread evenly over [low, high]."""
    lo, hi, vol = _col(bars, "low"), _col(bars, "high"), np.nan_to_num(_col(bars, "quote_volume"))
    return np.diff(_uniform_cdf(edges, lo, hi, vol))


def volume_at_price_map(bars: pd.DataFrame, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(long, short) per bin: the window's volume profile below / above the last close."""
    lo, hi, vol = _col(bars, "low"), _col(bars, "high"), np.nan_to_num(_col(bars, "quote_volume"))
    price = float(_col(bars, "close")[-1])
    return _split_at(edges, lambda e: _uniform_cdf(e, lo, hi, vol), price)


def volume_at_price_swept(bars: pd.DataFrame) -> pd.DataFrame:
    """Per bar: the bar's quote volume as both sides' swept USD (see the module doc)."""
    vol = np.nan_to_num(_col(bars, "quote_volume"))
    return pd.DataFrame({"time": bars["time"].to_numpy(dtype="int64"), "long_usd": vol, "short_usd": vol.copy()})


def bars_per_day(bars: pd.DataFrame) -> int:
    times = bars["time"].to_numpy(dtype="int64")
    step = int(np.median(np.diff(times))) if len(times) > 1 else DAY_MS
    return max(1, -(-DAY_MS // max(step, 1)))


def median_excursions(bars: pd.DataFrame) -> tuple[float, float]:
    """The window's median 24 h adverse excursions (e_down, e_up) as fractions of price: for every bar with a full
    day after it, 1 - (lowest low of the next 24 h) / close and (highest high of the next 24 h) / close - 1,
    floored at 0; 0 when the window is shorter than a day."""
    h = bars_per_day(bars)
    low, high, close = _col(bars, "low"), _col(bars, "high"), _col(bars, "close")
    n = len(bars)
    if n <= h:
        return 0.0, 0.0
    ahead_low = pd.Series(low[::-1]).rolling(h, min_periods=h).min().to_numpy()[::-1]
    ahead_high = pd.Series(high[::-1]).rolling(h, min_periods=h).max().to_numpy()[::-1]
    nxt_low, nxt_high = ahead_low[1:n - h + 1], ahead_high[1:n - h + 1]
    down = np.maximum(1 - nxt_low / close[: n - h], 0.0)
    up = np.maximum(nxt_high / close[: n - h] - 1, 0.0)
    return float(np.nanmedian(down)), float(np.nanmedian(up))


def _later_extreme(values: np.ndarray, fn, fill: float) -> np.ndarray:
    """fn-accumulate of the values strictly after each bar (``fill`` for the last bar)."""
    if not len(values):
        return values
    acc = fn.accumulate(values[::-1])[::-1]
    return np.append(acc[1:], fill)


def excursion_oi_map(bars: pd.DataFrame, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(long, short) per bin: every bar's OI USD over its adverse-excursion band, minus what later bars traded
    through (see the module doc)."""
    low, high = _col(bars, "low"), _col(bars, "high")
    oi = np.nan_to_num(_col(bars, "open_interest_usd"))
    e_down, e_up = median_excursions(bars)
    later_low = _later_extreme(np.nan_to_num(low, nan=np.inf), np.minimum, np.inf)
    later_high = _later_extreme(np.nan_to_num(high, nan=-np.inf), np.maximum, -np.inf)
    edges = np.asarray(edges, dtype="float64")
    long_cdf = _uniform_cdf(edges, low * (1 - e_down), low, oi, cap=later_low)
    # shorts: mirror the axis (a band [high, high(1+e)] kept above the later highs) so one truncating CDF serves
    lo_s, hi_s = -high * (1 + e_up), -high
    short_mass_below = _uniform_cdf(-edges[::-1], lo_s, hi_s, oi, cap=-later_high)[::-1]
    short_cdf = short_mass_below[0] - short_mass_below  # mass at prices below each edge
    return np.maximum(np.diff(long_cdf), 0.0), np.maximum(np.diff(short_cdf), 0.0)


def excursion_oi_swept(bars: pd.DataFrame) -> pd.DataFrame:
    """Per bar: (open - low) / open x OI USD as long, (high - open) / open x OI USD as short."""
    open_, low, high = _col(bars, "open"), _col(bars, "low"), _col(bars, "high")
    oi = np.nan_to_num(_col(bars, "open_interest_usd"))
    with np.errstate(invalid="ignore", divide="ignore"):
        down = np.nan_to_num((open_ - low) / open_ * oi)
        up = np.nan_to_num((high - open_) / open_ * oi)
    return pd.DataFrame({"time": bars["time"].to_numpy(dtype="int64"), "long_usd": down, "short_usd": up})
