"""Binance USD-M futures market data, normalised at the edge into the frames of :mod:`.base`.

Endpoints and formats follow Binance's USDS-M futures REST documentation ("Market Data" section):

- ``GET /fapi/v1/klines`` (limit max 1500): arrays ``[openTime, "open", "high", "low", "close", "volume",
  closeTime, "quoteVolume", trades, "takerBuyBase", "takerBuyQuote", "ignore"]``.
- ``GET /futures/data/openInterestHist`` (period 5m..1d, limit max 500, latest 30 days only):
  ``{"sumOpenInterest", "sumOpenInterestValue", "timestamp"}``.
- ``GET /fapi/v1/fundingRate`` (limit max 1000, ascending from startTime): ``{"fundingRate", "fundingTime"}``.
- ``GET /futures/data/globalLongShortAccountRatio`` (as openInterestHist):
  ``{"longShortRatio", "longAccount", "shortAccount", "timestamp"}``.
- ``GET /fapi/v1/premiumIndex``: mark and index price, ``lastFundingRate``, ``nextFundingTime``.

Decimal fields arrive as strings and times as numbers (the documentation shows some ``timestamp`` values as
strings; both are accepted). Open interest and long/short rows are snapshots: ``time`` is Binance's
``timestamp``, the instant on the period grid when they were taken. Funding ``time`` is ``fundingTime``
floored to the second (Binance stamps settlements a few ms late, e.g. ``...600015``), so it lines up with bars.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import requests

from ..errors import ApiError, InvalidArgument, UnknownSymbol, UpstreamBadResponse
from ..timeframes import DAY_MS, HOUR_MS, STAT_PERIODS, TIMEFRAMES, timeframe_ms
from .base import FUNDING_COLUMNS, KLINE_COLUMNS, LONG_SHORT_COLUMNS, OPEN_INTEREST_COLUMNS, Fetched, normalise
from .breaker import OPEN_SECONDS, Breaker
from .http import HttpClient

OPEN_INTEREST_HISTORY_DAYS = 30
KLINES_LIMIT = 1500
FUNDING_LIMIT = 1000
STATS_LIMIT = 500
DEFAULT_FUNDING_HOURS = 8.0
# Asking for exactly now-30d races Binance's own clock; start a minute inside the window.
_WINDOW_MARGIN_MS = 60_000
_KLINE_FIELDS = (0, 1, 2, 3, 4, 5, 7, 9, 10, 8)  # where each of KLINE_COLUMNS sits in a kline array
_SYMBOL_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%MZ")


def _binance_client_error(status: int, body: Any) -> ApiError | None:
    """Binance answers 400 ``{"code": -1121, "msg": "Invalid symbol."}`` for a symbol it does not list."""
    if isinstance(body, dict) and body.get("code") == -1121:
        return UnknownSymbol(
            "Binance USD-M futures does not list this symbol",
            details={"exchange": "binance", "upstream_code": -1121, "upstream_message": body.get("msg")},
        )
    return None


class BinanceSource:
    """The ``MarketSource`` for Binance USD-M perpetuals (``exchange=binance``)."""

    name = "binance"
    has = {"klines": True, "open_interest": True, "funding": True, "long_short_ratio": True, "mark_price": True}

    def __init__(
        self,
        base_url: str = "https://fapi.binance.com",
        *,
        connect_timeout: float = 3.05,
        read_timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        clock: Callable[[], float] = time.time,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        breaker_seconds: float = OPEN_SECONDS,
    ) -> None:
        # Once Binance did not answer, it is not asked again for a while (see .breaker).
        self.breaker = Breaker("binance", open_seconds=breaker_seconds, clock=clock)
        self.http = HttpClient(
            base_url,
            name="binance",
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries=retries,
            backoff=backoff,
            max_backoff=max_backoff,
            session=session,
            sleep=sleep,
            client_error=_binance_client_error,
            breaker=self.breaker,
        )
        self.clock = clock
        self._known_symbols: set[str] = set()

    def close(self) -> None:
        self.http.session.close()

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    # Symbols ------------------------------------------------------------------------------------------------
    @staticmethod
    def canonical_symbol(symbol: str) -> str:
        """``btcusdt``, ``BTC/USDT``, ``BTC-USDT`` and TradingView's ``BTCUSDT.P`` all mean ``BTCUSDT``."""
        canonical = symbol.strip().upper().removesuffix(".P")
        canonical = canonical.replace("/", "").replace("-", "").replace("_", "")
        if not 2 <= len(canonical) <= 30 or not set(canonical) <= _SYMBOL_CHARS:
            raise UnknownSymbol(f"{symbol!r} is not a Binance symbol", details={"symbol": symbol})
        return canonical

    def check_symbol(self, symbol: str) -> str:
        """The canonical symbol (:meth:`canonical_symbol`), once Binance confirmed it lists it."""
        canonical = self.canonical_symbol(symbol)
        if canonical not in self._known_symbols:
            self.fetch_premium_index(canonical)
            self._known_symbols.add(canonical)
        return canonical

    def fetch_premium_index(self, symbol: str) -> dict:
        payload = self.http.get_json("/fapi/v1/premiumIndex", {"symbol": symbol})
        if not isinstance(payload, dict):
            raise _bad_shape("/fapi/v1/premiumIndex", "an object", payload)
        try:
            return {
                "symbol": str(payload["symbol"]),
                "mark_price": float(payload["markPrice"]),
                "index_price": float(payload["indexPrice"]),
                "last_funding_rate": float(payload["lastFundingRate"]),
                "next_funding_time": int(payload["nextFundingTime"]),
                "time": int(payload["time"]),
            }
        except (KeyError, TypeError, ValueError) as exc:
            raise _bad_shape("/fapi/v1/premiumIndex", "markPrice, indexPrice, ...", payload) from exc

    # Klines -------------------------------------------------------------------------------------------------
    def fetch_klines(self, symbol: str, timeframe: str, start: int, end: int) -> Fetched:
        step = timeframe_ms(timeframe)
        _check_range(start, end)
        now = self.now_ms()
        rows: list[list] = []
        cursor = start
        for _ in range(_max_pages(start, end, step, KLINES_LIMIT)):
            params = {"symbol": symbol, "interval": timeframe, "startTime": cursor, "endTime": end,
                      "limit": KLINES_LIMIT}
            page = _list_of(self.http.get_json("/fapi/v1/klines", params), list, "/fapi/v1/klines")
            if not page:
                break
            rows.extend(page)
            last_open = _int(page[-1][0], "/fapi/v1/klines")
            if len(page) < KLINES_LIMIT or last_open + step > end or last_open + step <= cursor:
                break
            cursor = last_open + step
        if any(len(row) < 11 for row in rows):
            raise _bad_shape("/fapi/v1/klines", "kline arrays of 11+ fields", rows[0])
        table = [[row[i] for i in _KLINE_FIELDS] + [row[6]] for row in rows]
        frame = pd.DataFrame(table, columns=KLINE_COLUMNS + ["close_time"])
        closed = pd.to_numeric(frame["close_time"], errors="coerce") < now
        return Fetched(_clip(normalise(frame[closed], KLINE_COLUMNS), start, end))

    # Funding ------------------------------------------------------------------------------------------------
    def fetch_funding(self, symbol: str, start: int, end: int) -> Fetched:
        _check_range(start, end)
        rows: list[dict] = []
        cursor = start
        # Times are floored to the second below, so an event stamped a few ms after ``end`` belongs to it.
        until = end + 999
        for _ in range(_max_pages(start, end, HOUR_MS, FUNDING_LIMIT)):
            params = {"symbol": symbol, "startTime": cursor, "endTime": until, "limit": FUNDING_LIMIT}
            page = _list_of(self.http.get_json("/fapi/v1/fundingRate", params), dict, "/fapi/v1/fundingRate")
            if not page:
                break
            rows.extend(page)
            last = _int(page[-1].get("fundingTime"), "/fapi/v1/fundingRate")
            if len(page) < FUNDING_LIMIT or last + 1 <= cursor:
                break
            cursor = last + 1
        frame = pd.DataFrame(
            {
                "time": [row.get("fundingTime") for row in rows],
                "funding_rate": [row.get("fundingRate") for row in rows],
            }
        )
        frame = normalise(frame, FUNDING_COLUMNS)
        frame["time"] = frame["time"] - frame["time"] % 1000
        frame = frame.drop_duplicates("time", keep="last").reset_index(drop=True)
        frame["interval_hours"] = funding_interval_hours(frame["time"].to_numpy())
        return Fetched(_clip(frame, start, end))

    # Open interest and long/short ratio (30-day history) ---------------------------------------------------
    def fetch_open_interest(self, symbol: str, timeframe: str, start: int, end: int) -> Fetched:
        fields = {"time": "timestamp", "open_interest": "sumOpenInterest", "open_interest_usd": "sumOpenInterestValue"}
        return self._fetch_stats("/futures/data/openInterestHist", "open interest", fields,
                                 OPEN_INTEREST_COLUMNS, symbol, timeframe, start, end)

    def fetch_long_short_ratio(self, symbol: str, timeframe: str, start: int, end: int) -> Fetched:
        fields = {"time": "timestamp", "long_short_ratio": "longShortRatio", "long_account": "longAccount"}
        return self._fetch_stats("/futures/data/globalLongShortAccountRatio", "the long/short ratio", fields,
                                 LONG_SHORT_COLUMNS, symbol, timeframe, start, end)

    def _fetch_stats(self, path: str, what: str, fields: dict[str, str], columns: list[str], symbol: str,
                     timeframe: str, start: int, end: int) -> Fetched:
        timeframe_ms(timeframe)
        _check_range(start, end)
        period = stat_period(timeframe)
        step = TIMEFRAMES[period]
        now = self.now_ms()
        oldest = now - OPEN_INTEREST_HISTORY_DAYS * DAY_MS + _WINDOW_MARGIN_MS
        oldest += (-oldest) % step
        warnings = []
        first = max(start, oldest)
        if start < oldest:
            warnings.append(_history_warning(what, timeframe, start, min(oldest, end + 1)))
        last = min(end, now)
        rows: list[dict] = []
        cursor = first + (-first) % step
        while cursor <= last:
            window_end = min(last, cursor + (STATS_LIMIT - 1) * step)
            params = {"symbol": symbol, "period": period, "startTime": cursor, "endTime": window_end,
                      "limit": STATS_LIMIT}
            rows.extend(_list_of(self.http.get_json(path, params), dict, path))
            cursor = window_end + step
        frame = pd.DataFrame({column: [row.get(key) for row in rows] for column, key in fields.items()})
        return Fetched(_clip(normalise(frame, columns), start, end), warnings)


