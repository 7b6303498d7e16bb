"""Liquidation levels and when later bars sweep them (DOMAIN.md section 3 steps 3 and 4), all levels at once.

A level is (bar j, side, tier): price = entry_j x factor(side, tier), notional = new_j x share(side)_j x weight(tier).
A long level is swept by the first LATER bar whose low reaches it, a short level by the first later high
(PERFORMANCE.md "Liquidation heatmap": a sparse table of running minima plus a vectorised binary search finds the
first-passage times of every level in O(levels x log bars), no per-bar loop).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LONG, SHORT = 0, 1


@dataclass
class LevelArrays:
    """One entry per level, sorted by side then bar then tier. ``swept`` is the sweeping bar, ``n`` if none."""

    bar: np.ndarray
    side: np.ndarray
    tier: np.ndarray
    price: np.ndarray
    notional: np.ndarray
    swept: np.ndarray

    def __len__(self) -> int:
        return len(self.bar)

    def take(self, mask: np.ndarray) -> LevelArrays:
        return LevelArrays(*(getattr(self, f)[mask] for f in ("bar", "side", "tier", "price", "notional", "swept")))


def build_levels(entry: np.ndarray, long_share: np.ndarray, notional: np.ndarray, long_factor: np.ndarray,
                 short_factor: np.ndarray, weights: np.ndarray, tiers: np.ndarray | None = None) -> LevelArrays:
    """Every level with positive notional; ``tiers`` (indices) keeps only those tiers (a leverage filter keeps
    their share of the flow: weights are not renormalised)."""
    tiers = np.arange(len(weights)) if tiers is None else np.asarray(tiers, dtype="int64")
    ok = (notional > 0) & np.isfinite(entry) & (entry > 0)
    bars = np.flatnonzero(ok)
    parts = []
    for side, share, factor in ((LONG, long_share, long_factor), (SHORT, 1.0 - long_share, short_factor)):
        bar = np.repeat(bars, len(tiers))
        tier = np.tile(tiers, len(bars))
        amount = notional[bar] * share[bar] * weights[tier]
        price = entry[bar] * factor[tier]
        keep = (amount > 0) & (price > 0)
        parts.append((bar[keep], np.full(keep.sum(), side, dtype="int8"), tier[keep], price[keep], amount[keep]))
    bar, side, tier, price, amount = (np.concatenate([p[i] for p in parts]) for i in range(5))
    return LevelArrays(bar, side, tier.astype("int8"), price, amount, np.zeros(len(bar), dtype="int64"))


def first_touch(values: np.ndarray, start: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """For each query q, the first index t >= start[q] with values[t] <= threshold[q]; len(values) if none.

    NaN values never touch. Sparse table T_k[i] = min(values[i : i + 2^k]) (index n and beyond count as -inf, so
    no jump passes n), then a binary lifting from the largest block down: jump 2^k while the whole block stays
    above the threshold.
    """
    n = len(values)
    levels = max(1, int(np.ceil(np.log2(n + 1))))
    size = 1 << levels
    base = np.full(size, -np.inf)
    base[:n] = np.where(np.isnan(values), np.inf, values)
    table = [base]
    for k in range(1, levels + 1):
        prev, half = table[-1], 1 << (k - 1)
        cur = np.full(size, -np.inf)
        np.minimum(prev[: size - half], prev[half:], out=cur[: size - half])
        table.append(cur)
    pos = np.minimum(np.asarray(start, dtype="int64"), n)
    for k in range(levels, -1, -1):
        above = table[k][pos] > threshold
        pos = pos + (above.astype("int64") << k)
    return pos


def sweep_levels(levels: LevelArrays, low: np.ndarray, high: np.ndarray) -> None:
    """Fill ``levels.swept``: first bar after the opening bar whose low (long) / high (short) reaches the level."""
    for side, values, sign in ((LONG, low, 1.0), (SHORT, high, -1.0)):
        sel = np.flatnonzero(levels.side == side)
        if len(sel):
            levels.swept[sel] = first_touch(sign * values, levels.bar[sel] + 1, sign * levels.price[sel])


def log_at(log_surv: np.ndarray, t: np.ndarray, tier: np.ndarray) -> np.ndarray:
    """L at bars ``t`` for levels of tiers ``tier`` (flow.log_survival: 1-D, or n x K per tier)."""
    return log_surv[t] if log_surv.ndim == 1 else log_surv[t, tier]


def swept_per_bar(levels: LevelArrays, log_surv: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """USD the model liquidates in each bar, long and short: a level swept in bar t holds
    notional x exp(L_(t-1) - L_j) (what was open at the previous close; L of the level's tier if per tier)."""
    out = []
    for side in (LONG, SHORT):
        sel = (levels.side == side) & (levels.swept < n)
        t, tier = levels.swept[sel], levels.tier[sel]
        held = log_at(log_surv, t - 1, tier) - log_at(log_surv, levels.bar[sel], tier)
        usd = levels.notional[sel] * np.exp(held)
        out.append(np.bincount(t, weights=usd, minlength=n)[:n].astype("float64", copy=False))
    return out[0], out[1]


def open_notional(levels: LevelArrays, log_surv: np.ndarray, n: int) -> np.ndarray:
    """Notional still open at the last close (0 for swept levels)."""
    alive = levels.swept >= n
    last = np.full(len(levels), n - 1)
    held = log_at(log_surv, last, levels.tier) - log_at(log_surv, levels.bar, levels.tier)
    return np.where(alive, levels.notional * np.exp(held), 0.0)
