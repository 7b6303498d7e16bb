"""The daily backbone of a simulated price: GARCH(1,1) volatility, Student-t shocks, mean reversion into a band.

Daily log returns follow ``r_d = sigma_d * z_d + pull_d`` with ``sigma_d^2 = omega + alpha*shock_{d-1}^2 +
beta*sigma_{d-1}^2`` (Bollerslev 1986, GARCH(1,1)), ``z_d`` a Student-t with 4 degrees of freedom scaled to unit
variance (heavy tails), and ``pull_d`` an Ornstein-Uhlenbeck pull toward the middle of the symbol's band plus a
stronger pull once the price leaves the band, so BTC stays roughly within 60k-110k. ``sentiment_d`` in (-1, 1) is
an exponential average of the day's standardised shocks: the crowd's mood after rallies and dumps.

The recursion is sequential, so it is computed from genesis on (a few thousand steps at most, cached); its
shocks come from Philox blocks keyed by (symbol, block), so extending the horizon never changes earlier days.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .params import Profile, generator, profile

CHUNK_DAYS = 512
GARCH_ALPHA = 0.08
GARCH_BETA = 0.90
T_DOF = 4.0
WALL_PULL = 0.3  # share of the excess outside the band removed per day
SENTIMENT_DECAY = 0.85


@dataclass(frozen=True)
class DailyPath:
    """Arrays indexed by day since genesis: log close at the day's end, volatility, crowd sentiment."""

    log_close: np.ndarray
    sigma: np.ndarray
    sentiment: np.ndarray
    log_open0: float  # log price at genesis

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
        pull = kappa * (mid - x) - WALL_PULL * (max(x - hi, 0.0) - max(lo - x, 0.0))
        x += shock + pull
        log_close[d], sigma[d] = x, sd
        mood = SENTIMENT_DECAY * mood + (1.0 - SENTIMENT_DECAY) * z[d]
        sentiment[d] = math.tanh(2.0 * mood)
        var = omega + GARCH_ALPHA * shock * shock + GARCH_BETA * var
    return DailyPath(log_close, sigma, sentiment, math.log(p.start_price))


def daily_path(symbol: str, days: int) -> DailyPath:
    """The daily path covering at least ``days`` days since genesis."""
    return _daily(symbol, max(1, -(-days // CHUNK_DAYS)))
