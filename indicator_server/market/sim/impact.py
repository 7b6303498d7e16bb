"""Liquidations move the price: the square-root impact of forced orders on the 1-minute path (cascades).

A forced order of ``Q`` USD moves the log price by the square-root law of market impact,

    I = Y * sigma_daily * sqrt(Q / V_daily)

(Tóth, Lempérière, Deremble, de Lataillade, Kockelkoren, Bouchaud 2011, "Anomalous price impact and the critical
nature of liquidity in financial markets", Phys. Rev. X 1, 021006; Bouchaud 2010, "Price impact", Encyclopedia of
Quantitative Finance), with ``Y`` the regime's ``impact_y`` (of order 1 in the literature; larger in thin,
crowded markets), ``sigma_daily`` the day's GARCH volatility (``daily.py``) and ``V_daily`` the symbol's typical
daily quote volume. Long liquidations are forced sells (down), short liquidations forced buys (up).

The impact decays as a propagator (Bouchaud, Gefen, Potters, Wyart 2004, "Fluctuations and response in financial
markets"), here approximated by two exponentials: a share ``TRANSIENT_SHARE`` reverts with an e-folding time of
``TRANSIENT_MINUTES`` (hours: the wick is bought back), the rest with ``PERSISTENT_MINUTES`` (days: the move
stays a while, but the band of ``daily.py`` still holds). The log shift of minute ``t`` is
``S(t) = sum over events e <= t of I_e * (a * exp(-(t - t_e)/tau_t) + (1 - a) * exp(-(t - t_e)/tau_p))``.

Who moves the price: the 1h cohorts (``cohorts.open_cohorts``, the same code every timeframe uses). The forced
notional of an hour (quantity x liquidation price, per side) lands at the minute of that hour's extreme (its low
for long liquidations, its high for short ones), so it extends that wick: when the extension reaches the next
tier's liquidation prices, they are forced too (the cascade). The shift is computed per block of
``BLOCK_DAYS`` days from genesis on, sequentially across blocks (each block starts from the previous block's
decaying state and sees its final 1h bars) and by ``ITERATIONS`` fixed-point passes within a block (1h bars from
raw minutes + shift -> cohorts and their liquidations -> events -> shift), so a cascade of up to that many
steps inside one block is resolved; the price then follows the last pass's liquidations. Every timeframe
aggregates the adjusted minutes, so values stay deterministic and independent of the range asked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.signal import lfilter

from .cohorts import open_cohorts
from .daily import daily_path
from .minutes import aggregate, raw_block
from .params import BLOCK_DAYS, DAY_MINUTES, profile
from .regimes import regime_for

TRANSIENT_SHARE = 0.6
TRANSIENT_MINUTES = 180.0  # e-folding time of the transient part: 3 h
PERSISTENT_MINUTES = 3 * DAY_MINUTES  # e-folding time of the persistent part: 3 days
ITERATIONS = 4
BLOCK_MINUTES = BLOCK_DAYS * DAY_MINUTES
BLOCK_HOURS = BLOCK_MINUTES // 60
_DECAY = (math.exp(-1.0 / TRANSIENT_MINUTES), math.exp(-1.0 / PERSISTENT_MINUTES))


@dataclass(frozen=True)
class BlockImpact:
    """A block's log shift per minute, its two decaying components at the block's last minute, its final 1h bars,
    the forced notional per hour and side (long = forced sells) of the last pass and the minute of each final
    hour's low and high (where its long and short liquidations print)."""

    shift: np.ndarray
    carry: tuple[float, float]
    hourly: np.ndarray
    forced_long: np.ndarray
    forced_short: np.ndarray
    low_minute: np.ndarray
    high_minute: np.ndarray


def adjust(raw: np.ndarray, shift: np.ndarray, before: float, tick: float) -> np.ndarray:
    """Raw minute bars moved by ``exp(shift)`` (``before``: the shift of the minute before the block), on the tick
    grid: close, high and low move with the minute's shift, the open is the previous adjusted close, and the quote
    volumes follow the adjusted typical price (the base volumes do not change)."""
    out = raw.copy()
    factor = np.exp(shift)
    for row in (1, 2, 3):
        out[row] = np.maximum(np.round(raw[row] * factor / tick), 1.0) * tick
    first_open = max(round(raw[0, 0] * math.exp(before) / tick), 1.0) * tick
    out[0] = np.concatenate([[first_open], out[3, :-1]])
    out[1] = np.maximum(out[1], out[0])
    out[2] = np.minimum(out[2], out[0])
    typical = out[:4].sum(axis=0) / 4.0
    out[5] = raw[4] * typical
    out[7] = raw[6] * typical
    return out


