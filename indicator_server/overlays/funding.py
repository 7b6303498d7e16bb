"""Funding rate per interval, annualised, and its z-score (DOMAIN.md section 5).

Perpetual funding is exchanged between longs and shorts every ``interval_hours`` (8h on most Binance
symbols, some 4h or 1h, and Binance shortens it in volatile markets). Positive funding: longs pay shorts.

- ``funding_rate``: the rate of the latest funding event at or before the bar's close (fraction per
  interval), as
  ``MarketService.bars`` samples it;
- ``funding_annualized = funding_rate * (24 / interval_hours) * 365`` (a fraction per year: 0.0001 per 8h is
  0.0001 * 3 * 365 = 0.1095, i.e. 10.95 % a year). Simple, not compounded, as exchanges and Coinglass quote
  it;
- ``funding_zscore``: rolling z-score (``overlays.zscore``) of ``funding_annualized`` over ``zscore_window``
  bars. The annualised rate is used, not the per-interval one, so that a switch from 8h to 4h funding does not
  read as a halving of the rate. The window counts bars, and funding is a step series that changes once per
  interval: the default 168 bars is one week of 1h bars (21 funding events at 8h), four weeks of 4h bars.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from indicator_server.overlays.zscore import rolling_zscore

FUNDING_ZSCORE_WINDOW = 168
DEFAULT_INTERVAL_HOURS = 8.0
"""Used where a bar has a funding rate but no interval (a source that does not publish it): the usual 8h."""

FUNDING_COLUMNS_OUT = [
    "time",
    "funding_rate",
    "funding_interval_hours",
    "funding_annualized",
    "funding_zscore",
]


def annualize_funding(rate: np.ndarray | pd.Series, interval_hours: np.ndarray | pd.Series | float):
    """``rate * (24 / interval_hours) * 365``; NaN where the interval is missing or not positive."""
    interval = np.asarray(interval_hours, dtype="float64")
    interval = np.where(interval > 0, interval, np.nan)
    return rate * (24.0 / interval) * 365.0


def compute_funding(
    bars: pd.DataFrame,
    zscore_window: int = FUNDING_ZSCORE_WINDOW,
    default_interval_hours: float | None = DEFAULT_INTERVAL_HOURS,
) -> pd.DataFrame:
    """Funding overlay for a ``BAR_COLUMNS`` frame; one row per bar on ``bars.index`` (module docstring).

    ``default_interval_hours`` fills a missing ``funding_interval_hours`` where a rate is known (``None``
    leaves the annualised rate NaN there instead).
    """
    rate = bars["funding_rate"].astype("float64")
    interval = bars["funding_interval_hours"].astype("float64")
    if default_interval_hours is not None:
        interval = interval.where(interval.notna() | rate.isna(), float(default_interval_hours))
    annualized = pd.Series(annualize_funding(rate.to_numpy(), interval.to_numpy()), index=bars.index)
    return pd.DataFrame(
        {
            "time": bars["time"],
            "funding_rate": rate,
            "funding_interval_hours": interval,
            "funding_annualized": annualized,
            "funding_zscore": rolling_zscore(annualized, zscore_window),
        },
        index=bars.index,
    )
