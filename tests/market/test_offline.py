"""BINANCE_OFFLINE serves what is stored: the newest stored bars by default, coarser timeframes derived from 1h.

The store is the recorded BTCUSDT 1h klines and funding (2025-01-01 .. 2026-07-31) imported as
``indicator-server import`` does; the clock is months after the data ends.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from indicator_server.config import Settings
from indicator_server.market.base import OPEN_INTEREST_COLUMNS, normalise
from indicator_server.market.derive import aggregate_klines, finer_timeframes, last_complete_open
from indicator_server.market.service import MarketService
from indicator_server.store.db import Database
from indicator_server.store.market_repo import MarketRepository
from indicator_server.timeframes import DAY_MS, HOUR_MS
from tests.conftest import Clock, shared_data
from tests.fakes import FakeSource, load_binance_1h

NOW = 1796158800.0  # 2026-12-01T21:00Z
LAST_STORED_1H = 1785538800000  # 2026-07-31T23:00Z opens the last recorded hour
KLINE_VALUES = ["open", "high", "low", "close", "volume", "quote_volume", "taker_buy_volume",
                "taker_buy_quote_volume", "trades"]


@pytest.fixture(scope="module")
def klines_1h():
    return load_binance_1h(shared_data("binance-btcusdt", "klines-1h.csv"))


@pytest.fixture(scope="module")
def klines_4h():
    return load_binance_1h(shared_data("binance-btcusdt", "klines-4h.csv"))  # same columns


@pytest.fixture
def offline(imported_db_url, klines_1h):
    settings = Settings(database_url=imported_db_url, binance_offline=True, market_cache_seconds=0)
    db = Database(settings.database_url)
    repo = MarketRepository(db)
    source = FakeSource(klines_1h)
    yield MarketService(settings, {"binance": source}, repo, clock=Clock(NOW)), source, repo
    assert source.calls == []  # offline: Binance is never asked
    db.dispose()


def test_the_default_request_serves_the_newest_stored_bars_marked_stale(offline):
    market, _, _ = offline
    bars = market.bars("binance", "BTCUSDT", "1h", limit=100)
    # Before: the range ended at the last closed bar (2026-12-01T20:00Z): 0 bars and stale false.
    assert bars.meta["bars"] == 100 and bars.meta["end"] == LAST_STORED_1H
    assert np.all(np.diff(bars.requested["time"]) == HOUR_MS)
    assert bars.meta["freshness"]["stale"] is True
    assert any("up to 2026-08-01T00:00Z" in w and "BINANCE_OFFLINE" in w for w in bars.meta["warnings"])
    assert bars.requested["funding_rate"].notna().all()


def test_an_explicit_range_inside_the_store_is_not_stale(offline):
    market, _, _ = offline
    bars = market.bars("binance", "BTCUSDT", "1h", limit=24, end=LAST_STORED_1H - DAY_MS)
    assert bars.meta["bars"] == 24 and bars.meta["freshness"]["stale"] is False
    assert not any("BINANCE_OFFLINE" in w for w in bars.meta["warnings"])


def test_4h_derived_from_stored_1h_equals_binances_own_4h(offline, klines_4h):
    market, _, _ = offline
    bars = market.bars("binance", "BTCUSDT", "4h", limit=500)
    got = bars.requested
    want = klines_4h[klines_4h["time"].isin(got["time"])].reset_index(drop=True)
    assert len(got) == 500 and got["time"].iloc[-1] == LAST_STORED_1H - 3 * HOUR_MS
    assert len(want) == 500  # every derived bar is a bar Binance recorded
    for column in KLINE_VALUES:
        np.testing.assert_allclose(got[column], want[column], rtol=1e-9, err_msg=column)
    assert any("derived from stored 1h bars" in w for w in bars.meta["warnings"])
    assert bars.meta["freshness"]["stale"] is True


def test_1d_is_the_pandas_resample_of_1h_with_funding_and_oi_as_of_the_close(offline, klines_1h):
    market, _, repo = offline
    start, end = 1748736000000, 1751241600000  # 2025-06-01 .. 2025-06-30, 30 days
    hours = klines_1h[(klines_1h["time"] >= start) & (klines_1h["time"] < end + DAY_MS)]
    oi = pd.DataFrame({"time": hours["time"] + HOUR_MS, "open_interest": np.arange(len(hours)) + 70_000.0})
    repo.save("open_interest", "binance", "BTCUSDT", normalise(oi, OPEN_INTEREST_COLUMNS))
    daily = market.bars("binance", "BTCUSDT", "1d", start=start, end=end, limit=100).requested
    hourly = market.bars("binance", "BTCUSDT", "1h", start=start, end=end + 23 * HOUR_MS, limit=1500).requested

    frame = hours.assign(ts=pd.to_datetime(hours["time"], unit="ms", utc=True)).set_index("ts")
    want = frame.resample("1D").agg({"open": "first", "high": "max", "low": "min", "close": "last",
                                     "volume": "sum", "quote_volume": "sum", "taker_buy_volume": "sum",
                                     "taker_buy_quote_volume": "sum", "trades": "sum"})
    assert len(daily) == 30 == len(want)
    for column in KLINE_VALUES:
        np.testing.assert_allclose(daily[column], want[column], rtol=1e-9, err_msg=column)
    last_hours = hourly[hourly["time"] % DAY_MS == 23 * HOUR_MS].reset_index(drop=True)
    for column in ("funding_rate", "open_interest", "open_interest_usd"):  # as of the day's close
        np.testing.assert_allclose(daily[column], last_hours[column], rtol=1e-12, err_msg=column)
    assert daily["open_interest"].iloc[0] == 70_000.0 + 23


def test_a_period_with_a_missing_hour_is_not_invented(tmp_path, klines_1h):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'gap.db'}", binance_offline=True,
                        market_cache_seconds=0)
    db = Database(settings.database_url)
    db.create_schema()
    repo = MarketRepository(db)
    day = klines_1h[(klines_1h["time"] >= 1748736000000) & (klines_1h["time"] < 1748736000000 + DAY_MS)]
    repo.save("klines", "binance", "BTCUSDT", day.drop(day.index[5]), timeframe="1h")  # 05:00 missing
    market = MarketService(settings, {"binance": FakeSource(klines_1h)}, repo, clock=Clock(NOW))
    bars = market.bars("binance", "BTCUSDT", "4h", limit=6)
    assert bars.requested["time"].tolist() == [1748736000000 + h * HOUR_MS for h in (0, 8, 12, 16, 20)]
    assert any("5 of 6 bars" in w for w in bars.meta["warnings"])
    db.dispose()


def test_exchange_down_derives_4h_from_stored_1h(imported_db_url, klines_1h, klines_4h):
    settings = Settings(database_url=imported_db_url, market_cache_seconds=0)
    db = Database(settings.database_url)
    source = FakeSource(klines_1h)
    source.fail = "down"
    market = MarketService(settings, {"binance": source}, MarketRepository(db), clock=Clock(NOW))
    start = 1740787200000  # 2025-03-01: the whole range is derivable, so the exchange is not asked for it
    bars = market.bars("binance", "BTCUSDT", "4h", start=start, limit=50)
    assert bars.meta["bars"] == 50 and ("klines", "4h") not in {c[:2] for c in source.calls}
    want = klines_4h[klines_4h["time"] >= start].head(50)
    np.testing.assert_allclose(bars.requested["close"], want["close"])
    db.dispose()


def test_finer_timeframes_and_complete_periods():
    assert finer_timeframes("15m") == ["5m", "1m"]
    assert finer_timeframes("1d")[:3] == ["12h", "6h", "4h"] and "1h" in finer_timeframes("1d")
    assert finer_timeframes("1m") == []
    assert last_complete_open(LAST_STORED_1H, HOUR_MS, DAY_MS) == LAST_STORED_1H - 23 * HOUR_MS
    assert last_complete_open(LAST_STORED_1H - HOUR_MS, HOUR_MS, DAY_MS) == LAST_STORED_1H - 47 * HOUR_MS
    minutes = pd.DataFrame({"time": np.arange(0, 20) * 60_000, "open": np.arange(20.0), "high": 100.0 + np.arange(20),
                            "low": -np.arange(20.0), "close": np.arange(20.0) + 0.5, "volume": 1.0,
                            "quote_volume": 2.0, "taker_buy_volume": 0.5, "taker_buy_quote_volume": 1.0,
                            "trades": 3.0})
    five = aggregate_klines(minutes, 60_000, 300_000)
    assert five["time"].tolist() == [0, 300_000, 600_000, 900_000]
    assert five.iloc[1][["open", "high", "low", "close", "volume", "trades"]].tolist() == [5, 109, -9, 9.5, 5, 15]
    assert aggregate_klines(minutes.iloc[:-1], 60_000, 300_000)["time"].tolist() == [0, 300_000, 600_000]
