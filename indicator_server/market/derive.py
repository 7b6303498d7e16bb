"""Klines of a coarse timeframe derived from a finer stored one (4h and 1d from 1h, 15m from 1m or 5m, ...).

A derived bar opens at a multiple of its timeframe (epoch-aligned, as Binance aligns its klines: 4h bars open at
00:00, 04:00, ... UTC, 1d bars at 00:00 UTC) and exists only when *every* finer bar of its period is stored: a
partial period is left out rather than drawn from part of its trades. OHLCV aggregation is the exchanges' own
(and pandas' ``resample().ohlc()``): open of the first bar, highest high, lowest low, close of the last bar;
volume, quote volume, taker buy volumes and trade counts summed. Binance's klines-4h archive equals this
aggregation of its klines-1h archive (tests/market/test_offline.py checks it on the recorded BTCUSDT data).

Point samples need no aggregation: open interest, the long/short ratio and the funding rate are joined to the
derived bars *as of each bar's close* (:func:`.assemble.assemble_bars`), which is the last sample of the period
for open interest and the rate in force at the close for funding.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..timeframes import TIMEFRAMES
from .base import KLINE_COLUMNS, empty_frame

_SUMMED = ["volume", "quote_volume", "taker_buy_volume", "taker_buy_quote_volume", "trades"]


def finer_timeframes(timeframe: str) -> list[str]:
    """Stored timeframes a ``timeframe`` bar can be built from, coarsest first (the fewest rows to read)."""
    step = TIMEFRAMES[timeframe]
    finer = [name for name, ms in TIMEFRAMES.items() if ms < step and step % ms == 0]
    return sorted(finer, key=lambda name: -TIMEFRAMES[name])


def last_complete_open(last_fine_open: int, fine_step: int, step: int) -> int:
    """Open time of the newest ``step`` bar whose period ends by the close of the finer bar ``last_fine_open``."""
    close = last_fine_open + fine_step
    return close - close % step - step


def aggregate_klines(fine: pd.DataFrame, fine_step: int, step: int) -> pd.DataFrame:
    """``fine`` klines (KLINE_COLUMNS, sorted, unique times) as ``step`` klines, complete periods only."""
    if fine.empty or step % fine_step:
        return empty_frame(KLINE_COLUMNS)
    times = fine["time"].to_numpy(dtype="int64")
    period = times - times % step
    starts = np.flatnonzero(np.r_[True, period[1:] != period[:-1]])
    counts = np.diff(np.r_[starts, len(times)])
    complete = counts == step // fine_step
    if not complete.any():
        return empty_frame(KLINE_COLUMNS)
    ends = starts + counts - 1
    out = {
        "time": period[starts],
        "open": fine["open"].to_numpy()[starts],
        "high": np.maximum.reduceat(fine["high"].to_numpy(), starts),
        "low": np.minimum.reduceat(fine["low"].to_numpy(), starts),
        "close": fine["close"].to_numpy()[ends],
    }
    for column in _SUMMED:
        # NaN-free sums: a missing taker split in one finer bar makes the coarse one unknown, not smaller.
        out[column] = np.add.reduceat(fine[column].to_numpy(dtype="float64"), starts)
    frame = pd.DataFrame(out)[KLINE_COLUMNS]
    return frame[complete].reset_index(drop=True)


def newest_stored_open(repo, exchange: str, symbol: str, timeframe: str) -> int | None:
    """Open time of the newest ``timeframe`` bar the store holds or can derive from a finer stored timeframe."""
    step = TIMEFRAMES[timeframe]
    candidates = []
    last = repo.span("klines", exchange, symbol, timeframe)[1]
    if last is not None:
        candidates.append(int(last))
    for finer in finer_timeframes(timeframe):
        last = repo.span("klines", exchange, symbol, finer)[1]
        if last is not None:
            candidates.append(last_complete_open(int(last), TIMEFRAMES[finer], step))
    return max(candidates) if candidates else None


def complete_klines(repo, exchange: str, symbol: str, timeframe: str | None, start: int, end: int,
                    stored: pd.DataFrame, kind: str = "klines") -> tuple[pd.DataFrame, list[str]]:
    """``stored`` bars of [start, end] plus those derived from a finer stored timeframe; a note when any were."""
    if kind != "klines" or timeframe is None:
        return stored, []
    step = TIMEFRAMES[timeframe]
    expected = (end - start) // step + 1
    best, used = stored, None
    for finer in finer_timeframes(timeframe):
        if len(best) >= expected:
            break
        fine_step = TIMEFRAMES[finer]
        fine = repo.load("klines", exchange, symbol, start, end + step - fine_step, timeframe=finer)
        derived = aggregate_klines(fine, fine_step, step)
        if derived.empty:
            continue
        merged = pd.concat([best, derived], ignore_index=True) if len(best) else derived
        merged = merged.drop_duplicates("time", keep="first").sort_values("time", kind="stable")
        merged = merged[(merged["time"] >= start) & (merged["time"] <= end)].reset_index(drop=True)
        if len(merged) > len(best):
            best, used = merged, finer
    if used is None:
        return stored, []
    return best, [
        f"{timeframe} bars derived from stored {used} bars (open first, high max, "
        "low min, close last, volumes and trades summed; open interest and funding as of each bar's close)"
    ]
