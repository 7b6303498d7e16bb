"""A circuit breaker per exchange: once its HTTP client gave up, the exchange is not asked again for a while.

Without it every uncached request repeats the whole retry schedule against an exchange that does not answer
(four attempts and 3.5 s of backoff with the default ``HTTP_RETRIES=3``, ``HTTP_BACKOFF=0.5``), even when the
store holds what the request needs. This is the classic breaker (M. Nygard, *Release It!*, ch. 5 "Circuit
Breaker"; M. Fowler, https://martinfowler.com/bliki/CircuitBreaker.html) reduced to two states:

- closed: calls go through;
- open for ``max(OPEN_SECONDS, Retry-After)`` seconds after a call ended in ``UpstreamUnavailable`` or
  ``UpstreamTimeout`` (retries exhausted, a 418/429 whose ``Retry-After`` is too long to sleep through): every call
  fails at once with ``UpstreamUnavailable`` (503, ``Retry-After`` = the time left), without a request. The first call
  after that time is the probe (the "half-open" state): success closes the breaker, failure opens it again.

Rejections (4xx, ``upstream_rejected``) and garbage answers (502) mean the exchange *is* answering: they do not
open the breaker. The state is per process, and also written to ``shared`` (any cache with ``get``/``set``, e.g.
the server's ``file://`` or ``redis://`` overlay cache) when one is attached, so the other workers do not each pay
the retry schedule once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import orjson

from ..errors import UpstreamUnavailable

log = logging.getLogger(__name__)

OPEN_SECONDS = 10.0
MAX_OPEN_SECONDS = 15 * 60.0  # a Retry-After longer than this is capped (a ban never lasts a day here)
SHARED_READ_SECONDS = 1.0  # the shared state is read at most this often (a slow cache must not slow every call)


class Breaker:
    """The breaker of one exchange ``name``; ``clock`` in epoch seconds (the app's clock in tests)."""

    def __init__(
        self,
        name: str,
        *,
        open_seconds: float = OPEN_SECONDS,
        clock: Callable[[], float] = time.time,
        shared: Any = None,
    ) -> None:
        self.name = name
        self.open_seconds = max(0.0, float(open_seconds))
        self.clock = clock
        self.shared = shared
        self._until = 0.0
        self._reason = ""
        self._lock = threading.Lock()
        self._shared_seen: tuple[float, float, str] = (float("-inf"), 0.0, "")  # (read at, until, reason)

    @property
    def _key(self) -> str:
        return f"breaker:{self.name}"

    def state(self) -> tuple[float, str]:
        """(until when it is open, why), the later of this process's and the shared state; (0, '') when closed."""
        with self._lock:
            until, reason = self._until, self._reason
        now = self.clock()
        if self.shared is not None and until <= now:
            shared_until, shared_reason = self._read_shared(now)
            if shared_until > until:
                until, reason = shared_until, shared_reason
        return (until, reason) if until > now else (0.0, "")

    def _read_shared(self, now: float) -> tuple[float, str]:
        read_at, until, reason = self._shared_seen
        if now - read_at < SHARED_READ_SECONDS:
            return until, reason
        until, reason = 0.0, ""
        try:
            raw = self.shared.get(self._key)
            if raw:
                data = orjson.loads(raw)
                until, reason = float(data["until"]), str(data["reason"])
        except Exception:  # the shared cache is a help, never a new way to fail
            log.debug("breaker %s: shared state unreadable", self.name, exc_info=True)
        self._shared_seen = (now, until, reason)
        return until, reason

    def check(self) -> None:
        """Raise ``UpstreamUnavailable`` at once while the breaker is open."""
        until, reason = self.state()
        if not until:
            return
        left = until - self.clock()
        raise UpstreamUnavailable(
            f"{self.name} unavailable ({reason}); not asked again for {left:.0f} s",
            retry_after=max(1.0, left),
            details={"upstream": self.name, "breaker_open_until": int(until * 1000)},
        )

    def trip(self, error: UpstreamUnavailable) -> None:
        """Open the breaker after ``error``, for ``max(open_seconds, its Retry-After)`` seconds."""
        if self.open_seconds <= 0:
            return
        seconds = min(MAX_OPEN_SECONDS, max(self.open_seconds, float(getattr(error, "retry_after", 0.0) or 0.0)))
        until = self.clock() + seconds
        reason = error.message
        with self._lock:
            self._until, self._reason = until, reason
            self._shared_seen = (float("-inf"), 0.0, "")
        log.warning("%s: breaker open for %.0f s after: %s", self.name, seconds, reason)
        if self.shared is not None:
            try:
                self.shared.set(self._key, orjson.dumps({"until": until, "reason": reason}), seconds)
            except Exception:
                log.debug("breaker %s: shared state not written", self.name, exc_info=True)

    def close(self) -> None:
        """A call succeeded: this process forgets its open state (a shared one expires by itself)."""
        with self._lock:
            self._until, self._reason = 0.0, ""
