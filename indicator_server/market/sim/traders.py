"""Simulated leveraged traders: cohorts that open every bar, close after a holding time or get liquidated.

Every bar of a timeframe opens 16 cohorts (long and short x 8 leverage tiers). Each cohort's side share, leverage,
entry price, notional and holding time are functions of that bar's prices and of random numbers keyed by
(symbol, timeframe, bar), never of other cohorts, so a cohort is the same whatever range is simulated.

- New notional per bar = the regime's ``open_flow_share`` x the bar's quote volume, split long/short by crowding:
  the long share (``long_bias`` when nothing leans) leans with the 24-hour return (``momentum``), the crowd's
  daily sentiment, the bar's own direction, the price's place in its band (``band_reversion``) and the drift
  (``trend_lean``); then across leverage tiers with the regime's ``tier_weights`` and log-normal noise.
- Entry price: per the regime, VWAP plus noise, near the bar's low or high (dips, breakouts), a share snapped to
  a round number inside the bar (``regimes.py``), always inside the bar's [low, high].
- Liquidation price: Binance USD-M isolated, one-way, maintenance amount 0 (DOMAIN.md section 2):
  long ``EP*(1 - 1/L)/(1 - MMR)``, short ``EP*(1 + 1/L)/(1 + MMR)``, MMR 0.4 % (bracket 1).
- Holding time: log-normal, median ``hold_hours_at_2x`` and shorter as leverage rises (``/ (L/2)^hold_exponent``),
  rounded up to whole bars and capped at ``MAX_HOLD_MS`` (14 days). A cohort is liquidated in the first bar after
  its opening bar whose low (long) or high (short) reaches its liquidation price, if that comes before its
  voluntary close; it then leaves open interest at that bar's close. The opening bar itself is not searched
  (order inside it is unknown).
- Open interest (base units) at a bar's close = ``base_open_interest`` (a constant of unleveraged/hedged
  positions, the regime's ``base_oi_share`` of the expected leveraged open interest) + the quantity of every
  cohort open at that close. Cohorts are one side of contracts whose other side is held by market makers, who
  are not simulated.
- Quantities are whole lots (``Profile.lot``) and accounts whole numbers, so totals are exact whatever the window.
- Accounts (for the long/short account ratio) = notional / ticket, tickets ``TICKET_USD / sqrt(L)`` and 20 %
  smaller for longs (retail leans long, so the account ratio usually sits above 1 as on Binance).

Positions are simulated per timeframe (cohorts open on that timeframe's bars, so 1h and 4h open interest differ
in detail though not in level); because a cohort lives at most ``MAX_HOLD_MS``, simulating from that long before
a range makes every value inside it independent of the range asked. The 1h cohorts' liquidations move the price
of every timeframe (``impact.py``); the cohorts themselves are defined once, in ``cohorts.py``.
"""

from __future__ import annotations

from functools import lru_cache

from ...timeframes import DAY_MS, TIMEFRAMES
from .cohorts import Simulation, base_open_interest, liquidation_price, max_hold_bars, open_cohorts
from .prices import bars

__all__ = ["Simulation", "base_open_interest", "liquidation_price", "max_hold_bars", "simulate"]


@lru_cache(maxsize=6)  # a 1m simulation (25k bars x 16 cohorts) holds ~35 MB
def simulate(symbol: str, timeframe: str, first: int, stop: int) -> Simulation:
    """Cohorts opened on bars ``first <= i < stop`` of a timeframe, on its (impact-adjusted) bars."""
    per_day = DAY_MS // TIMEFRAMES[timeframe]
    ctx = max(0, first - per_day)
    return open_cohorts(symbol, timeframe, first, bars(symbol, timeframe, ctx, stop), first - ctx)
