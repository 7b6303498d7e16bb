"""What the Binance replay server answers with, built from ``shared/data/binance-btcusdt/``.

Kept out of the HTTP code so tests can compare the adapter's frames with the same rows the server sent.

- Klines: ``klines-1h.csv`` and ``klines-4h.csv`` are served as recorded (the CSV strings go out unchanged,
  so prices keep Binance's 2 decimals, volumes 3, quote volumes 5). 2h, 6h, 8h, 12h and 1d are aggregated
  from the 1h rows (first open, max high, min low, last close, summed volumes and trades, exact decimal sums;
  aggregating to 4h reproduces ``klines-4h.csv`` exactly). 1m, 3m, 5m, 15m, 30m have no source data: the
  server answers them with Binance's ``-1120 Invalid interval.``.
- Funding: ``funding.csv`` as recorded; ``markPrice``, absent from the CSV, is the close of the last 1h kline
  that closed at or before the funding time.
- Open interest and the long/short account ratio are not in the folder. They are synthesised by the formulas
  below, deterministic for any timestamp, at Binance's size for BTCUSDT (70k-100k BTC of open interest, 45-70%
  of accounts long) -- plausible shapes for tests, not market history.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import numpy as np

SYMBOL = "BTCUSDT"
DATA_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "binance-btcusdt"
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
INTERVAL_MS = {
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": HOUR_MS,
    "2h": 2 * HOUR_MS,
    "4h": 4 * HOUR_MS,
    "6h": 6 * HOUR_MS,
    "8h": 8 * HOUR_MS,
    "12h": 12 * HOUR_MS,
    "1d": DAY_MS,
}
RECORDED_INTERVALS = ("1h", "4h")
AGGREGATED_INTERVALS = ("2h", "6h", "8h", "12h", "1d")
STAT_PERIODS = ("5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d")


@dataclass(frozen=True)
class Series:
    """Rows in Binance's JSON shape and their times (sorted), for binary search."""

    times: np.ndarray
    rows: list


def _decimals(text: str) -> int:
    return len(text.split(".", 1)[1]) if "." in text else 0


def _kline_row(raw: list[str]) -> list:
    open_time, o, h, low, c, vol, close_time, qv, trades, tbb, tbq, ignore = raw
    return [int(open_time), o, h, low, c, vol, int(close_time), qv, int(trades), tbb, tbq, ignore]


def read_klines_csv(path: Path) -> list[list]:
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        return [_kline_row(raw) for raw in reader]


def aggregate_klines(hourly: list[list], interval_ms: int) -> list[list]:
    """UTC-aligned buckets of 1h klines; only complete buckets are kept."""
    out = []
    per_bucket = interval_ms // HOUR_MS
    index = 0
    while index < len(hourly):
        bucket = hourly[index][0] - hourly[index][0] % interval_ms
        group = []
        while index < len(hourly) and hourly[index][0] - hourly[index][0] % interval_ms == bucket:
            group.append(hourly[index])
            index += 1
        if len(group) != per_bucket:
            continue

        def total(column: int, group: list = group) -> str:
            places = _decimals(group[0][column])
            value = sum((Decimal(row[column]) for row in group), Decimal(0))
            return f"{value:.{places}f}"

        high = max(group, key=lambda row: Decimal(row[2]))[2]
        low = min(group, key=lambda row: Decimal(row[3]))[3]
        trades = sum(row[8] for row in group)
        out.append(
            [bucket, group[0][1], high, low, group[-1][4], total(5), bucket + interval_ms - 1, total(7),
             trades, total(9), total(10), "0"]
        )
    return out


@lru_cache(maxsize=4)
def load_klines(data_dir: Path = DATA_DIR) -> dict[str, Series]:
    hourly = read_klines_csv(data_dir / "klines-1h.csv")
    by_interval = {"1h": hourly, "4h": read_klines_csv(data_dir / "klines-4h.csv")}
    for interval in AGGREGATED_INTERVALS:
        by_interval[interval] = aggregate_klines(hourly, INTERVAL_MS[interval])
    return {
        interval: Series(np.array([row[0] for row in rows], dtype=np.int64), rows)
        for interval, rows in by_interval.items()
    }


@lru_cache(maxsize=4)
def load_funding(data_dir: Path = DATA_DIR) -> Series:
    hourly = load_klines(data_dir)["1h"]
    rows = []
    with (data_dir / "funding.csv").open(newline="") as handle:
        reader = csv.DictReader(handle)
        for raw in reader:
            funding_time = int(raw["fundingTime"])
            mark = price_at(funding_time, hourly)
            rows.append(
                {
                    "symbol": SYMBOL,
                    "fundingTime": funding_time,
                    "fundingRate": raw["fundingRate"],
                    "markPrice": f"{mark:.8f}",
                }
            )
    return Series(np.array([row["fundingTime"] for row in rows], dtype=np.int64), rows)


def price_at(ms: int, hourly: Series) -> float:
    """Close of the last 1h kline that closed at or before ``ms`` (the first open before the data starts)."""
    index = int(np.searchsorted(hourly.times, ms - HOUR_MS, side="right")) - 1
    if index < 0:
        return float(hourly.rows[0][1])
    return float(hourly.rows[index][4])


def open_interest_btc(ms: int) -> float:
    """Synthetic BTCUSDT open interest in BTC at ``ms``, rounded to Binance's 0.001 BTC step.

    ``85,000 * (1 + 0.10 sin(2 pi t / 19 d) + 0.04 sin(2 pi t / 53 h) + 0.01 sin(2 pi t / 7 h))``: slow
    swings of +-10% (Binance BTCUSDT held roughly 70k-100k BTC in 2025) with faster wiggles so OI deltas
    change sign.
    """
    t = ms / 1000.0
    value = 85_000.0 * (
        1.0
        + 0.10 * math.sin(2 * math.pi * t / (19 * 86_400))
        + 0.04 * math.sin(2 * math.pi * t / (53 * 3_600))
        + 0.01 * math.sin(2 * math.pi * t / (7 * 3_600))
    )
    return round(value, 3)


def long_account(ms: int) -> float:
    """Synthetic share of accounts long at ``ms``, rounded to 4 decimals:
    ``0.57 + 0.10 sin(2 pi t / 9 d) + 0.03 sin(2 pi t / 29 h)`` (Binance's global BTCUSDT ratio usually sits
    between 0.45 and 0.70 long)."""
    t = ms / 1000.0
    slow = 0.10 * math.sin(2 * math.pi * t / (9 * 86_400))
    value = 0.57 + slow + 0.03 * math.sin(2 * math.pi * t / (29 * 3_600))
    return round(value, 4)


def open_interest_row(ms: int, hourly: Series) -> dict:
    oi = open_interest_btc(ms)
    return {
        "symbol": SYMBOL,
        "sumOpenInterest": f"{oi:.8f}",
        "sumOpenInterestValue": f"{oi * price_at(ms, hourly):.8f}",
        "CMCCirculatingSupply": "19890000.000",
        "timestamp": ms,
    }


def long_short_row(ms: int) -> dict:
    long_share = long_account(ms)
    short_share = round(1.0 - long_share, 4)
    return {
        "symbol": SYMBOL,
        "longShortRatio": f"{long_share / short_share:.4f}",
        "longAccount": f"{long_share:.4f}",
        "shortAccount": f"{short_share:.4f}",
        "timestamp": ms,
    }
