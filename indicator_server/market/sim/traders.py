"""Simulated leveraged traders: cohorts that open every bar, close after a holding time or get liquidated.

Every bar of a timeframe opens 16 cohorts (long and short x 8 leverage tiers). Each cohort's side share, leverage,
entry price, notional and holding time are functions of that bar's prices and of random numbers keyed by
(symbol, timeframe, bar), never of other cohorts, so a cohort is the same whatever range is simulated.

- New notional per bar = ``OPEN_FLOW_SHARE`` x the bar's quote volume, split long/short by crowding: the long share
  (``LONG_BIAS`` when nothing leans) leans with the 24-hour return, the crowd's daily sentiment and the bar's own
  direction (entry flow leans long after rallies, short after dumps); then across leverage tiers with
  ``TIER_WEIGHTS`` and log-normal noise.
- Entry price: the bar's VWAP (quote volume / volume) plus noise, clipped into the bar's [low, high].
- Liquidation price: Binance USD-M isolated, one-way, maintenance amount 0 (DOMAIN.md section 2):
  long ``EP*(1 - 1/L)/(1 - MMR)``, short ``EP*(1 + 1/L)/(1 + MMR)``, MMR 0.4 % (bracket 1).
- Holding time: log-normal, median 36 h at 2x and shorter as leverage rises (``/ sqrt(L/2)``), rounded up to whole
  bars and capped at ``MAX_HOLD_MS`` (14 days). A cohort is liquidated in the first bar after its opening bar whose
  low (long) or high (short) reaches its liquidation price, if that comes before its voluntary close; it then
  leaves open interest at that bar's close. The opening bar itself is not searched (order inside it is unknown).
- Open interest (base units) at a bar's close = ``base_open_interest`` (a constant of unleveraged/hedged
  positions, ``BASE_OI_SHARE`` of the expected leveraged open interest) + the quantity of every cohort open at that
  close. Cohorts are one side of contracts whose other side is held by market makers, who are not simulated.
- Quantities are whole lots (``Profile.lot``) and accounts whole numbers, so totals are exact whatever the window.
- Accounts (for the long/short account ratio) = notional / ticket, tickets ``TICKET_USD / sqrt(L)`` and 20 %
  smaller for longs (retail leans long, so the account ratio usually sits above 1 as on Binance).

Positions are simulated per timeframe (cohorts open on that timeframe's bars, so 1h and 4h open interest differ
in detail though not in level); because a cohort lives at most ``MAX_HOLD_MS``, simulating from that long before
a range makes every value inside it independent of the range asked. Liquidations do not feed back into price:
the price path is shared by all timeframes and would otherwise depend on the timeframe's cohorts.
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
    BASE_OI_SHARE,
    DAY_MINUTES,
    GENESIS_MS,
    HOLD_MEDIAN_MS_AT_2X,
    HOLD_SIGMA,
    LEVERAGE_TIERS,
    LONG_BIAS,
    LONG_TICKET_FACTOR,
    MAINTENANCE_MARGIN_RATE,
    MAX_HOLD_MS,
    OPEN_FLOW_SHARE,
    TICKET_USD,
    TIER_WEIGHTS,
    generator,
    profile,
)
from .prices import bars, minutes_per_bar

COHORT_BLOCK = 4096
TIERS = len(LEVERAGE_TIERS)
PER_BAR = 2 * TIERS  # longs first (tiers ascending), then shorts
_TF_STREAM = {tf: 16 + i for i, tf in enumerate(TIMEFRAMES)}
NOTIONAL_SIGMA = 0.35


def max_hold_bars(timeframe: str) -> int:
    """The longest holding time in bars: also the warm-up simulated before a requested range."""
    return -(-MAX_HOLD_MS // TIMEFRAMES[timeframe])


def base_open_interest(symbol: str) -> float:
    """Unleveraged/hedged open interest in base units, constant in time, added to the cohorts' quantity."""
    p = profile(symbol)
    hold_days = HOLD_MEDIAN_MS_AT_2X / np.sqrt(LEVERAGE_TIERS / 2.0) * math.exp(HOLD_SIGMA**2 / 2) / 86_400_000
    expected_usd = OPEN_FLOW_SHARE * p.daily_quote_volume * float(np.sum(TIER_WEIGHTS * hold_days))
    return BASE_OI_SHARE * expected_usd / p.start_price


