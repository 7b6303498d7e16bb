"""MarketService: bar ranges, joins as of bar close, store write-through and stale serving."""

from __future__ import annotations

import numpy as np
import pytest

from indicator_server.config import Settings
from indicator_server.errors import InvalidArgument, UnknownExchange, UpstreamBadResponse, UpstreamUnavailable
from indicator_server.market.service import MarketService
from indicator_server.store.db import Database
from indicator_server.store.market_repo import MarketRepository
from indicator_server.timeframes import HOUR_MS
from tests.conftest import Clock, shared_data
from tests.fakes import FakeSource, load_binance_1h

# 2025-03-01T00:20:00Z: the last closed 1h bar opens at 2025-02-28T23:00Z.
NOW = 1740788400.0
LAST_CLOSED = 1740783600000


@pytest.fixture(scope="module")
def klines():
    return load_binance_1h(shared_data("binance-btcusdt", "klines-1h.csv"))


@pytest.fixture
def env(tmp_path, klines):
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'm.db'}", market_cache_seconds=0)
    db = Database(settings.database_url)
    db.create_schema()
    repo = MarketRepository(db)
    source = FakeSource(klines)
    service = MarketService(settings, {"binance": source}, repo, clock=Clock(NOW))
    yield service, source, repo
    db.dispose()


def test_default_range_ends_at_last_closed_bar(env):
    service, _, _ = env
    bars = service.bars("binance", "btcusdt", "1h", limit=24)
    req = bars.requested
    assert len(req) == 24
    assert req["time"].iloc[-1] == LAST_CLOSED
    assert np.all(np.diff(req["time"]) == HOUR_MS)
    assert bars.meta["symbol"] == "BTCUSDT" and bars.meta["bars"] == 24
    assert (
        bars.meta["end"] == LAST_CLOSED and bars.meta["freshness"]["last_bar_close"] == LAST_CLOSED + HOUR_MS
    )


def test_start_gives_limit_bars_from_start(env):
    service, _, _ = env
    start = LAST_CLOSED - 100 * HOUR_MS + 1  # not on a boundary: rounds up to the next bar
    bars = service.bars("binance", "BTCUSDT", "1h", limit=10, start=start)
    assert bars.requested["time"].iloc[0] == LAST_CLOSED - 99 * HOUR_MS
    assert len(bars.requested) == 10


def test_warmup_rows_precede_the_requested_range(env):
    service, _, _ = env
    bars = service.bars("binance", "BTCUSDT", "1h", limit=5, warmup=20)
    assert bars.first == 20 and len(bars.frame) == 25


def test_join_as_of_bar_close(env, klines):
    service, source, _ = env
    bars = service.bars("binance", "BTCUSDT", "1h", limit=3)
    row = bars.requested.iloc[-1]
    close_time = row["time"] + HOUR_MS
    expected = 80_000 + 5_000 * np.sin(close_time / (HOUR_MS * 24.0))
    assert row["open_interest"] == pytest.approx(expected)
    assert row["open_interest_usd"] == pytest.approx(expected * row["close"])
    # funding in force: the last 8h event at or before the close
    event = close_time - close_time % (8 * HOUR_MS)
    assert row["funding_rate"] == pytest.approx(0.0001 * np.cos(event / (8 * HOUR_MS * 3.0)))
    assert row["funding_interval_hours"] == 8.0
    assert row["close"] == klines.loc[klines["time"] == row["time"], "close"].iloc[0]


def test_store_write_through_then_no_refetch(env):
    service, source, repo = env
    service.bars("binance", "BTCUSDT", "1h", limit=50)
    assert repo.span("klines", "binance", "BTCUSDT", "1h")[2] == 50
    before = len([c for c in source.calls if c[0] == "klines"])
    service.bars("binance", "BTCUSDT", "1h", limit=50)
    assert len([c for c in source.calls if c[0] == "klines"]) == before  # the store covered it


def test_upstream_down_serves_stored_data_marked_stale(env):
    service, source, _ = env
    fresh = service.bars("binance", "BTCUSDT", "1h", limit=30)
    service.clock.advance(3600)  # one more bar closed: the store no longer covers the range
    source.fail = "down"
    stale = service.bars("binance", "BTCUSDT", "1h", limit=30)
    assert stale.meta["freshness"]["stale"] is True
    assert any("serving stored data" in w for w in stale.meta["warnings"])
    assert stale.requested["time"].iloc[-1] == fresh.requested["time"].iloc[-1]


def test_upstream_down_without_stored_data_raises(env):
    service, source, _ = env
    source.fail = "down"
    with pytest.raises(UpstreamUnavailable) as info:
        service.bars("binance", "BTCUSDT", "1h", limit=30)
    assert info.value.status == 503 and info.value.details["retry_after"] == 7


def test_upstream_garbage_without_stored_data_raises_502(env):
    service, source, _ = env
    source.fail = "garbage"
    with pytest.raises(UpstreamBadResponse):
        service.bars("binance", "BTCUSDT", "1h", limit=30)


def test_unknown_exchange(env):
    service, _, _ = env
    with pytest.raises(UnknownExchange):
        service.bars("kraken", "BTCUSDT", "1h")


def test_range_in_the_future_is_invalid(env):
    service, _, _ = env
    with pytest.raises(InvalidArgument):
        service.bars("binance", "BTCUSDT", "1h", start=LAST_CLOSED + 10 * HOUR_MS)


def test_offline_mode_serves_only_the_store(tmp_path, klines):
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'o.db'}", binance_offline=True, market_cache_seconds=0
    )
    db = Database(settings.database_url)
    db.create_schema()
    repo = MarketRepository(db)
    repo.save("klines", "binance", "BTCUSDT", klines.iloc[:500], timeframe="1h")
    source = FakeSource(klines)
    service = MarketService(settings, {"binance": source}, repo, clock=Clock(NOW))
    bars = service.bars("binance", "BTCUSDT", "1h", limit=100, end=int(klines["time"].iloc[499]))
    assert len(bars.requested) == 100 and source.calls == []
    assert bars.requested["open_interest"].isna().all()
    assert any("no open interest" in w for w in bars.meta["warnings"])
    db.dispose()
