"""The daily backbone of a simulated price: GARCH(1,1) volatility, Student-t shocks, mean reversion into a band.

Daily log returns follow ``r_d = sigma_d * z_d + pull_d`` with ``sigma_d^2 = omega + alpha*shock_{d-1}^2 +
beta*sigma_{d-1}^2`` (Bollerslev 1986, GARCH(1,1)), ``z_d`` a Student-t with 4 degrees of freedom scaled to unit
variance (heavy tails), and ``pull_d`` an Ornstein-Uhlenbeck pull toward the middle of the symbol's band plus a
stronger pull once the price leaves the band, so BTC stays roughly within 60k-110k. In the crowded-trend
regime the band's centre drifts by ``Profile.drift`` per day, also added to each day's return. ``sentiment_d`` in
(-1, 1) is an exponential average of the day's standardised shocks: the crowd's mood after rallies and dumps.

The recursion is sequential, so it is computed from genesis on (a few thousand steps at most, cached); its
shocks come from Philox blocks keyed by (symbol, block), so extending the horizon never changes earlier days.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.signal import lfilter

from .params import Profile, generator, profile

CHUNK_DAYS = 512
GARCH_ALPHA = 0.08
GARCH_BETA = 0.90
T_DOF = 4.0
WALL_PULL = 0.3  # share of the excess outside the band removed per day
SENTIMENT_DECAY = 0.85
APPETITE_AR = 0.93  # day-to-day persistence of the appetite for leverage (half-life ~10 days)
APPETITE_SD = 0.45


@dataclass(frozen=True)
class DailyPath:
    """Arrays indexed by day since genesis: log close at the day's end, volatility, crowd sentiment."""

    log_close: np.ndarray
    sigma: np.ndarray
    sentiment: np.ndarray
    log_open0: float  # log price at genesis
    appetite: np.ndarray | None = None  # multiplier of the leveraged open flow (mean 1)

    def log_open(self, day: np.ndarray) -> np.ndarray:
        prev = np.asarray(day) - 1
        return np.where(prev >= 0, self.log_close[np.maximum(prev, 0)], self.log_open0)


def _shocks(p: Profile, chunks: int) -> np.ndarray:
    parts = []
    for chunk in range(chunks):
        t = generator(p.seed, 1, chunk).standard_t(T_DOF, CHUNK_DAYS)
        parts.append(np.clip(t / math.sqrt(T_DOF / (T_DOF - 2.0)), -7.0, 7.0))
    return np.concatenate(parts)


@lru_cache(maxsize=64)
def _daily(symbol: str, chunks: int) -> DailyPath:
    p = profile(symbol)
    z = _shocks(p, chunks).tolist()
    lo, hi = math.log(p.band_low), math.log(p.band_high)
    mid, half = (lo + hi) / 2.0, (hi - lo) / 2.0
    kappa = p.daily_vol**2 / (2.0 * (half / 2.5) ** 2)  # stationary std = 40 % of the band's half-width
    var_target = p.daily_vol**2
    omega = var_target * (1.0 - GARCH_ALPHA - GARCH_BETA)
    x = math.log(p.start_price)
    var, mood = var_target, 0.0
    n = len(z)
    log_close, sigma, sentiment = np.empty(n), np.empty(n), np.empty(n)
    for d in range(n):
        sd = math.sqrt(var)
        shock = sd * z[d]
        lo_d, hi_d, mid_d = lo + p.drift * d, hi + p.drift * d, mid + p.drift * d  # the band drifts (trend)
        pull = p.drift + kappa * (mid_d - x) - WALL_PULL * (max(x - hi_d, 0.0) - max(lo_d - x, 0.0))
        x += shock + pull
        log_close[d], sigma[d] = x, sd
        mood = SENTIMENT_DECAY * mood + (1.0 - SENTIMENT_DECAY) * z[d]
        sentiment[d] = math.tanh(2.0 * mood)
        var = omega + GARCH_ALPHA * shock * shock + GARCH_BETA * var
    return DailyPath(log_close, sigma, sentiment, math.log(p.start_price), _appetite(p, chunks))


def _appetite(p: Profile, chunks: int) -> np.ndarray:
    """The crowd's appetite for leverage per day: ``exp(a_d - APPETITE_SD^2 / 2)`` with ``a_d`` an AR(1) of
    coefficient ``APPETITE_AR`` and stationary std ``APPETITE_SD`` (positioning comes in waves of weeks, so open
    interest rises and falls by tens of percent as on Binance, not only with volume)."""
    noise = np.concatenate([generator(p.seed, 3, chunk).standard_normal(CHUNK_DAYS) for chunk in range(chunks)])
    a = lfilter([APPETITE_SD * math.sqrt(1.0 - APPETITE_AR**2)], [1.0, -APPETITE_AR], noise)
    return np.exp(a - APPETITE_SD**2 / 2.0)


def daily_path(symbol: str, days: int) -> DailyPath:
    """The daily path covering at least ``days`` days since genesis."""
    return _daily(symbol, max(1, -(-days // CHUNK_DAYS)))
