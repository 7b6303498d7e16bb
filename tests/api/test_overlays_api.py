"""The overlay endpoints end to end through the app factory: shapes, errors, caching, stale serving."""

from __future__ import annotations

import pytest

from indicator_server import create_app
from indicator_server.api.overlay_schemas import ConfluenceResponseSchema, OiDeltaResponseSchema

NOW = 1740788400.0  # 2025-03-01T00:20Z
LAST_CLOSED = 1740783600000


@pytest.fixture
def client(settings, clock, fake):
    clock.now = NOW
    app = create_app(
        settings.with_overrides(exchanges=("binance",), default_exchange="binance"),
        sources={"binance": fake},
        clock=clock,
    )
    yield app.test_client()
    app.extensions["indicator"].db.dispose()


def error_of(response):
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    return body["error"]


def test_oi_delta_shape_and_values(client):
    r = client.get("/api/v1/overlays/oi-delta?exchange=binance&symbol=BTCUSDT&timeframe=1h&limit=100")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert OiDeltaResponseSchema().validate(body) == {}
    series = body["series"]
    assert len(series) == 100 and series[-1]["time"] == LAST_CLOSED
    meta = body["meta"]
    assert meta["exchange"] == "binance" and meta["symbol"] == "BTCUSDT" and meta["timeframe"] == "1h"
    assert meta["parameters"] == {"zscore_window": 50}
    assert meta["start"] == series[0]["time"] and meta["end"] == series[-1]["time"]
    for prev, cur in zip(series, series[1:], strict=False):
        assert cur["delta"] == pytest.approx(cur["open_interest"] - prev["open_interest"])
        price_up = cur["close"] > prev["close"]
        expected = {
            (True, True): "longs_opening",
            (False, True): "shorts_opening",
            (True, False): "short_covering",
            (False, False): "long_closing",
        }[(price_up, cur["delta"] > 0)]
        assert cur["quadrant"] == expected
    # the first bar's delta uses the warm-up bar before it, not a NaN
    assert series[0]["delta"] is not None


def test_confluence_shape(client):
    r = client.get("/api/v1/overlays/confluence?exchange=binance&symbol=BTCUSDT&timeframe=1h&limit=200")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert ConfluenceResponseSchema().validate(body) == {}
    point = body["series"][-1]
    assert -100 <= point["score"] <= 100
    assert point["regime"] in {"long_cascade_risk", "short_squeeze_risk", "neutral"}
    assert point["rsi"] is not None and 0 <= point["rsi"] <= 100
    assert isinstance(point["components"], dict) and point["components"]
    assert isinstance(point["reasons"], list)
    assert body["meta"]["parameters"]["rsi_length"] == 14


def test_etag_and_304(client, fake):
    url = "/api/v1/overlays/oi-delta?exchange=binance&symbol=BTCUSDT&limit=50"
    first = client.get(url)
    assert first.headers["X-Cache"] == "miss"
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"].startswith("public, max-age=")
    calls = len(fake.calls)
    second = client.get(url)
    assert second.headers["X-Cache"] == "hit" and second.data == first.data and len(fake.calls) == calls
    not_modified = client.get(url, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.data == b""


def test_cache_moves_when_a_bar_closes(client, clock):
    url = "/api/v1/overlays/oi-delta?exchange=binance&symbol=BTCUSDT&limit=50"
    first = client.get(url).get_json()
    clock.advance(3600)
    second = client.get(url)
    assert second.headers["X-Cache"] == "miss"
    assert second.get_json()["series"][-1]["time"] == first["series"][-1]["time"] + 3_600_000


def test_upstream_down_with_cached_answer_serves_it_stale(client, clock, fake):
    url = "/api/v1/overlays/confluence?exchange=binance&symbol=BTCUSDT&limit=50"
    assert client.get(url).status_code == 200
    clock.advance(10 * 3600)  # the store no longer covers the range
    fake.fail = "down"
    r = client.get(url)
    assert r.status_code == 200 and r.headers["X-Cache"] in {"stale", "miss"}
    assert r.get_json()["meta"]["freshness"]["stale"] is True


def test_upstream_down_without_data_is_503(client, fake):
    fake.fail = "down"
    r = client.get("/api/v1/overlays/oi-delta?exchange=binance&symbol=BTCUSDT&limit=50")
    assert r.status_code == 503
    err = error_of(r)
    assert err["code"] == "upstream_unavailable" and err["details"]["retry_after"] == 7
    assert r.headers["Retry-After"] == "7"


def test_upstream_garbage_is_502(client, fake):
    fake.fail = "garbage"
    r = client.get("/api/v1/overlays/oi-delta?exchange=binance&symbol=BTCUSDT&limit=50")
    assert r.status_code == 502 and error_of(r)["code"] == "upstream_bad_response"


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("exchange=kraken", 400, "unknown_exchange"),
        ("exchange=binance&symbol=NOPEUSDT", 404, "unknown_symbol"),
        ("timeframe=3m", 400, "unsupported_timeframe"),
        ("timeframe=", 400, "unsupported_timeframe"),
        ("limit=0", 400, "invalid_argument"),
        ("limit=5001", 400, "invalid_argument"),
        ("limit=abc", 400, "invalid_argument"),
        ("start=yesterday", 400, "invalid_argument"),
        ("start=2025-02-01&end=2025-01-01", 400, "invalid_argument"),
        ("start=2030-01-01", 400, "invalid_argument"),
        ("symbol=", 400, "invalid_argument"),
    ],
)
def test_bad_input_gets_4xx_with_the_shared_shape(client, query, status, code):
    for endpoint in ("oi-delta", "confluence"):
        r = client.get(f"/api/v1/overlays/{endpoint}?{query}")
        assert r.status_code == status, (endpoint, query, r.get_json())
        assert error_of(r)["code"] == code


def test_unknown_route_and_method_use_the_shared_shape(client):
    assert error_of(client.get("/nope"))["code"] == "not_found"
    r = client.post("/api/v1/overlays/oi-delta")
    assert r.status_code == 405 and error_of(r)["code"] == "method_not_allowed"


def test_iso_start_end(client):
    r = client.get("/api/v1/overlays/oi-delta?exchange=binance&start=2025-02-01T00:00:00Z&end=2025-02-01T05:00Z")
    body = r.get_json()
    assert r.status_code == 200, body
    assert [p["time"] for p in body["series"]] == [1738368000000 + i * 3_600_000 for i in range(6)]


def test_confluence_warms_up_for_the_windows_asked(client):
    """A 400-bar z-score window is defined from the first bar shown: the warm-up follows the parameters."""
    r = client.get("/api/v1/overlays/confluence?exchange=binance&limit=5&zscore_window=400")
    body = r.get_json()
    assert r.status_code == 200, body
    assert body["meta"]["parameters"]["funding_zscore_window"] == 400
    assert all(p["funding_zscore"] is not None and p["oi_zscore"] is not None for p in body["series"])
