"""Overlay caches: the in-process LRU and the Redis cache shared by instances."""

from __future__ import annotations

import uuid

import pytest

from indicator_server import create_app
from indicator_server.cache import FileCache, MemoryCache, RedisCache, make_cache
from indicator_server.config import Settings
from tests.services import require_redis


class Tick:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_memory_cache_expires_and_evicts():
    tick = Tick()
    cache = MemoryCache(max_entries=2, clock=tick)
    cache.set("a", b"1", ttl=10)
    cache.set("b", b"2", ttl=10)
    assert cache.get("a") == b"1"  # a is now the most recent
    cache.set("c", b"3", ttl=10)
    assert cache.get("b") is None and cache.get("a") == b"1" and cache.get("c") == b"3"
    tick.t = 11
    assert cache.get("a") is None


def test_unsupported_cache_url():
    with pytest.raises(ValueError):
        make_cache(Settings(cache_url="memcached://x"))


@pytest.fixture
def redis_url():
    return require_redis()


def test_redis_cache_round_trip_and_ttl(redis_url):
    cache = RedisCache(redis_url, prefix=f"test-{uuid.uuid4().hex}:")
    assert cache.ping()
    cache.set("k", b"value", ttl=30)
    assert cache.get("k") == b"value"
    assert 0 < cache.client.pttl(cache.prefix + "k") <= 30_000
    cache.clear()
    assert cache.get("k") is None


def test_redis_outage_degrades_to_misses():
    cache = RedisCache("redis://127.0.0.1:1/0")
    assert cache.get("k") is None
    cache.set("k", b"v", ttl=1)  # no exception


def test_two_instances_share_overlays_through_redis(redis_url, tmp_path, clock):
    """Instance B answers from the body instance A computed: same bytes, same ETag, X-Cache hit."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'r.db'}", cache_url=redis_url, context_workers=False)
    a = create_app(settings, clock=clock)
    b = create_app(settings, clock=clock)
    a.extensions["indicator"].cache.prefix = b.extensions["indicator"].cache.prefix = f"t-{uuid.uuid4().hex}:"
    url = "/api/v1/overlays/oi-delta?exchange=sim&symbol=BTCUSDT&timeframe=4h&limit=60"
    first = a.test_client().get(url)
    second = b.test_client().get(url)
    assert first.status_code == 200 and first.headers["X-Cache"] == "miss"
    assert second.headers["X-Cache"] == "hit" and second.data == first.data
    assert second.headers["ETag"] == first.headers["ETag"]
    a.extensions["indicator"].cache.clear()
    for app in (a, b):
        app.extensions["indicator"].db.dispose()


def test_file_cache_round_trip_expiry_and_first_writer_wins(tmp_path):
    tick = Tick()
    tick.t = 1000.0
    cache = FileCache(tmp_path / "c", max_entries=8, clock=tick)
    assert cache.get("k") is None
    cache.set("k", b"one", ttl=10)
    assert cache.get("k") == b"one"
    assert cache.add("k", b"two", ttl=10) == b"one"  # an entry there: the other worker's body wins
    assert cache.get("k") == b"one"
    tick.t = 1011.0
    assert cache.get("k") is None
    assert cache.add("k", b"three", ttl=10) == b"three"  # an expired entry is replaced
    assert cache.get("k") == b"three"
    other = FileCache(tmp_path / "c", clock=tick)  # another process on the same directory sees it
    assert other.get("k") == b"three" and other.ping()
    assert not list((tmp_path / "c").glob("*.tmp"))


def test_file_cache_sweeps_expired_and_oldest(tmp_path):
    tick = Tick()
    tick.t = 1000.0
    cache = FileCache(tmp_path, max_entries=10, clock=tick)
    for i in range(20):
        cache.set(f"short{i}", b"x", ttl=1)
    tick.t = 1002.0
    for i in range(44):  # the 64th write sweeps
        cache.set(f"long{i}", b"y", ttl=100)
    assert len(list(tmp_path.glob("*.entry"))) == 10
    assert all(cache.get(f"short{i}") is None for i in range(20))


def test_memory_cache_add_keeps_the_first_value():
    cache = MemoryCache()
    assert cache.add("k", b"1", ttl=10) == b"1"
    assert cache.add("k", b"2", ttl=10) == b"1"


def test_redis_add_keeps_the_first_value(redis_url):
    cache = RedisCache(redis_url, prefix=f"test-{uuid.uuid4().hex}:")
    try:
        assert cache.add("k", b"1", ttl=10) == b"1"
        assert cache.add("k", b"2", ttl=10) == b"1"
    finally:
        cache.clear()


def test_file_cache_url(tmp_path):
    cache = make_cache(Settings(cache_url=f"file://{tmp_path}/shared"))
    assert isinstance(cache, FileCache) and cache.directory == tmp_path / "shared"