def liquidation_price(entry: np.ndarray, leverage: np.ndarray, side: np.ndarray,
                      mmr: float = MAINTENANCE_MARGIN_RATE) -> np.ndarray:
    """Binance USD-M isolated liquidation price with maintenance amount 0 (DOMAIN.md section 2);
    ``side`` is +1 for longs and -1 for shorts."""
    return np.where(side > 0, entry * (1 - 1 / leverage) / (1 - mmr), entry * (1 + 1 / leverage) / (1 + mmr))


def _draws(symbol: str, timeframe: str, first: int, stop: int) -> np.ndarray:
    seed = profile(symbol).seed
    blocks = range(first // COHORT_BLOCK, (stop - 1) // COHORT_BLOCK + 1)
    joined = np.concatenate([generator(seed, _TF_STREAM[timeframe], b).standard_normal((COHORT_BLOCK, 49))
                             for b in blocks])
    offset = blocks[0] * COHORT_BLOCK
    return joined[first - offset: stop - offset]


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


def _crowding(symbol: str, timeframe: str, first: int, stop: int, kline: np.ndarray, lead: int):
    """Per bar: long share of new notional and the bar's per-unit volatility scale."""
    per_day = DAY_MINUTES // minutes_per_bar(timeframe)
    idx = np.arange(first, stop)
    day = idx // per_day
    path = daily_path(symbol, int(day[-1]) + 1)
    sig, mood = path.sigma[day], path.sentiment[np.maximum(day - 1, 0)]
    close = kline[3]
    back = np.arange(lead, lead + len(idx)) - per_day
    prev = np.where(back >= 0, close[np.maximum(back, 0)], math.exp(path.log_open0))
    mom = np.log(close[lead:] / prev) / sig
    bar_move = np.log(close[lead:] / kline[0, lead:]) / (sig * math.sqrt(per_day ** -1.0))
    return LONG_BIAS + 0.2 * np.tanh(mom) + 0.12 * mood + 0.06 * np.tanh(bar_move)


@lru_cache(maxsize=6)  # a 1m simulation (25k bars x 16 cohorts) holds ~35 MB
def simulate(symbol: str, timeframe: str, first: int, stop: int) -> Simulation:
    tf_ms = TIMEFRAMES[timeframe]
    per_day = DAY_MINUTES // minutes_per_bar(timeframe)
    ctx = max(0, first - per_day)
    kline = bars(symbol, timeframe, ctx, stop)
    lead = first - ctx
    o, h, lo, c, vol, quote = (kline[i, lead:] for i in range(6))
    n = stop - first
    d = _draws(symbol, timeframe, first, stop)
    p_long = np.clip(_crowding(symbol, timeframe, first, stop, kline, lead) + 0.05 * d[:, 48], 0.08, 0.92)
    split = np.concatenate([p_long[:, None] * TIER_WEIGHTS, (1 - p_long)[:, None] * TIER_WEIGHTS], axis=1)
    notional = (OPEN_FLOW_SHARE * quote)[:, None] * split * np.exp(NOTIONAL_SIGMA * d[:, :16]
                                                                    - NOTIONAL_SIGMA**2 / 2)
    entry = np.clip((quote / vol)[:, None] + 0.25 * (h - lo)[:, None] * d[:, 16:32], lo[:, None], h[:, None])
    lev = np.tile(LEVERAGE_TIERS, 2)[None, :]
    side = np.repeat([1, -1], TIERS)[None, :]
    hold_ms = HOLD_MEDIAN_MS_AT_2X / np.sqrt(lev / 2.0) * np.exp(HOLD_SIGMA * d[:, 32:48])
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

    def _open_total(weights: np.ndarray, mask: np.ndarray) -> np.ndarray:
        delta = np.bincount(opened[mask], weights[mask], minlength=n + 1)
        closes = mask & (close_rel >= 0)
        delta -= np.bincount(close_rel[closes], weights[closes], minlength=n + 1)
        return np.cumsum(delta)[:n]

    return Simulation(
        first=first, stop=stop, time=GENESIS_MS + np.arange(first, stop, dtype="int64") * tf_ms,
        close=c, high=h, low=lo, open_bar=opened + first, side=side_b, leverage=lev_b, entry=entry,
        notional=notional, quantity=qty, liq_price=lp, close_bar=np.where(close_rel >= 0, close_rel + first, -1),
        liquidated=touch >= 0, accounts=accounts,
        long_qty=_open_total(lots, longs) * lot, short_qty=_open_total(lots, ~longs) * lot,
        long_accounts=_open_total(accounts, longs), short_accounts=_open_total(accounts, ~longs),
    )
