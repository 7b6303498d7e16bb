"""Overlay caches: the in-process LRU and the Redis cache shared by instances."""

from __future__ import annotations

import uuid

import pytest

from indicator_server import create_app
from indicator_server.cache import MemoryCache, RedisCache, make_cache
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