def stat_period(timeframe: str) -> str:
    """Binance's /futures/data periods start at 5m: a 1m chart gets 5-minute snapshots."""
    return timeframe if timeframe in STAT_PERIODS else "5m"


def funding_interval_hours(times: np.ndarray) -> np.ndarray:
    """Hours since the previous funding event (the first event takes the next gap; 8 when there is one event)."""
    hours = np.full(len(times), DEFAULT_FUNDING_HOURS)
    if len(times) > 1:
        gaps = np.round(np.diff(times.astype(np.int64)) / HOUR_MS)
        hours[1:] = gaps
        hours[0] = gaps[0]
    return hours


def _history_warning(what: str, timeframe: str, start: int, cut_end: int) -> str:
    cut_ms = cut_end - start
    bars = -(-cut_ms // timeframe_ms(timeframe))
    return (
        f"Binance serves {what} history for the last {OPEN_INTEREST_HISTORY_DAYS} days only: "
        f"{bars} {timeframe} bars ({cut_ms / DAY_MS:.1f} days, {_iso(start)} to {_iso(cut_end)}) were not "
        "requested from Binance; older bars come from the store or imported archives (Binance's daily "
        "metrics files), or stay empty."
    )


def _check_range(start: int, end: int) -> None:
    if end < start:
        raise InvalidArgument("end is before start", details={"start": start, "end": end})


def _max_pages(start: int, end: int, step: int, limit: int) -> int:
    return int((end - start) // (step * limit)) + 2


def _clip(frame: pd.DataFrame, start: int, end: int) -> pd.DataFrame:
    inside = (frame["time"] >= start) & (frame["time"] <= end)
    return frame[inside].reset_index(drop=True)


def _int(value: Any, path: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise _bad_shape(path, "integer times", value) from exc


def _list_of(payload: Any, item_type: type, path: str) -> list:
    if not isinstance(payload, list) or not all(isinstance(item, item_type) for item in payload):
        raise _bad_shape(path, f"a list of {item_type.__name__}", payload)
    return payload


def _bad_shape(path: str, expected: str, payload: Any) -> UpstreamBadResponse:
    return UpstreamBadResponse(
        f"binance {path}: unexpected answer (expected {expected})",
        details={"upstream": "binance", "received": repr(payload)[:120]},
    )
