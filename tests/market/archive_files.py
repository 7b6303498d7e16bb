"""Shared by the archive import tests: the recorded BTCUSDT files, and Binance public-data archives made from them."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import IN_CI

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "binance-btcusdt"
HOUR = 3_600_000
JAN = (1735689600000, 1738368000000)  # [2025-01-01, 2025-02-01) UTC
ARCHIVE_KLINE_HEADER = ["open_time", "open", "high", "low", "close", "volume", "close_time", "quote_volume",
                        "count", "taker_buy_volume", "taker_buy_quote_volume", "ignore"]
KLINE_PAIRS = {"open": "open", "high": "high", "low": "low", "close": "close", "volume": "volume",
               "quote_volume": "quoteVolume", "trades": "trades", "taker_buy_volume": "takerBuyBase",
               "taker_buy_quote_volume": "takerBuyQuote"}


def _need_data() -> None:
    if not DATA.is_dir() and not IN_CI:
        pytest.skip(f"shared market data not found at {DATA}")


def _month(frame: pd.DataFrame, column: str, start: int = JAN[0], end: int = JAN[1]) -> pd.DataFrame:
    return frame[(frame[column] >= start) & (frame[column] < end)].reset_index(drop=True)


def write_archive(path: Path, frame: pd.DataFrame, header: bool = True) -> Path:
    """Write ``frame`` as Binance does: a CSV, zipped under the same stem when ``path`` ends in .zip."""
    csv = frame.to_csv(index=False, header=header)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(path.stem + ".csv", csv)
    else:
        path.write_text(csv)
    return path


def archive_klines(source: pd.DataFrame, micro: bool = False) -> pd.DataFrame:
    """The shared camelCase klines in the archive's snake_case columns (optionally in microseconds)."""
    out = source.copy()
    out.columns = ARCHIVE_KLINE_HEADER
    if micro:
        out["open_time"] = out["open_time"] * 1000
        out["close_time"] = out["close_time"] * 1000 + 999
    return out


def archive_funding(source: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"calc_time": source["fundingTime"],
                         "funding_interval_hours": source["fundingIntervalHours"],
                         "last_funding_rate": source["fundingRate"]})


def metrics_frame() -> pd.DataFrame:
    """A day's first hour of a metrics file in Binance's format (5-minute rows, values of the right size)."""
    times = pd.date_range("2025-01-01 00:05:00", periods=12, freq="5min")
    i = np.arange(12)
    return pd.DataFrame({
        "create_time": times.strftime("%Y-%m-%d %H:%M:%S"),
        "symbol": "BTCUSDT",
        "sum_open_interest": 81_000.0 + 12.5 * i,
        "sum_open_interest_value": 7.6e9 + 1.0e6 * i,
        "count_toptrader_long_short_ratio": 1.2 + 0.01 * i,
        "sum_toptrader_long_short_ratio": 1.1 + 0.01 * i,
        "count_long_short_ratio": 1.9559 - 0.01 * i,
        "sum_taker_long_short_vol_ratio": 0.9 + 0.02 * i,
    })


def assert_klines_equal(stored: pd.DataFrame, source: pd.DataFrame) -> None:
    assert stored["time"].tolist() == source["openTime"].tolist()
    for ours, theirs in KLINE_PAIRS.items():
        np.testing.assert_allclose(stored[ours].to_numpy(), source[theirs].to_numpy(), rtol=1e-12, err_msg=ours)

