"""Funding of the simulated perpetual: 8-hourly events priced from the crowding of the 1h trader simulation.

Binance USD-M (Binance Academy, "Introduction to Binance Futures Funding Rates"): funding rate
``F = P + clamp(I - P, -0.05 %, +0.05 %)`` with interest ``I = 0.01 %`` per 8 h and ``P`` the average premium index
of the interval, then capped at the symbol's cap/floor (+/-0.3 % for BTC and ETH, +/-0.75 % for the others here).
The simulator has no order book, so the premium index is an offset plus the interval's average crowding:
``P = b + k * mean((L - S)/(L + S))`` over the eight hourly closes of the interval, with L and S the open long and
short quantity of the 1h cohorts, ``b`` the regime's ``premium_offset`` and ``k`` its ``premium_per_imbalance``.
The default regime's ``b = -0.046 %`` is fitted to Binance BTCUSDT funding before 2025-05-01 (median 0.0041 %,
p90 0.01 %: the perpetual has mostly traded a little below its index), so its funding sits below 0.01 %.
Funding is a non-decreasing function of crowding: flat at 0.01 % while the premium stays within the clamp of the
interest, above it when longs dominate, below (and negative) once shorts dominate. Events fall at 00:00,
08:00 and 16:00 UTC; the first is 2024-01-01T08:00Z, after the world's first eight hours.
"""

from __future__ import annotations

import numpy as np

from ...timeframes import HOUR_MS
from .params import (
    FUNDING_CLAMP,
    FUNDING_INTEREST,
    FUNDING_INTERVAL_HOURS,
    GENESIS_MS,
    PREMIUM_PER_IMBALANCE,
    profile,
)
from .regimes import regime_for
from .traders import max_hold_bars, simulate

INTERVAL_MS = FUNDING_INTERVAL_HOURS * HOUR_MS


def funding_rate(imbalance: np.ndarray, cap: float, offset: float = 0.0,
                 per_imbalance: float = PREMIUM_PER_IMBALANCE) -> np.ndarray:
    """Binance's funding formula applied to a premium index made from crowding (see the module docstring)."""
    premium = offset + per_imbalance * np.asarray(imbalance, dtype="float64")
    rate = premium + np.clip(FUNDING_INTEREST - premium, -FUNDING_CLAMP, FUNDING_CLAMP)
    return np.round(np.clip(rate, -cap, cap), 8)


def hourly_imbalance(symbol: str, first_hour: int, stop_hour: int) -> np.ndarray:
    """(L - S)/(L + S) of the 1h cohorts at the close of hours ``first_hour <= h < stop_hour``."""
    sim = simulate(symbol, "1h", max(0, first_hour - max_hold_bars("1h")), stop_hour)
    lead = first_hour - sim.first
    long_qty, short_qty = sim.long_qty[lead:], sim.short_qty[lead:]
    total = long_qty + short_qty
    return np.where(total > 0, (long_qty - short_qty) / np.where(total > 0, total, 1.0), 0.0)


def funding_events(symbol: str, first_event: int, stop_event: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Times (ms), rates and mean crowding of events ``first_event <= k < stop_event`` (event k at genesis +
    8h*k, k >= 1)."""
    per = FUNDING_INTERVAL_HOURS
    imbalance = hourly_imbalance(symbol, per * (first_event - 1), per * (stop_event - 1))
    mean = imbalance.reshape(-1, per).mean(axis=1)
    times = GENESIS_MS + np.arange(first_event, stop_event, dtype="int64") * INTERVAL_MS
    regime = regime_for(symbol)
    rate = funding_rate(mean, profile(symbol).funding_cap, regime.premium_offset, regime.premium_per_imbalance)
    return times, rate, mean
