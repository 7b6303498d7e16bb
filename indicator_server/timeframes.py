"""Timeframes the server serves, and conversions between their names and milliseconds."""

from __future__ import annotations

from .errors import UnsupportedTimeframe

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS

TIMEFRAMES: dict[str, int] = {
    "1m": MINUTE_MS,
    "5m": 5 * MINUTE_MS,
    "15m": 15 * MINUTE_MS,
    "30m": 30 * MINUTE_MS,
    "1h": HOUR_MS,
    "2h": 2 * HOUR_MS,
    "4h": 4 * HOUR_MS,
    "6h": 6 * HOUR_MS,
    "12h": 12 * HOUR_MS,
    "1d": DAY_MS,
}

# Periods of Binance's /futures/data/* endpoints (open interest, long/short ratio): no 1m, no 2h sub-steps.
STAT_PERIODS = ("5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d")


def timeframe_ms(timeframe: str) -> int:
    try:
        return TIMEFRAMES[timeframe]
    except KeyError:
        raise UnsupportedTimeframe(
            f"timeframe {timeframe!r} is not supported",
            details={"timeframe": timeframe, "supported": list(TIMEFRAMES)},
        ) from None


def floor_time(ms: int, timeframe: str) -> int:
    step = timeframe_ms(timeframe)
    return ms - ms % step


def bars_per_day(timeframe: str) -> float:
    return DAY_MS / timeframe_ms(timeframe)
