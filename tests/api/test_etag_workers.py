"""Under gunicorn with 2 workers and no CACHE_URL, every overlay has one body and one ETag per bar range, whichever
worker answers: the workers share the cache directory the server made, and the first body stored wins."""

from __future__ import annotations

import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from benchmarks._server import running_server

END = "&end=2026-06-01T00:00:00Z"  # a fixed range: no bar closes between the fetches
PATHS = [
    "/api/v1/overlays/oi-delta?symbol=BTCUSDT&timeframe=1h&limit=300" + END,
    "/api/v1/overlays/confluence?symbol=ETHUSDT&timeframe=1h&limit=300" + END,
    "/api/v1/overlays/liquidations?symbol=BTCUSDT&timeframe=1h&lookback=300&bins=100" + END,
    "/api/v1/candles?symbol=SOLUSDT&timeframe=15m&limit=200" + END,
]


def _fetch(url: str, etag: str | None = None) -> tuple[int, str, bytes, str]:
    request = urllib.request.Request(url, headers={"If-None-Match": etag} if etag else {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers["ETag"], response.read(), response.headers["X-Cache"]
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["ETag"], b"", exc.headers["X-Cache"]


@pytest.mark.slow
def test_json_overlay_etags_do_not_flip_between_workers():
    env = {"EXCHANGES": "sim", "CACHE_URL": ""}  # the default: the server shares a cache directory
    with running_server(workers=2, env=env) as (base, _proc):
        for path in PATHS:
            with ThreadPoolExecutor(max_workers=6) as pool:  # cold and concurrent: both workers compute
                answers = list(pool.map(_fetch, [base + path] * 12))
            assert {status for status, *_ in answers} == {200}, path
            assert len({etag for _, etag, _, _ in answers}) == 1, path
            assert len({body for _, _, body, _ in answers}) == 1, path
            etag = answers[0][1]
            polls = [_fetch(base + path, etag) for _ in range(10)]  # a poller sending its ETag back
            assert [status for status, *_ in polls] == [304] * 10, path
            assert {state for *_, state in polls} == {"hit"}, path
