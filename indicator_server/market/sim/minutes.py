"""Raw one-minute price, volume and taker flow of the simulated world, before the price impact of liquidations.

Each day's 1-minute path is a variance-weighted Brownian bridge from the day's open to its close (both from
``daily.py``), with its own random numbers (Philox keyed by (symbol, day)), so any day is random-access. Within a
day: an intraday seasonality (busier around the US open), hourly volatility clustering (an AR(1) log-multiplier),
rare jumps (sharp moves that stay) and rarer spikes (wicks that revert within the minute), both sized by the
day's volatility so that high-leverage cohorts get liquidated in bursts. Prices are rounded to the symbol's tick.

``prices.py`` adds the impact of forced orders (``impact.py``) and aggregates every timeframe from the adjusted
minutes (open = first, close = last, high = max, low = min, volumes and trades summed). Volume follows
volatility and the size of the minute's move; quote volume = volume * the minute's typical price (o+h+l+c)/4; the
taker-buy share leans with the minute's direction and the crowd's sentiment.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ...timeframes import MINUTE_MS, TIMEFRAMES
from .daily import daily_path
from .params import BLOCK_DAYS, DAY_MINUTES, Profile, generator, profile

# Rows of a bar matrix (shape (len(BAR_FIELDS), n_bars)).
BAR_FIELDS = ("open", "high", "low", "close", "volume", "quote_volume", "taker_buy_volume",
              "taker_buy_quote_volume", "trades")
JUMPS_PER_DAY = 0.15  # fitted with the default regime: hourly kurtosis of Binance BTCUSDT before 2025-05-01
SPIKES_PER_DAY = 0.15
_HOURS = np.arange(DAY_MINUTES) / 60.0
# Intraday volatility/volume seasonality (UTC): Asia quiet, Europe open, US open busiest.
SEASON = 0.8 + 0.25 * np.exp(-(((_HOURS - 8.5) / 2.0) ** 2)) + 0.55 * np.exp(-(((_HOURS - 14.5) / 2.5) ** 2))


def minutes_per_bar(timeframe: str) -> int:
    return TIMEFRAMES[timeframe] // MINUTE_MS


def _random(p: Profile, days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    nd = len(days)
    normal, unif, hourly = np.empty((4, nd, DAY_MINUTES)), np.empty((4, nd, DAY_MINUTES)), np.empty((nd, 24))
    for i, day in enumerate(days):
        rng = generator(p.seed, 2, int(day))
        normal[:, i] = rng.standard_normal((4, DAY_MINUTES))
        unif[:, i] = rng.random((4, DAY_MINUTES))
        hourly[i] = rng.standard_normal(24)
    return normal, unif, hourly


def _rare(u: np.ndarray, per_day: float) -> tuple[np.ndarray, np.ndarray]:
    """Minutes where a rare event happens (``per_day`` on average) and an Exp(1) magnitude for each, taken from the
    same uniform (u / p is uniform on [0, 1) given u < p)."""
    p = per_day / DAY_MINUTES
    where = np.nonzero(u < p)
    return where, -np.log1p(-u[where] / p)


def _day_minutes(p: Profile, days: np.ndarray) -> np.ndarray:
    """Minute bars of the given days: array (len(BAR_FIELDS), len(days) * 1440)."""
    path = daily_path(p.symbol, int(days[-1]) + 1)
    x0, x1 = path.log_open(days), path.log_close[days]
    sig, mood = path.sigma[days][:, None], path.sentiment[np.maximum(days - 1, 0)][:, None]
    normal, unif, hourly = _random(p, days)
    # Hourly log-volatility, AR(1) with coefficient 0.7 and stationary std 0.45 (volatility clustering).
    h = np.empty_like(hourly)
    h[:, 0] = 0.45 * hourly[:, 0]
    for k in range(1, 24):
        h[:, k] = 0.7 * h[:, k - 1] + 0.45 * np.sqrt(1 - 0.49) * hourly[:, k]
    shape = SEASON[None, :] * np.repeat(np.exp(h), 60, axis=1)
    shape /= np.sqrt(np.mean(shape**2, axis=1, keepdims=True))
    msig = sig / np.sqrt(DAY_MINUTES) * shape  # per-minute volatility
    eps = msig * normal[0]
    up = unif[1] < 0.5
    at, size = _rare(unif[0], JUMPS_PER_DAY)
    eps[at] += np.where(up[at], 1.0, -1.0) * sig[at[0], 0] * (0.3 + 0.6 * size)
    walk = np.cumsum(eps, axis=1)
    weight = np.cumsum(msig**2, axis=1)
    weight /= weight[:, -1:]
    logc = x0[:, None] + walk - weight * (walk[:, -1:] - (x1 - x0)[:, None])
    logc[:, -1] = x1
    close = np.exp(logc)
    opens = np.concatenate([np.exp(x0)[:, None], close[:, :-1]], axis=1)
    move = np.diff(logc, axis=1, prepend=x0[:, None]) / msig
    wick = 0.6 * msig
    high = np.maximum(opens, close) * (1.0 + np.abs(normal[1]) * wick)
    low = np.minimum(opens, close) / (1.0 + np.abs(normal[2]) * wick)
    at, size = _rare(unif[2], SPIKES_PER_DAY)  # wicks that revert within the minute
    spike = np.exp(sig[at[0], 0] * (0.4 + 0.8 * size))
    high[at] = np.where(up[at], high[at] * spike, high[at])
    low[at] = np.where(up[at], low[at], low[at] / spike)
    out = np.empty((len(BAR_FIELDS), len(days), DAY_MINUTES))
    for row, values in enumerate((opens, high, low, close)):
        np.maximum(np.round(values / p.tick), 1.0, out=out[row])
        out[row] *= p.tick
    o, hi, lo, c = out[:4]
    activity = (sig / p.daily_vol) ** 0.8 * SEASON[None, :] * (0.6 + 0.5 * np.abs(move))
    typical = (o + hi + lo + c) / 4.0
    out[4] = p.daily_quote_volume / DAY_MINUTES * activity * np.exp(0.5 * normal[3] - 0.125) / typical
    out[5] = out[4] * typical
    share = np.clip(0.5 + 0.3 * np.tanh(move) + 0.06 * mood + 0.05 * (unif[3] - 0.5), 0.03, 0.97)
    out[6], out[7] = share * out[4], share * out[5]
    out[8] = np.maximum(np.round(out[5] / p.trade_size_usd), 1.0)
    return out.reshape(len(BAR_FIELDS), -1)


def aggregate(minutes: np.ndarray, per_bar: int) -> np.ndarray:
    """Exact OHLCV aggregation of consecutive minute bars (``minutes.shape[1]`` is a multiple of ``per_bar``)."""
    if per_bar == 1:
        return minutes
    m = minutes.reshape(minutes.shape[0], -1, per_bar)
    return np.stack([m[0, :, 0], m[1].max(axis=1), m[2].min(axis=1), m[3, :, -1], *m[4:].sum(axis=2)])


@lru_cache(maxsize=4)
def raw_block(symbol: str, block: int) -> np.ndarray:
    """Raw minute bars of the ``BLOCK_DAYS`` days of a block (no price impact)."""
    days = np.arange(block * BLOCK_DAYS, (block + 1) * BLOCK_DAYS)
    return _day_minutes(profile(symbol), days)
