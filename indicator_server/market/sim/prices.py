"""Bars of every timeframe of the simulated world: raw minutes (``minutes.py``) moved by the price impact of the
1h cohorts' liquidations (``impact.py``), then aggregated exactly.

Every timeframe is aggregated from the same adjusted minutes (open = first, close = last, high = max, low = min,
volumes and trades summed), so a 4h bar equals the aggregate of its four 1h bars, and so on down to 1m.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ...timeframes import TIMEFRAMES
from .impact import adjusted_block
from .minutes import BAR_FIELDS, aggregate, minutes_per_bar
from .params import BLOCK_DAYS, DAY_MINUTES

__all__ = ["BAR_FIELDS", "FINE", "aggregate", "bars", "minutes_per_bar"]
FINE = ("1m", "5m", "15m", "30m")


@lru_cache(maxsize=3)
def _minute_block(symbol: str, block: int) -> np.ndarray:
    return adjusted_block(symbol, block)


@lru_cache(maxsize=32)
def _fine_block(symbol: str, block: int) -> dict[str, np.ndarray]:
    minutes = _minute_block(symbol, block)
    return {tf: aggregate(minutes, minutes_per_bar(tf)) for tf in FINE if tf != "1m"}


@lru_cache(maxsize=160)
def _coarse_block(symbol: str, block: int) -> dict[str, np.ndarray]:
    fine = aggregate(_minute_block(symbol, block), 30)
    return {tf: aggregate(fine, minutes_per_bar(tf) // 30) for tf in TIMEFRAMES if tf not in FINE}


def _block_bars(symbol: str, timeframe: str, block: int) -> np.ndarray:
    if timeframe == "1m":
        return _minute_block(symbol, block)
    if timeframe in FINE:
        return _fine_block(symbol, block)[timeframe]
    return _coarse_block(symbol, block)[timeframe]


def bars(symbol: str, timeframe: str, first: int, stop: int) -> np.ndarray:
    """Bars ``first <= i < stop`` (index since genesis) of a timeframe: array (len(BAR_FIELDS), stop - first)."""
    per_block = BLOCK_DAYS * DAY_MINUTES // minutes_per_bar(timeframe)
    if stop <= first:
        return np.empty((len(BAR_FIELDS), 0))
    blocks = range(first // per_block, (stop - 1) // per_block + 1)
    joined = np.concatenate([_block_bars(symbol, timeframe, b) for b in blocks], axis=1)
    offset = blocks[0] * per_block
    return joined[:, first - offset: stop - offset]
