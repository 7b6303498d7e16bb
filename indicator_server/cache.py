"""Caches of serialised overlay bodies: in-process LRU by default, Redis when several instances share work.

Values are bytes (PERFORMANCE.md: caching the serialised body is 5.5x faster than re-serialising objects).
Both backends expose ``get``, ``set`` (with a time to live in seconds) and ``ping``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from .config import Settings


class MemoryCache:
    """A thread-safe LRU with per-entry expiry; one per process."""

    def __init__(self, max_entries: int = 512, clock=time.monotonic) -> None:
        self.max_entries = max_entries
        self._clock = clock
        self._data: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            expires, value = item
            if expires < self._clock():
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return value

    def set(self, key: str, value: bytes, ttl: float) -> None:
        with self._lock:
            self._data[key] = (self._clock() + ttl, value)
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def ping(self) -> bool:
        return True

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


class RedisCache:
    """Shared by every worker and instance: an overlay is computed once per closed bar across the fleet."""

    def __init__(self, url: str, prefix: str = "indicator-server:") -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.prefix = prefix

    def get(self, key: str) -> bytes | None:
        try:
            return self.client.get(self.prefix + key)
        except Exception:  # a cache outage must degrade to recomputation, not to errors
            return None

    def set(self, key: str, value: bytes, ttl: float) -> None:
        try:
            self.client.set(self.prefix + key, value, px=max(1, int(ttl * 1000)))
        except Exception:
            pass

    def ping(self) -> bool:
        return bool(self.client.ping())

    def clear(self) -> None:
        for key in self.client.scan_iter(self.prefix + "*"):
            self.client.delete(key)


def make_cache(settings: Settings):
    url = settings.cache_url
    if url.startswith("memory://"):
        return MemoryCache(settings.cache_max_entries)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisCache(url)
    raise ValueError(f"CACHE_URL: unsupported scheme in {url!r} (memory:// or redis://)")
