"""GET /api/v1/overlays/liquidations.png through the app factory: a PNG of the asked size, cached per closed bar
with an ETag, served stale when the exchange fails; every bad input a JSON error, never an image."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from indicator_server import create_app
from indicator_server.api import pictures
from indicator_server.errors import UpstreamUnavailable
from tests.conftest import shared_data
from tests.fakes import FakeSource, load_binance_1h

URL = "/api/v1/overlays/liquidations.png?symbol=BTCUSDT&timeframe=1h"
BINANCE_NOW = 1740788400.0  # 2025-03-01T00:20Z: the recorded klines start 2025-01-01


def error_of(response, status=400):
    assert response.status_code == status, response.get_data()[:300]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    return body["error"]


@pytest.mark.parametrize("view", ["heatmap", "map"])
def test_png_of_the_asked_size_with_cache_headers(client, view):
    r = client.get(URL + f"&view={view}&width=800&height=450")
    assert r.status_code == 200 and r.mimetype == "image/png", r.get_data()[:300]
    assert Image.open(io.BytesIO(r.data)).size == (800, 450)
    assert r.headers["X-Cache"] == "miss" and r.headers["ETag"] and "max-age=" in r.headers["Cache-Control"]
    again = client.get(URL + f"&view={view}&width=800&height=450")
    assert again.headers["X-Cache"] == "hit" and again.data == r.data and again.headers["ETag"] == r.headers["ETag"]
    not_modified = client.get(URL + f"&view={view}&width=800&height=450",
                              headers={"If-None-Match": r.headers["ETag"]})
    assert not_modified.status_code == 304 and not_modified.data == b""


def test_views_and_sizes_are_separate_pictures(client):
    tags = {client.get(URL + q).headers["ETag"] for q in ("", "&view=map", "&width=1000", "&leverage=high")}
    assert len(tags) == 4


@pytest.mark.parametrize(("query", "field"), [
    ("&width=0", "width"),
    ("&width=100000", "width"),
    ("&width=abc", "width"),
    ("&width=12.5", "width"),
    ("&height=-1", "height"),
    ("&height=", "height"),
    ("&view=pie", "view"),
    ("&bins=5", "bins"),
    ("&lookback=7 days", "lookback"),
    ("&leverage=3x", "leverage"),
])
def test_bad_arguments_are_json_400(client, query, field):
    error = error_of(client.get(URL + query))
    assert error["code"] == "invalid_argument" and field in error["details"]["fields"]


def test_unknown_timeframe_symbol_and_exchange_are_json(client):
    r = client.get("/api/v1/overlays/liquidations.png?symbol=BTCUSDT&timeframe=7m")
    assert error_of(r)["code"] == "unsupported_timeframe"
    r = client.get("/api/v1/overlays/liquidations.png?symbol=NOPE")
    assert r.status_code in (400, 404) and error_of(r, r.status_code)["code"] == "unknown_symbol"
    r = client.get(URL + "&exchange=kraken")
    assert error_of(r, r.status_code)["code"] == "unknown_exchange"


@pytest.fixture
def binance(settings, clock):
    klines = load_binance_1h(shared_data("binance-btcusdt", "klines-1h.csv"))
    clock.now = BINANCE_NOW
    source = FakeSource(klines)
    app = create_app(settings.with_overrides(exchanges=("binance",), default_exchange="binance"),
                     sources={"binance": source}, clock=clock)
    yield app.test_client(), source
    app.extensions["indicator"].db.dispose()


def test_a_lookback_longer_than_the_data_is_json_400(binance):
    client, _ = binance
    error = error_of(client.get(URL + "&lookback=90d"))
    assert error["details"]["field"] == "lookback" and error["details"]["available_bars"] < 2160


def test_upstream_down_serves_the_last_good_picture_marked_stale(client, clock, monkeypatch):
    good = client.get(URL + "&view=map")
    assert good.status_code == 200
    clock.advance(3600)  # the next bar closed: a new cache key, so the picture must be built again

    def down(*_args, **_kwargs):
        raise UpstreamUnavailable("exchange unreachable", retry_after=7)

    monkeypatch.setattr(pictures, "estimate_for_request", down)
    r = client.get(URL + "&view=map")
    assert r.status_code == 200 and r.mimetype == "image/png" and r.headers["X-Cache"] == "stale"
    assert r.data == good.data and r.headers["ETag"] == good.headers["ETag"]
    assert r.headers["Warning"].startswith('110 - "upstream failed (upstream_unavailable)')
    assert r.headers["Cache-Control"] == "public, max-age=0"
    assert client.get(URL + "&view=heatmap").status_code == 503  # no good picture of that view: the JSON error


def test_upstream_down_without_a_good_picture_is_a_json_503(binance):
    client, source = binance
    source.fail = "down"
    r = client.get(URL)
    assert r.status_code == 503 and error_of(r, 503)["code"]
