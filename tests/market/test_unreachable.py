"""An exchange that does not answer is not waited on: stored ranges ask it nothing, a failure opens its breaker.

Every test counts the requests the Binance replay server (127.0.0.1) received; none times anything.
"""

from __future__ import annotations

import pytest

from indicator_server import create_app
from indicator_server.cache import FileCache
from indicator_server.config import Settings
from indicator_server.errors import UnknownSymbol, UpstreamBadResponse, UpstreamUnavailable
from indicator_server.market.service import MarketService
from indicator_server.store.db import Database
from indicator_server.store.market_repo import MarketRepository
from tests.conftest import Clock

from .replay_server import FUNDING, KLINES, LONG_SHORT, OPEN_INTEREST, PREMIUM, Scripted

HOUR = 3_600_000
MARCH_2025 = 1740787200000  # 2025-03-01T00:00Z, long before Binance's 30-day OI window at the replay's now
ALL_PATHS = (KLINES, FUNDING, PREMIUM, OPEN_INTEREST, LONG_SHORT)


def _down(replay, times: int = 40) -> None:
    for path in ALL_PATHS:
        replay.script(path, *[Scripted.server_error(503)] * times)


@pytest.fixture
def clock(binance_replay):
    return Clock(binance_replay.now_ms / 1000)


@pytest.fixture
def world(imported_db_url, make_binance, clock):
    """(service factory, clock): services over one imported store, each with its own BinanceSource (a worker)."""
    settings = Settings(database_url=imported_db_url, market_cache_seconds=0)
    dbs = []

    def service(shared=None) -> MarketService:
        db = Database(settings.database_url)
        dbs.append(db)
        market = MarketService(settings, {"binance": make_binance(clock=clock)}, MarketRepository(db), clock=clock)
        if shared is not None:
            market.share_breakers(shared)
        return market

    yield service
    for db in dbs:
        db.dispose()


def test_a_stored_historical_range_asks_the_exchange_nothing(world, binance_replay):
    _down(binance_replay)
    market = world()
    for _ in range(2):
        bars = market.bars("binance", "btcusdt", "1h", start=MARCH_2025, limit=100)
        assert bars.meta["bars"] == 100 and bars.requested["time"].iloc[0] == MARCH_2025
        assert bars.meta["freshness"]["source"] == "store" and "live" not in bars.meta
    # Before: four premiumIndex attempts (3.5 s of backoff) per call, to check a symbol the store holds.
    assert binance_replay.requests() == []


def test_a_failed_exchange_is_not_asked_again_until_its_breaker_closes(world, binance_replay, clock):
    binance_replay.now_ms += 2 * 24 * HOUR  # two days past the stored data: the default range needs Binance
    clock.now = binance_replay.now_ms / 1000
    _down(binance_replay)
    market = world()
    first = market.bars("binance", "BTCUSDT", "1h", limit=500)
    assert first.meta["freshness"]["stale"] is True and first.meta["bars"] == 500 - 48
    assert any("serving stored data" in w for w in first.meta["warnings"])
    # klines: the first try and three retries; every later call this request finds the breaker open.
    assert [r.path for r in binance_replay.requests()] == [KLINES] * 4

    again = market.bars("binance", "BTCUSDT", "4h", limit=100)  # another range, another series: not asked
    assert again.meta["freshness"]["stale"] is True and len(binance_replay.requests()) == 4
    assert any("not asked again" in w for w in again.meta["warnings"])

    clock.advance(11)  # the breaker (10 s) has closed: the next call probes Binance again
    market.bars("binance", "BTCUSDT", "1h", limit=500)
    assert len(binance_replay.requests()) == 8


def test_a_long_retry_after_keeps_the_breaker_open_that_long(world, binance_replay, clock):
    binance_replay.now_ms += 2 * 24 * HOUR
    clock.now = binance_replay.now_ms / 1000
    binance_replay.script(KLINES, Scripted.banned(retry_after=120))  # HTTP 418, then real answers
    market = world()
    assert market.bars("binance", "BTCUSDT", "1h", limit=100).meta["freshness"]["stale"] is True
    assert len(binance_replay.requests()) == 1  # a ban is not retried
    clock.advance(60)
    market.bars("binance", "BTCUSDT", "1h", limit=100)
    assert len(binance_replay.requests()) == 1
    clock.advance(61)
    fresh = market.bars("binance", "BTCUSDT", "1h", limit=100)  # the replay's data ends where the store's does
    assert fresh.meta["freshness"]["stale"] is False
    assert binance_replay.requests(KLINES)[-1].status == 200 and len(binance_replay.requests()) > 1


