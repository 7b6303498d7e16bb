"""Rolling z-score shared by the OI-delta, funding and confluence overlays.

``z_t = (x_t - mean(x_{t-w+1..t})) / std(x_{t-w+1..t})`` with the population standard deviation (ddof 0)
over the trailing window of ``w`` bars that ends at, and includes, bar t (the usual "standard score" of x_t
within its look-back). NaN where x_t is NaN or the window holds fewer than ``min_periods`` valid values
(default: the whole window), so a z-score is never computed from a partial history or across a gap unless
asked (NaNs are never filled; with a smaller ``min_periods`` they are left out of the mean and std).
A window with no spread (e.g. funding pinned at its 0.01 % floor for days) gives z = 0: the value is the mean.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Relative spread under which a window counts as flat: rolling variance is computed incrementally and leaves
# ~1e-16-relative noise where the exact answer is 0, which would otherwise blow up into a huge z.
_FLAT_RELATIVE_STD = 1e-9


def rolling_zscore(values: pd.Series, window: int, min_periods: int | None = None) -> pd.Series:
    """Z-score of each value within its trailing ``window`` (see the module docstring)."""
    if int(window) != window or window < 2:
        raise ValueError(f"z-score window must be an integer >= 2, got {window!r}")
    window = int(window)
    min_periods = window if min_periods is None else max(2, min(int(min_periods), window))
    values = pd.Series(values, dtype="float64")
    rolling = values.rolling(window, min_periods=min_periods)
    mean = rolling.mean()
    std = rolling.std(ddof=0)
    scale = np.maximum(rolling.max().abs(), rolling.min().abs())
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (values - mean) / std
    flat = std <= _FLAT_RELATIVE_STD * scale
    z = z.where(~flat, 0.0)
    z = z.where(values.notna() & mean.notna())
    return z
