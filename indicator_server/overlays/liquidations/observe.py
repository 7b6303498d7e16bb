"""What the calibration is fitted to: the observations a market offers, as rows of the tier basis (calibrate.py).

- "prints per bar": the bars' ``long_liquidated_usd`` / ``short_liquidated_usd`` (a venue's prints summed per bar),
  used when at least ``MIN_CALIBRATION_BARS`` / 2 bars after the warm-up carry one;
- "period totals": ``observed`` (time = period start ms, long_usd, short_usd; e.g. Coinglass daily), the model's
  swept series summed to those periods; only periods wholly inside the bars after the warm-up count;
- "none": neither (the caller then falls back to open interest, or to the prior).
The first ``WARMUP_HOURS`` of bars (at most a quarter of them) are not fitted: the model has no levels built yet.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import flow
from .fit import Rows, per_bar_rows, period_rows

MIN_CALIBRATION_BARS = 168
WARMUP_HOURS = 48.0


@dataclass
class Observed:
    kind: str
    first: int  # first fitted bar (after warm-up)
    rows: Callable[[Any], Rows] | None  # basis -> observation rows
    count: int


def observations(bars: pd.DataFrame, observed: pd.DataFrame | None) -> Observed:
    n = len(bars)
    first = min(int(np.ceil(WARMUP_HOURS / flow.bar_hours(bars))), n // 4) if n else 0
    long_y, short_y = flow.column(bars, "long_liquidated_usd"), flow.column(bars, "short_liquidated_usd")
    prints = int((np.isfinite(long_y[first:]) | np.isfinite(short_y[first:])).sum())
    if prints >= MIN_CALIBRATION_BARS // 2:
        return Observed("prints per bar", first, lambda b: per_bar_rows(b.swept_long, b.swept_short, long_y,
                                                                         short_y, first), prints)
    if observed is not None and len(observed) and n:
        period, long_p, short_p = _periods(bars, observed, first)
        if (period >= 0).any():
            return Observed("period totals", first,
                             lambda b: period_rows(b.swept_long, b.swept_short, period, long_p, short_p),
                             int(np.isfinite(long_p).sum() + np.isfinite(short_p).sum()))
    return Observed("none", first, None, 0)


def _periods(bars: pd.DataFrame, observed: pd.DataFrame, first: int):
    """Each bar's period index in ``observed`` (-1 outside the fully covered periods after the warm-up)."""
    obs = observed.sort_values("time")
    start = obs["time"].to_numpy(dtype="int64")
    length = int(np.median(np.diff(start))) if len(start) > 1 else 86_400_000
    times = bars["time"].to_numpy(dtype="int64")
    bar_ms = int(round(flow.bar_hours(bars) * 3_600_000))
    covered = (start >= times[first]) & (start + length <= times[-1] + bar_ms)
    idx = np.searchsorted(start, times, side="right") - 1
    inside = (idx >= 0) & (times < start[np.maximum(idx, 0)] + length)
    period = np.where(inside & covered[np.maximum(idx, 0)], idx, -1)
    long_p = np.where(covered, obs["long_usd"].to_numpy(dtype="float64"), np.nan)
    short_p = np.where(covered, obs["short_usd"].to_numpy(dtype="float64"), np.nan)
    return period, long_p, short_p


def data_info(bars: pd.DataFrame, obs: Observed) -> dict[str, Any]:
    times = bars["time"].to_numpy(dtype="int64") if "time" in bars and len(bars) else np.zeros(0, dtype="int64")
    return {"bars": int(len(bars)), "first": int(times[0]) if len(times) else None,
            "last": int(times[-1]) if len(times) else None, "observations": obs.kind,
            "observations_count": int(obs.count)}
