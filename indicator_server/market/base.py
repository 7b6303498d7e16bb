"""The one interface every market data source implements, and the normalised frames they return.

Sources normalise once, at the edge: times are UTC epoch milliseconds of the bar's *open* as ``int64``, every
quantity is ``float64``, rows are sorted by time without duplicates, and only *closed* bars are returned (the
still-open last bar is dropped: a bar is closed when ``time + timeframe <= now``). Missing quantities are NaN.

Frames (pandas DataFrames with a plain RangeIndex):

``KLINE_COLUMNS``
    time, open, high, low, close, volume (base asset), quote_volume (USD), taker_buy_volume (base),
    taker_buy_quote_volume (USD), trades
``OPEN_INTEREST_COLUMNS``
    time, open_interest (base-asset units, e.g. BTC), open_interest_usd
``FUNDING_COLUMNS``
    time (funding event time), funding_rate (per interval, fraction), interval_hours
``LONG_SHORT_COLUMNS``
    time, long_short_ratio (accounts long / accounts short), long_account (fraction)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd

KLINE_COLUMNS = [
    "time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "quote_volume",
    "taker_buy_volume",
    "taker_buy_quote_volume",
    "trades",
]
OPEN_INTEREST_COLUMNS = ["time", "open_interest", "open_interest_usd"]
FUNDING_COLUMNS = ["time", "funding_rate", "interval_hours"]
LONG_SHORT_COLUMNS = ["time", "long_short_ratio", "long_account"]
LIQUIDATION_COLUMNS = ["time", "side", "price", "quantity", "usd"]


def empty_frame(columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})
    frame["time"] = frame["time"].astype("int64")
    return frame


def normalise(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Order columns, coerce dtypes, sort by time and drop duplicate times (the last one wins)."""
    out = pd.DataFrame(index=frame.index)
    for column in columns:
        if column in frame:
            out[column] = pd.to_numeric(frame[column], errors="coerce")
        else:
            out[column] = np.nan
    out = out.dropna(subset=["time"])
    out["time"] = out["time"].astype("int64")
    for column in columns[1:]:
        out[column] = out[column].astype("float64")
    out = out.sort_values("time", kind="stable").drop_duplicates("time", keep="last")
    return out.reset_index(drop=True)


@dataclass
class Fetched:
    """A frame and what the source wants the client to know about it."""

    frame: pd.DataFrame
    warnings: list[str] = field(default_factory=list)


class MarketSource(Protocol):
    """What the overlays need from an exchange. ``start``/``end`` are inclusive bar open times in ms."""

    name: str
    # Which series the venue publishes at all (capabilities as data, as freqtrade's ``_ft_has``).
    has: dict[str, bool]

    def check_symbol(self, symbol: str) -> str:
        """Return the venue's canonical symbol or raise ``UnknownSymbol``."""

    def fetch_klines(self, symbol: str, timeframe: str, start: int, end: int) -> Fetched: ...

    def fetch_open_interest(self, symbol: str, timeframe: str, start: int, end: int) -> Fetched: ...

    def fetch_funding(self, symbol: str, start: int, end: int) -> Fetched: ...

    def fetch_long_short_ratio(self, symbol: str, timeframe: str, start: int, end: int) -> Fetched: ...


# The assembled per-bar frame the overlays consume (``MarketService.bars``): klines joined with the open interest,
# funding rate in force and long/short ratio sampled as of each bar's close. ``funding_rate`` is the rate of the
# latest funding event at or before the bar's close (NaN before the first one).
BAR_COLUMNS = KLINE_COLUMNS + [
    "open_interest",
    "open_interest_usd",
    "funding_rate",
    "funding_interval_hours",
    "long_short_ratio",
    "long_account",
]
