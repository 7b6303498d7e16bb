"""Per-address rate limit of alert posts (WEBHOOK_RATE_LIMIT per minute, 0 = off): fixed one-minute windows.

``MemoryRateLimiter`` counts per process: under gunicorn with N workers an address may get up to N times the
limit, since each worker counts alone. With CACHE_URL=redis://... ``RedisRateLimiter`` counts in Redis, shared
by every worker and instance (and fails open when Redis is down: losing alerts is worse than a missed limit).
"""

from __future__ import annotations

import logging
import math
import threading
import time

from ..errors import RateLimited

log = logging.getLogger(__name__)
WINDOW = 60.0


def _reject(limit: int, now: float) -> RateLimited:
    retry_after = max(1, math.ceil(WINDOW - now % WINDOW))
    return RateLimited(f"more than {limit} alerts per minute from this address",
                       details={"retry_after": retry_after, "limit": limit},
                       headers={"Retry-After": str(retry_after)})


class MemoryRateLimiter:
    def __init__(self, limit: int, clock=time.time) -> None:
        self.limit = limit
        self.clock = clock
        self._counts: dict[str, int] = {}
        self._window = -1
        self._lock = threading.Lock()

    def hit(self, address: str) -> None:
        if self.limit <= 0:
            return
        now = self.clock()
        window = int(now // WINDOW)
        with self._lock:
            if window != self._window:
                self._counts.clear()
                self._window = window
            count = self._counts.get(address, 0) + 1
            self._counts[address] = count
        if count > self.limit:
            raise _reject(self.limit, now)


class RedisRateLimiter:
    def __init__(self, limit: int, url: str, prefix: str = "indicator-server:rl:", clock=time.time) -> None:
        import redis

        self.limit = limit
        self.clock = clock
        self.prefix = prefix
        self.client = redis.Redis.from_url(url, socket_timeout=0.25, socket_connect_timeout=0.25)

    def hit(self, address: str) -> None:
        if self.limit <= 0:
            return
        now = self.clock()
        key = f"{self.prefix}{address}:{int(now // WINDOW)}"
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.incr(key)
            pipe.expire(key, int(WINDOW) + 5)
            count = int(pipe.execute()[0])
        except Exception as exc:  # fail open
            log.warning("rate limiter: redis unavailable (%s); not limiting", type(exc).__name__)
            return
        if count > self.limit:
            raise _reject(self.limit, now)


def make_rate_limiter(limit: int, cache_url: str, clock=time.time):
    if limit > 0 and cache_url.startswith(("redis://", "rediss://", "unix://")):
        return RedisRateLimiter(limit, cache_url, clock=clock)
    return MemoryRateLimiter(limit, clock=clock)