def test_workers_share_the_breaker_through_the_cache(world, binance_replay, clock, tmp_path):
    binance_replay.now_ms += 2 * 24 * HOUR
    clock.now = binance_replay.now_ms / 1000
    _down(binance_replay)
    shared = FileCache(tmp_path / "cache", clock=clock)
    one, two = world(shared), world(shared)
    one.bars("binance", "BTCUSDT", "1h", limit=100)
    assert len(binance_replay.requests()) == 4
    bars = two.bars("binance", "BTCUSDT", "1h", limit=100)  # the other worker has never failed itself
    assert bars.meta["freshness"]["stale"] is True and len(binance_replay.requests()) == 4


def test_rejections_and_garbage_do_not_open_the_breaker(make_binance, binance_replay):
    source = make_binance()
    with pytest.raises(UnknownSymbol):
        source.check_symbol("NOSUCHUSDT")
    binance_replay.script(PREMIUM, Scripted.truncated())
    with pytest.raises(UpstreamBadResponse):
        source.check_symbol("BTCUSDT")
    assert source.breaker.state() == (0.0, "")
    assert source.check_symbol("BTCUSDT") == "BTCUSDT"  # asked again, and answered
    assert len(binance_replay.requests(PREMIUM)) == 3


def test_an_open_breaker_fails_at_once_with_retry_after(make_binance, binance_replay):
    source = make_binance()
    binance_replay.script(PREMIUM, *[Scripted.server_error(503)] * 4)
    with pytest.raises(UpstreamUnavailable):
        source.check_symbol("BTCUSDT")
    with pytest.raises(UpstreamUnavailable) as info:
        source.check_symbol("BTCUSDT")
    assert info.value.status == 503 and 1 <= info.value.retry_after <= 10
    assert "breaker_open_until" in info.value.details
    assert len(binance_replay.requests(PREMIUM)) == 4


def test_the_app_answers_stored_ranges_with_binance_down(imported_db_url, binance_replay):
    settings = Settings(database_url=imported_db_url, binance_base_url=binance_replay.url, context_workers=False,
                        http_backoff=0.01, http_max_backoff=0.05, http_read_timeout=1.0)
    app = create_app(settings, clock=Clock(binance_replay.now_ms / 1000))
    _down(binance_replay)
    client = app.test_client()
    try:
        for timeframe in ("1h", "4h", "1h"):
            r = client.get(f"/api/v1/overlays/oi-delta?exchange=binance&symbol=BTCUSDT&timeframe={timeframe}"
                           f"&start=2025-03-01&limit=100")
            assert r.status_code == 200, r.get_json()
            assert r.get_json()["meta"]["bars"] == 100
        assert binance_replay.requests() == []
    finally:
        app.extensions["indicator"].db.dispose()


def test_the_shared_state_is_read_at_most_once_a_second():
    from indicator_server.market.breaker import Breaker

    class CountingCache(dict):
        reads = 0

        def get(self, key):
            CountingCache.reads += 1
            return super().get(key)

        def set(self, key, value, ttl):
            self[key] = value

    clock, shared = Clock(1_000_000.0), CountingCache()
    one, two = Breaker("x", clock=clock, shared=shared), Breaker("x", clock=clock, shared=shared)
    for _ in range(5):
        two.check()
    assert CountingCache.reads == 1
    one.trip(UpstreamUnavailable("down", retry_after=3))
    two.check()  # the closed state it read is still fresh
    clock.advance(1.5)
    with pytest.raises(UpstreamUnavailable):
        two.check()
    clock.advance(9)  # 10.5 s after the trip: closed everywhere
    one.check()
    two.check()


def test_stored_symbols_are_read_once_not_per_request(world, binance_replay):
    market = world()
    reads = []
    real = market.repo.symbols
    market.repo.symbols = lambda exchange: reads.append(exchange) or real(exchange)
    for day in (1, 2, 3):
        market.bars("binance", "BTCUSDT", "1h", start=MARCH_2025 + day * 86_400_000, limit=10)
    assert reads == ["binance"] and binance_replay.requests() == []
