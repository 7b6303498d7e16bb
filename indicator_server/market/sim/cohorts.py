"""The one definition of the simulated traders' cohorts, computed from a bar matrix (see ``traders.py``).

``open_cohorts(symbol, timeframe, first, kline, lead)`` opens the cohorts of bars ``first <= i < first + n`` on
the bar matrix ``kline`` (``prices.BAR_FIELDS`` rows, starting ``lead`` bars before ``first`` so the 24-hour
crowding look-back is inside it) and finds their voluntary closes and liquidations on those same bars. The price
impact (``impact.py``) calls it on its trial bars and ``traders.simulate`` on the final bars: one definition.
How each regime's traders size, enter and hold: ``regimes.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ...timeframes import TIMEFRAMES
from .daily import daily_path
from .first_passage import first_touch
from .params import (
    DAY_MINUTES,
    GENESIS_MS,
    LEVERAGE_TIERS,
    LONG_TICKET_FACTOR,
    MAINTENANCE_MARGIN_RATE,
    MAX_HOLD_MS,
    TICKET_USD,
    generator,
    profile,
)
from .regimes import Regime, regime_for

COHORT_BLOCK = 4096
TIERS = len(LEVERAGE_TIERS)
PER_BAR = 2 * TIERS  # longs first (tiers ascending), then shorts
_TF_STREAM = {tf: 16 + i for i, tf in enumerate(TIMEFRAMES)}
NOTIONAL_SIGMA = 0.35


def max_hold_bars(timeframe: str) -> int:
    """The longest holding time in bars: also the warm-up simulated before a requested range."""
    return -(-MAX_HOLD_MS // TIMEFRAMES[timeframe])


def hold_median_ms(regime: Regime, leverage: np.ndarray) -> np.ndarray:
    """Median holding time per leverage: ``hold_hours_at_2x / (L/2)^hold_exponent`` (log-normal around it)."""
    return regime.hold_hours_at_2x * 3_600_000 / (np.asarray(leverage) / 2.0) ** regime.hold_exponent


def base_open_interest(symbol: str) -> float:
    """Unleveraged/hedged open interest in base units, constant in time, added to the cohorts' quantity."""
    p, regime = profile(symbol), regime_for(symbol)
    hold = np.minimum(hold_median_ms(regime, LEVERAGE_TIERS) * math.exp(regime.hold_sigma**2 / 2), MAX_HOLD_MS)
    expected_usd = regime.open_flow_share * p.daily_quote_volume * float(
        np.sum(np.array(regime.tier_weights) * hold / 86_400_000))
    return regime.base_oi_share * expected_usd / p.start_price


def liquidation_price(entry: np.ndarray, leverage: np.ndarray, side: np.ndarray,
                      mmr: float = MAINTENANCE_MARGIN_RATE) -> np.ndarray:
    """Binance USD-M isolated liquidation price with maintenance amount 0 (DOMAIN.md section 2);
    ``side`` is +1 for longs and -1 for shorts."""
    return np.where(side > 0, entry * (1 - 1 / leverage) / (1 - mmr), entry * (1 + 1 / leverage) / (1 + mmr))


@lru_cache(maxsize=24)  # 3.2 MB each; the impact's passes reuse the same few blocks
def _draw_block(symbol: str, timeframe: str, block: int) -> tuple[np.ndarray, np.ndarray]:
    seed = profile(symbol).seed
    return (generator(seed, _TF_STREAM[timeframe], block).standard_normal((COHORT_BLOCK, 49)),
            generator(seed, _TF_STREAM[timeframe] + 64, block).random((COHORT_BLOCK, 48)))


