"""RSI exactly as TradingView's ``ta.rsi`` computes it (DOMAIN.md section 6).

TradingView (Pine Script reference, ``ta.rsi`` / ``ta.rma``; the built-in "Relative Strength Index"
indicator)::

    u = max(x - x[1], 0)          d = max(x[1] - x, 0)
    rma(s, n) = na(rma[1]) ? sma(s, n) : (s + (n - 1) * rma[1]) / n      # alpha = 1/n
    rsi = rma(d) == 0 ? 100 : rma(u) == 0 ? 0 : 100 - 100 / (1 + rma(u) / rma(d))

``x - x[1]`` is ``na`` on the first bar, so the SMA seed averages the changes of bars 1..n and the first RSI
is on bar n (0-based): the first ``length`` values are NaN. This is Wilder's original definition, the one
StockCharts publishes as a worked example (tested in ``tests/overlays/test_rsi.py``).

Why not ``ta.momentum.RSIIndicator``: the ``ta`` library runs the same recursion through
``ewm(alpha=1/n, adjust=False)``, which seeds it with the *first* change (taken as 0) instead of the SMA of
the first ``n`` changes. The two differ by ~12 RSI points at bar 14 and only agree to 1e-6 after ~250 bars,
so a chart showing few bars would disagree with TradingView. We keep ``ta``'s recursion (pandas ``ewm``,
``adjust=False``) and only replace its seed: the series fed to ``ewm`` starts with the SMA value at bar n,
so ``ewm`` continues exactly TradingView's ``rma``. The tests check against TradingView's own exported RSI
and that ``ta`` converges to it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def compute_rma(values: pd.Series, length: int) -> pd.Series:
    """TradingView's ``ta.rma``: Wilder's moving average, alpha ``1/length``, seeded with the SMA of the first
    ``length`` values. Leading NaNs are skipped (the seed uses the first ``length`` values after them); NaN
    before the seed. Interior NaNs are not expected (callers drop them)."""
    values = values.astype("float64")
    array = values.to_numpy()
    valid = np.flatnonzero(~np.isnan(array))
    out = np.full(len(array), np.nan)
    if len(valid) < length:
        return pd.Series(out, index=values.index)
    first = valid[0]
    seed_at = first + length - 1
    seeded = array.copy()
    seeded[: seed_at + 1] = np.nan
    seeded[seed_at] = array[first : seed_at + 1].mean()
    smoothed = pd.Series(seeded[seed_at:]).ewm(alpha=1.0 / length, adjust=False).mean().to_numpy()
    out[seed_at:] = smoothed
    return pd.Series(out, index=values.index)


def compute_rsi(close: pd.Series, length: int = 14) -> pd.Series:
    """Relative Strength Index of ``close``, equal to TradingView's ``ta.rsi(close, length)`` bar for bar.

    Returns a float Series named ``rsi`` on ``close``'s index: NaN for the first ``length`` bars, 100 where
    the average loss is 0 (including a perfectly flat window, as TradingView's indicator does), 0 where the
    average gain is 0. NaN closes are skipped (their RSI is NaN and the recursion continues over the valid
    closes), which is what TradingView does with a chart that simply has no bar there.
    """
    if int(length) != length or length < 1:
        raise ValueError(f"RSI length must be a positive integer, got {length!r}")
    length = int(length)
    close = pd.Series(close, dtype="float64")
    valid = close.dropna()
    change = valid.diff()
    up = change.clip(lower=0.0)
    down = (-change).clip(lower=0.0)
    avg_up = compute_rma(up.iloc[1:], length).to_numpy()
    avg_down = compute_rma(down.iloc[1:], length).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        rsi = 100.0 - 100.0 / (1.0 + avg_up / avg_down)
    rsi = np.where(avg_up == 0.0, 0.0, rsi)
    rsi = np.where(avg_down == 0.0, 100.0, rsi)
    rsi = np.where(np.isnan(avg_up) | np.isnan(avg_down), np.nan, rsi)
    values = pd.Series(np.concatenate([[np.nan], rsi]) if len(valid) else rsi, index=valid.index)
    return values.reindex(close.index).rename("rsi")
