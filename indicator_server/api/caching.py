"""Serve an overlay computed once per closed bar: cached serialised bodies, ETag, Cache-Control and 304s.

The cache key holds the overlay, its parameters and the bar range the request resolves to *before* any data is
fetched (the range only moves when a bar closes), so repeated polls within a bar are served from the cache without
touching the exchange or the maths. A body whose last bar is missing (the exchange lags) is cached only briefly.
When building fails upstream, the last good body for the same request (without an explicit range) is served
marked stale.

Bodies other than JSON (a PNG, a generated Pine script) go through the same mechanism: the view passes
``render`` (payload -> bytes) and ``mimetype``. The ETag is the hash of the rendered bytes, so a renderer must be
deterministic for ETags to agree across workers. A stale non-JSON body cannot be edited to say so: it is served
as stored with ``X-Cache: stale`` and a ``Warning: 110`` header (RFC 7234 section 5.5.1).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import Any

import orjson
from flask import Response, request

from ..errors import UpstreamError
from ..services import services
from ..timeframes import timeframe_ms

_LAST_GOOD_TTL = 7 * 24 * 3600
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def dumps(payload: Any) -> bytes:
    """orjson: NaN becomes null, numpy scalars and arrays serialise natively."""
    return orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY)


def _lock_for(key: str) -> threading.Lock:
    with _locks_guard:
        if len(_locks) > 4096:
            _locks.clear()
        return _locks.setdefault(key, threading.Lock())


def _etag(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=12).hexdigest()


_WALL_CLOCK = ("generated_at", "age_seconds")


def _data_etag(payload: dict[str, Any]) -> str:
    """A weak ETag of a JSON payload: the hash of the body without its wall-clock fields.

    Two workers or instances that computed the same bars build bodies that differ only in
    ``meta.freshness.generated_at`` / ``age_seconds``; they get one ETag, so a poller moving between them keeps
    getting 304. Weak (``W/``, RFC 9110 section 8.8.1): the bodies are equivalent, not byte-identical."""
    meta = payload.get("meta")
    freshness = meta.get("freshness") if isinstance(meta, dict) else None
    if isinstance(freshness, dict):
        freshness = {k: v for k, v in freshness.items() if k not in _WALL_CLOCK}
        payload = dict(payload, meta=dict(meta, freshness=freshness))
    return "W/" + _etag(dumps(payload))


JSON = "application/json"


def _respond(body: bytes, etag: str, max_age: int, cache_state: str, mimetype: str = JSON) -> Response:
    weak = etag.startswith("W/")
    tag = etag[2:] if weak else etag
    if request.if_none_match.contains_weak(tag):  # If-None-Match compares weakly (RFC 9110 13.1.2)
        response = Response(status=304)
    else:
        response = Response(body, status=200, mimetype=mimetype)
    response.set_etag(tag, weak=weak)
    response.headers["Cache-Control"] = f"public, max-age={max(0, max_age)}"
    response.headers["X-Cache"] = cache_state
    return response


def _pack(etag: str, body: bytes) -> bytes:
    return etag.encode() + b"\n" + body


def _unpack(value: bytes) -> tuple[str, bytes]:
    etag, _, body = value.partition(b"\n")
    return etag.decode(), body


def serve_overlay(
    name: str,
    args: dict[str, Any],
    params: dict[str, Any],
    build: Callable[[], dict[str, Any]],
    *,
    render: Callable[[dict[str, Any]], bytes] | None = None,
    mimetype: str = JSON,
) -> Response:
    """Answer ``build()``'s payload for this request, from the cache when the bar range has not moved.

    ``render`` turns the payload into the body (default: JSON via ``dumps``), served as ``mimetype`` (a text
    type gets ``; charset=utf-8`` from Werkzeug). ``name`` must differ per body type: it is part of the key."""
    encode = dumps if render is None else render
    svc = services()
    source = svc.market.source(args.get("exchange"))
    timeframe = args["timeframe"]
    step = timeframe_ms(timeframe)
    symbol = (args.get("symbol") or "").upper()
    start_bar, end_bar = svc.market.resolve_range(
        timeframe, args["limit"], args.get("start"), args.get("end")
    )
    identity = orjson.dumps(params, option=orjson.OPT_SORT_KEYS).decode()
    request_key = f"{name}|{source.name}|{symbol}|{timeframe}|{args['limit']}|{identity}"
    key = f"{request_key}|{start_bar}|{end_bar}"
    now_ms = int(svc.clock() * 1000)
    next_close = end_bar + 2 * step
    bar_ttl = max(1, (next_close - now_ms) // 1000)

    cached = svc.cache.get(key)
    if cached is not None:
        etag, body = _unpack(cached)
        return _respond(body, etag, bar_ttl, "hit", mimetype)

    with _lock_for(key):
        cached = svc.cache.get(key)
        if cached is not None:
            etag, body = _unpack(cached)
            return _respond(body, etag, bar_ttl, "hit", mimetype)
        rolling = args.get("start") is None and args.get("end") is None
        try:
            payload = build()
        except UpstreamError as exc:
            stale = svc.cache.get("last|" + request_key) if rolling else None
            if stale is None:
                raise
            return _serve_stale(stale, exc, mimetype, editable=render is None)
        body = encode(payload)
        complete = payload.get("meta", {}).get("end") == end_bar and not payload["meta"]["freshness"]["stale"]
        ttl = bar_ttl if complete else max(1, int(svc.settings.market_cache_seconds))
        # another worker may have stored this bar's body meanwhile: answer that one, so the ETag is the same
        # whichever worker a poll reaches (bodies differ in meta.freshness.generated_at)
        etag = _data_etag(payload) if render is None else _etag(body)
        etag, body = _unpack(svc.cache.add(key, _pack(etag, body), ttl))
        if rolling and complete:
            svc.cache.set("last|" + request_key, _pack(etag, body), _LAST_GOOD_TTL)
        return _respond(body, etag, ttl, "miss", mimetype)


def _serve_stale(stale: bytes, exc: UpstreamError, mimetype: str = JSON, *, editable: bool = True) -> Response:
    if not editable:
        etag, body = _unpack(stale)
        response = _respond(body, etag, 0, "stale", mimetype)
        response.headers["Warning"] = f'110 - "upstream failed ({exc.code}); serving the last good answer"'
        return response
    _, body = _unpack(stale)
    payload = orjson.loads(body)
    meta = payload.setdefault("meta", {})
    meta.setdefault("freshness", {})["stale"] = True
    meta.setdefault("warnings", []).append(
        f"upstream failed ({exc.code}: {exc.message}); serving the last good answer"
    )
    body = dumps(payload)
    return _respond(body, _data_etag(payload), 0, "stale")