def _draws(symbol: str, timeframe: str, first: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """Per bar: 49 standard normals (notional, entry noise, holding time, side noise) and 48 uniforms (entry
    mode, position inside the bar, round-number snap), keyed by (symbol, timeframe, block of bars)."""
    blocks = range(first // COHORT_BLOCK, (stop - 1) // COHORT_BLOCK + 1)
    normal = np.concatenate([_draw_block(symbol, timeframe, b)[0] for b in blocks])
    unif = np.concatenate([_draw_block(symbol, timeframe, b)[1] for b in blocks])
    offset = blocks[0] * COHORT_BLOCK
    return normal[first - offset: stop - offset], unif[first - offset: stop - offset]


@dataclass(frozen=True)
class Simulation:
    """Cohorts opened on bars ``first <= i < stop`` and the per-bar totals they make (bar arrays start at first).
    Cohort bar indices are absolute (since genesis); ``close_bar`` is -1 while a cohort is still open."""

    first: int
    stop: int
    time: np.ndarray
    close: np.ndarray
    high: np.ndarray
    low: np.ndarray
    open_bar: np.ndarray
    side: np.ndarray
    leverage: np.ndarray
    entry: np.ndarray
    notional: np.ndarray
    quantity: np.ndarray
    liq_price: np.ndarray
    close_bar: np.ndarray
    liquidated: np.ndarray
    accounts: np.ndarray
    long_qty: np.ndarray
    short_qty: np.ndarray
    long_accounts: np.ndarray
    short_accounts: np.ndarray


def _crowding(symbol: str, timeframe: str, first: int, stop: int, kline: np.ndarray, lead: int) -> np.ndarray:
    """Per bar: long share of new notional, from the 24 h return, the crowd's mood, the bar's direction, the
    price's place in its band (range regime) and the regime's drift (crowded trend)."""
    p, regime = profile(symbol), regime_for(symbol)
    per_day = DAY_MINUTES // (TIMEFRAMES[timeframe] // 60_000)
    idx = np.arange(first, stop)
    day = idx // per_day
    path = daily_path(symbol, int(day[-1]) + 1)
    sig, mood = path.sigma[day], path.sentiment[np.maximum(day - 1, 0)]
    close = kline[3]
    back = np.arange(lead, lead + len(idx)) - per_day
    prev = np.where(back >= 0, close[np.maximum(back, 0)], math.exp(path.log_open0))
    mom = np.log(close[lead:] / prev) / sig
    bar_move = np.log(close[lead:] / kline[0, lead:]) / (sig * math.sqrt(per_day ** -1.0))
    lo, hi = math.log(p.band_low) + p.drift * day, math.log(p.band_high) + p.drift * day
    place = (2.0 * np.log(close[lead:]) - lo - hi) / (hi - lo)  # -1 at the band's low, +1 at its high
    return (regime.long_bias + regime.momentum * np.tanh(mom) + 0.12 * mood + 0.06 * np.tanh(bar_move)
            - regime.band_reversion * np.tanh(2.0 * place) + regime.trend_lean * np.sign(p.drift))


def _entries(regime: Regime, o, h, lo, c, vwap, normal: np.ndarray, unif: np.ndarray) -> np.ndarray:
    """Entry price per cohort (bars x PER_BAR): VWAP + noise, dips or breakouts, some snapped to round numbers."""
    h, lo, vwap = h[:, None], lo[:, None], vwap[:, None]
    side = np.repeat([1.0, -1.0], TIERS)[None, :]
    at_vwap = np.clip(vwap + regime.entry_noise * (h - lo) * normal, lo, h)
    r = unif[:, 16:32] ** 2  # concentrated at the bar's edge
    near_low, near_high = lo + (vwap - lo) * r, h - (h - vwap) * r
    dip = np.where(side > 0, near_low, near_high)
    breakout = np.where(side > 0, near_high, near_low)
    mode = unif[:, :16]
    entry = np.where(mode < regime.entry_vwap, at_vwap,
                     np.where(mode < regime.entry_vwap + regime.entry_dip, dip, breakout))
    step = 5.0 * 10.0 ** (np.floor(np.log10(c)) - 2.0)[:, None]  # e.g. 500 USD at BTC's 65,000
    rounded = np.round(entry / step) * step
    snap = (unif[:, 32:48] < regime.entry_round) & (rounded >= lo) & (rounded <= h)
    return np.where(snap, rounded, entry)


def open_cohorts(symbol: str, timeframe: str, first: int, kline: np.ndarray, lead: int) -> Simulation:
    """Cohorts of bars ``first .. first + kline.shape[1] - lead - 1`` on the bar matrix ``kline`` (module doc)."""
    regime = regime_for(symbol)
    tf_ms = TIMEFRAMES[timeframe]
    o, h, lo, c, vol, quote = (kline[i, lead:] for i in range(6))
    n = kline.shape[1] - lead
    stop = first + n
    d, u = _draws(symbol, timeframe, first, stop)
    weights = np.array(regime.tier_weights)
    p_long = np.clip(_crowding(symbol, timeframe, first, stop, kline, lead) + 0.05 * d[:, 48], 0.08, 0.92)
    split = np.concatenate([p_long[:, None] * weights, (1 - p_long)[:, None] * weights], axis=1)
    day = np.arange(first, stop) * tf_ms // 86_400_000
    appetite = daily_path(symbol, int(day[-1]) + 1).appetite[day]
    notional = (regime.open_flow_share * appetite * quote)[:, None] * split * np.exp(NOTIONAL_SIGMA * d[:, :16]
                                                                           - NOTIONAL_SIGMA**2 / 2)
    entry = _entries(regime, o, h, lo, c, quote / vol, d[:, 16:32], u)
    lev = np.tile(LEVERAGE_TIERS, 2)[None, :]
    side = np.repeat([1, -1], TIERS)[None, :]
    hold_ms = hold_median_ms(regime, lev) * np.exp(regime.hold_sigma * d[:, 32:48])
    hold = np.clip(np.ceil(hold_ms / tf_ms), 1, max_hold_bars(timeframe)).astype("int64").ravel()
    lev_b, side_b = np.broadcast_to(lev, entry.shape).ravel(), np.broadcast_to(side, entry.shape).ravel()
    entry, notional = entry.ravel(), notional.ravel()
    lp = liquidation_price(entry, lev_b, side_b)
    opened = np.repeat(np.arange(n), PER_BAR)
    last = np.minimum(opened + hold, n - 1)
    touch = np.full(len(entry), -1, dtype="int64")
    longs = side_b > 0
    touch[longs] = first_touch(lo, lp[longs], opened[longs] + 1, last[longs], below=True)
    touch[~longs] = first_touch(h, lp[~longs], opened[~longs] + 1, last[~longs], below=False)
    planned = opened + hold
    close_rel = np.where(touch >= 0, touch, np.where(planned <= n - 1, planned, -1))
    # Whole lots and whole accounts: their totals are exact in float64, so they never depend on the window.
    lot = profile(symbol).lot
    lots = np.round(notional / entry / lot)
    qty = lots * lot
    notional = qty * entry
    accounts = np.maximum(np.round(notional / (TICKET_USD / np.sqrt(lev_b)
                                               * np.where(longs, LONG_TICKET_FACTOR, 1.0))), 1.0)

    def _open_total(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
        delta = np.bincount(opened[mask], values[mask], minlength=n + 1)
        closes = mask & (close_rel >= 0)
        delta -= np.bincount(close_rel[closes], values[closes], minlength=n + 1)
        return np.cumsum(delta)[:n]

    return Simulation(
        first=first, stop=stop, time=GENESIS_MS + np.arange(first, stop, dtype="int64") * tf_ms,
        close=c, high=h, low=lo, open_bar=opened + first, side=side_b, leverage=lev_b, entry=entry,
        notional=notional, quantity=qty, liq_price=lp, close_bar=np.where(close_rel >= 0, close_rel + first, -1),
        liquidated=touch >= 0, accounts=accounts,
        long_qty=_open_total(lots, longs) * lot, short_qty=_open_total(lots, ~longs) * lot,
        long_accounts=_open_total(accounts, longs), short_accounts=_open_total(accounts, ~longs),
    )
