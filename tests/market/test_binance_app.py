"""exchange=binance end to end: the app's overlays served from the Binance replay server on 127.0.0.1."""

from __future__ import annotations

import pytest

from indicator_server import create_app
from tests.conftest import Clock

from .replay_server import Scripted


@pytest.fixture
def app(settings, binance_replay):
    settings = settings.with_overrides(
        binance_base_url=binance_replay.url, http_retries=1, http_backoff=0.01, http_max_backoff=0.05,
        http_read_timeout=1.0,
    )
    app = create_app(settings, clock=Clock(binance_replay.now_ms / 1000))
    yield app
    app.extensions["indicator"].db.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def test_oi_delta_from_binance(client, binance_replay):
    r = client.get("/api/v1/overlays/oi-delta?exchange=binance&symbol=BTCUSDT&timeframe=1h&limit=200")
    body = r.get_json()
    assert r.status_code == 200, body
    assert body["meta"]["exchange"] == "binance" and len(body["series"]) == 200
    assert body["meta"]["freshness"]["source"] == "live"
    assert all(p["open_interest"] is not None for p in body["series"])
    klines = binance_replay.requests("/fapi/v1/klines")
    assert klines and all(req.params["symbol"] == "BTCUSDT" for req in klines)


def test_more_than_30_days_of_oi_is_said(client):
    r = client.get("/api/v1/overlays/oi-delta?exchange=binance&symbol=BTCUSDT&timeframe=1h&limit=1500")
    body = r.get_json()
    assert r.status_code == 200, body
    assert any("30 days" in w for w in body["meta"]["warnings"])
    have_oi = [p for p in body["series"] if p["open_interest"] is not None]
    assert 600 < len(have_oi) < 1500  # the last 30 days only


def test_unknown_symbol_is_404(client, binance_replay):
    r = client.get("/api/v1/overlays/oi-delta?exchange=binance&symbol=DOESNOTEXISTUSDT")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "unknown_symbol"


def test_binance_down_is_503_with_retry_after(client, binance_replay):
    for path in ("/fapi/v1/premiumIndex", "/fapi/v1/klines"):
        binance_replay.script(path, *[Scripted.server_error(503)] * 4)
    r = client.get("/api/v1/overlays/confluence?exchange=binance&symbol=ETHUSDT&limit=50")
    assert r.status_code == 503, r.get_json()
    assert r.get_json()["error"]["code"] == "upstream_unavailable" and "Retry-After" in r.headers


def test_binance_garbage_is_502(client, binance_replay):
    binance_replay.script("/fapi/v1/premiumIndex", Scripted.truncated())
    r = client.get("/api/v1/overlays/oi-delta?exchange=binance&symbol=BTCUSDT&limit=50")
    assert r.status_code == 502 and r.get_json()["error"]["code"] == "upstream_bad_response"


def test_binance_timeout_is_504(client, binance_replay):
    binance_replay.script("/fapi/v1/premiumIndex", *[Scripted.slow(1.5)] * 2)
    r = client.get("/api/v1/overlays/oi-delta?exchange=binance&symbol=BTCUSDT&limit=50")
    assert r.status_code == 504 and r.get_json()["error"]["code"] == "upstream_timeout"


def test_live_answers_carry_mark_price_and_predicted_funding(client):
    body = client.get("/api/v1/overlays/confluence?exchange=binance&symbol=BTCUSDT&limit=20").get_json()
    live = body["meta"]["live"]
    assert live["mark_price"] > 0 and live["next_funding_time"] > body["meta"]["end"]
    assert isinstance(live["predicted_funding_rate"], float)
    past = client.get("/api/v1/overlays/oi-delta?exchange=binance&start=2026-05-01&limit=5").get_json()
    assert "live" not in past["meta"]
