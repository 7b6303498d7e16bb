"""An in-memory market source built from real recorded Binance data, with switchable failures."""

from __future__ import annotations

import numpy as np
import pandas as pd

from indicator_server.errors import UnknownSymbol, UpstreamBadResponse, UpstreamUnavailable
from indicator_server.market.base import (
    FUNDING_COLUMNS,
    KLINE_COLUMNS,
    LONG_SHORT_COLUMNS,
    OPEN_INTEREST_COLUMNS,
    Fetched,
    normalise,
)
from indicator_server.timeframes import HOUR_MS


def load_binance_1h(path) -> pd.DataFrame:
    raw = pd.read_csv(path)
    frame = pd.DataFrame(
        {
            "time": raw["openTime"],
            "open": raw["open"],
            "high": raw["high"],
            "low": raw["low"],
            "close": raw["close"],
            "volume": raw["volume"],
            "quote_volume": raw["quoteVolume"],
            "taker_buy_volume": raw["takerBuyBase"],
            "taker_buy_quote_volume": raw["takerBuyQuote"],
            "trades": raw["trades"],
        }
    )
    return normalise(frame, KLINE_COLUMNS)


class FakeSource:
    """Serves 1h klines from a frame; OI is a deterministic function of time; can be told to fail."""

    has = {"klines": True, "open_interest": True, "funding": True, "long_short_ratio": True}

    def __init__(self, klines: pd.DataFrame, name: str = "binance") -> None:
        self.name = name
        self.klines = klines
        self.fail: str | None = None  # None, "down" or "garbage"
        self.calls: list[tuple] = []

    def _maybe_fail(self):
        if self.fail == "down":
            raise UpstreamUnavailable("exchange unreachable", retry_after=7)
        if self.fail == "garbage":
            raise UpstreamBadResponse("exchange answered garbage")

    def check_symbol(self, symbol: str) -> str:
        self._maybe_fail()
        if symbol != "BTCUSDT":
            raise UnknownSymbol(f"unknown symbol {symbol}", details={"symbol": symbol})
        return symbol

    def fetch_klines(self, symbol, timeframe, start, end):
        self.calls.append(("klines", timeframe, start, end))
        self._maybe_fail()
        assert timeframe == "1h"
        k = self.klines
        return Fetched(k[(k["time"] >= start) & (k["time"] <= end)].reset_index(drop=True))

    def _samples(self, start, end):
        times = np.arange(start - start % HOUR_MS, end + 1, HOUR_MS, dtype="int64")
        times = times[times >= start]
        return times

    def fetch_open_interest(self, symbol, timeframe, start, end):
        self.calls.append(("open_interest", timeframe, start, end))
        self._maybe_fail()
        times = self._samples(start, end)
        oi = 80_000 + 5_000 * np.sin(times / (HOUR_MS * 24.0))
        return Fetched(normalise(pd.DataFrame({"time": times, "open_interest": oi}), OPEN_INTEREST_COLUMNS))

    def fetch_funding(self, symbol, start, end):
        self.calls.append(("funding", None, start, end))
        self._maybe_fail()
        step = 8 * HOUR_MS
        times = np.arange(start - start % step + step, end + 1, step, dtype="int64")
        rate = 0.0001 * np.cos(times / (step * 3.0))
        frame = pd.DataFrame({"time": times, "funding_rate": rate, "interval_hours": 8.0})
        return Fetched(normalise(frame, FUNDING_COLUMNS))

    def fetch_long_short_ratio(self, symbol, timeframe, start, end):
        self.calls.append(("long_short_ratio", timeframe, start, end))
        self._maybe_fail()
        times = self._samples(start, end)
        ratio = 1.0 + 0.5 * np.sin(times / (HOUR_MS * 50.0)) ** 2
        frame = pd.DataFrame({"time": times, "long_short_ratio": ratio, "long_account": ratio / (1 + ratio)})
        return Fetched(normalise(frame, LONG_SHORT_COLUMNS))