def _extreme_minutes(minutes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minute (within the block) of each hour's low and of its high."""
    base = np.arange(BLOCK_HOURS) * 60
    return (base + minutes[2].reshape(BLOCK_HOURS, 60).argmin(axis=1),
            base + minutes[1].reshape(BLOCK_HOURS, 60).argmax(axis=1))


def _forced(symbol: str, block: int, hourly: np.ndarray, previous: BlockImpact | None) -> tuple[np.ndarray, ...]:
    """USD forced per hour of the block (longs, shorts): the 1h cohorts on the previous block's final bars and
    this block's trial bars (cohorts live at most 14 days < ``BLOCK_DAYS``, so two blocks hold every one)."""
    if previous is None:
        kline, first, lead = hourly, 0, 0
    else:
        kline, first, lead = np.concatenate([previous.hourly, hourly], axis=1), (block - 1) * BLOCK_HOURS + 24, 24
    sim = open_cohorts(symbol, "1h", first, kline, lead)
    rel = sim.close_bar - block * BLOCK_HOURS
    hit = sim.liquidated & (rel >= 0)
    usd = sim.quantity * sim.liq_price
    out = []
    for mask in (sim.side > 0, sim.side < 0):
        sel = hit & mask
        out.append(np.bincount(rel[sel], usd[sel], minlength=BLOCK_HOURS)[:BLOCK_HOURS])
    return tuple(out)


@lru_cache(maxsize=256)
def block_impact(symbol: str, block: int) -> BlockImpact:
    """The impact of the block's liquidations (module doc); blocks before it are computed first (cached)."""
    previous = block_impact(symbol, block - 1) if block > 0 else None
    p, regime = profile(symbol), regime_for(symbol)
    raw = raw_block(symbol, block)
    k = np.arange(1, BLOCK_MINUTES + 1)
    carry = previous.carry if previous else (0.0, 0.0)
    base = [carry[i] * _DECAY[i] ** k for i in (0, 1)]
    before = sum(carry)
    sigma = daily_path(symbol, (block + 1) * BLOCK_DAYS).sigma[block * BLOCK_DAYS: (block + 1) * BLOCK_DAYS]
    scale = regime.impact_y * np.repeat(sigma, 24) / math.sqrt(p.daily_quote_volume)  # I = scale * sqrt(Q)
    parts = base
    forced_long = forced_short = np.zeros(BLOCK_HOURS)
    for _ in range(ITERATIONS):
        minutes = adjust(raw, parts[0] + parts[1], before, p.tick)
        hourly = aggregate(minutes, 60)
        forced_long, forced_short = _forced(symbol, block, hourly, previous)
        if not (forced_long.any() or forced_short.any()):
            break
        low_at, high_at = _extreme_minutes(minutes)
        impulse = np.zeros(BLOCK_MINUTES)
        np.add.at(impulse, low_at, -scale * np.sqrt(forced_long))
        np.add.at(impulse, high_at, scale * np.sqrt(forced_short))
        parts = [lfilter([share], [1.0, -_DECAY[i]], impulse) + base[i]
                 for i, share in enumerate((TRANSIENT_SHARE, 1.0 - TRANSIENT_SHARE))]
    shift = parts[0] + parts[1]
    minutes = adjust(raw, shift, before, p.tick)
    low_at, high_at = _extreme_minutes(minutes)
    return BlockImpact(shift, (float(parts[0][-1]), float(parts[1][-1])), aggregate(minutes, 60),
                       forced_long, forced_short, low_at % 60, high_at % 60)


def adjusted_block(symbol: str, block: int) -> np.ndarray:
    """Minute bars of a block with the impact of liquidations (what every timeframe aggregates)."""
    impact = block_impact(symbol, block)
    before = sum(block_impact(symbol, block - 1).carry) if block > 0 else 0.0
    return adjust(raw_block(symbol, block), impact.shift, before, profile(symbol).tick)
