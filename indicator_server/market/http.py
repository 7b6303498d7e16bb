"""A small JSON-over-HTTP client for exchange REST APIs: timeouts, bounded retries, errors translated here.

Only temporary failures are retried (HTTP 429, 418, 5xx, timeouts, connection errors), with exponential
backoff ``backoff * 2**attempt`` capped by ``max_backoff``; a ``Retry-After`` header (seconds or an HTTP date,
RFC 9110 10.2.3) replaces the computed wait. A ``Retry-After`` longer than ``max_backoff`` is not slept
through: the client gives up at once and hands the wait to its caller (an IP ban, HTTP 418, says minutes, and
Binance's "Limits" section warns that not backing off after 429 extends bans). Other 4xx are never retried.

Failures become :mod:`indicator_server.errors` exceptions here; nothing above this module sees ``requests``:

- retries exhausted on 429/418/5xx/connection errors -> ``UpstreamUnavailable(retry_after=...)`` (503)
- retries exhausted on timeouts -> ``UpstreamTimeout`` (504)
- a body that is not JSON (truncated, an HTML error page) -> ``UpstreamBadResponse`` (502)
- any other 4xx -> ``UpstreamError`` (502, code ``upstream_rejected``) unless the caller's ``client_error``
  hook maps it to something more precise (``UnknownSymbol`` for Binance's -1121).

With a :class:`~.breaker.Breaker`, a client that gave up (503/504 above) is not asked again while the breaker is
open: calls fail at once, without a request, until its time is up.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import orjson
import requests

from ..errors import ApiError, UpstreamBadResponse, UpstreamError, UpstreamTimeout, UpstreamUnavailable
from .breaker import Breaker

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({418, 429})
ClientErrorHook = Callable[[int, Any], ApiError | None]


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (RFC 9110 10.2.3: delay-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _snippet(response: requests.Response, size: int = 200) -> str:
    return response.content[:size].decode("utf-8", "replace")


class HttpClient:
    """GET JSON from one base URL. ``session`` and ``sleep`` are injectable: tests run without real waits."""

    def __init__(
        self,
        base_url: str,
        *,
        name: str = "upstream",
        connect_timeout: float = 3.05,
        read_timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        client_error: ClientErrorHook | None = None,
        breaker: Breaker | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.name = name
        self.timeout = (connect_timeout, read_timeout)
        self.retries = max(0, int(retries))
        self.backoff = max(0.0, backoff)
        self.max_backoff = max(0.0, max_backoff)
        self.session = session if session is not None else requests.Session()
        self.sleep = sleep
        self.client_error = client_error
        self.breaker = breaker

    def backoff_for(self, attempt: int) -> float:
        """The wait before retry number ``attempt + 1`` when the server named none."""
        return min(self.max_backoff, self.backoff * (2**attempt))

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        url = f"{self.base_url}{path}"
        what = f"{self.name} {path}"
        if self.breaker is not None:
            self.breaker.check()
        attempt = 0
        while True:
            outcome = self._attempt(url, params, what)
            if isinstance(outcome, _Success):
                if self.breaker is not None:
                    self.breaker.close()
                return outcome.payload
            failure = outcome
            wait = self.backoff_for(attempt) if failure.retry_after is None else failure.retry_after
            if attempt >= self.retries or wait > self.max_backoff:
                error = self._give_up(failure, what, attempt + 1, wait)
                if self.breaker is not None:
                    self.breaker.trip(error)
                raise error
            log.warning(
                "%s: %s; retry %d/%d in %.2fs", what, failure.reason, attempt + 1, self.retries, wait
            )
            self.sleep(wait)
            attempt += 1

    def _attempt(self, url: str, params: Mapping[str, Any] | None, what: str) -> _Success | _Failure:
        try:
            response = self.session.get(url, params=params, timeout=self.timeout)
        except requests.Timeout as exc:
            return _Failure("timeout", f"timed out ({type(exc).__name__})")
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            return _Failure("connection", f"connection failed ({type(exc).__name__})")
        except requests.RequestException as exc:
            raise UpstreamUnavailable(
                f"{what}: request failed: {type(exc).__name__}", details={"upstream": self.name}
            ) from exc
        status = response.status_code
        if status in RETRY_STATUSES or status >= 500:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            return _Failure("status", f"HTTP {status}", status=status, retry_after=retry_after)
        if 400 <= status < 500:
            raise self._client_error(response, what)
        return _Success(self._decode(response, what))

    def _decode(self, response: requests.Response, what: str) -> Any:
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise UpstreamBadResponse(
                f"{what}: the answer is not valid JSON",
                details={
                    "upstream": self.name,
                    "status": response.status_code,
                    "content_type": response.headers.get("Content-Type", ""),
                    "body_start": _snippet(response, 120),
                },
            ) from exc

    def _client_error(self, response: requests.Response, what: str) -> ApiError:
        try:
            body: Any = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            body = None
        if self.client_error is not None:
            mapped = self.client_error(response.status_code, body)
            if mapped is not None:
                return mapped
        details: dict[str, Any] = {"upstream": self.name, "status": response.status_code}
        if isinstance(body, dict):
            details["upstream_code"] = body.get("code")
            details["upstream_message"] = body.get("msg", body.get("message"))
        else:
            details["body_start"] = _snippet(response)
        return UpstreamError(
            f"{what}: the exchange rejected the request (HTTP {response.status_code})",
            details=details,
            code="upstream_rejected",
        )

    def _give_up(self, failure: _Failure, what: str, attempts: int, wait: float) -> UpstreamUnavailable:
        retry_after = max(1.0, failure.retry_after if failure.retry_after is not None else wait)
        details = {"upstream": self.name, "attempts": attempts}
        if failure.status is not None:
            details["status"] = failure.status
        message = f"{what}: {failure.reason} after {attempts} attempt(s)"
        log.warning("%s; giving up", message)
        if failure.kind == "timeout":
            return UpstreamTimeout(message, retry_after=retry_after, details=details)
        return UpstreamUnavailable(message, retry_after=retry_after, details=details)


class _Success:
    __slots__ = ("payload",)

    def __init__(self, payload: Any) -> None:
        self.payload = payload


class _Failure:
    __slots__ = ("kind", "reason", "status", "retry_after")

    def __init__(
        self, kind: str, reason: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        self.kind = kind
        self.reason = reason
        self.status = status
        self.retry_after = retry_after
