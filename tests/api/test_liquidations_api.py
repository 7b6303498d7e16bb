"""GET /api/v1/overlays/liquidations end to end through the app factory (recorded Binance klines, the sim)."""

from __future__ import annotations

import numpy as np
import pytest

from indicator_server import create_app
from indicator_server.api.liquidations import LiquidationsResponseSchema, blp
from tests.fakes import FakeSource

NOW = 1740788400.0  # 2025-03-01T00:20Z: the recorded klines start 2025-01-01
LAST_CLOSED = 1740783600000
URL = "/api/v1/overlays/liquidations?exchange=binance&symbol=BTCUSDT&timeframe=1h"


def _app(settings, clock, sources=None):
    app = create_app(settings, sources=sources, clock=clock)
    if "liquidations" not in app.blueprints:  # until the lead registers it in init_api
        app.extensions["indicator_api"].register_blueprint(blp)
    return app


@pytest.fixture
def client(settings, clock, klines):
    clock.now = NOW
    app = _app(
        settings.with_overrides(exchanges=("binance",), default_exchange="binance"),
        clock,
        {"binance": FakeSource(klines)},
    )
    yield app.test_client()
    app.extensions["indicator"].db.dispose()


def error_of(response, status=400):
    assert response.status_code == status, response.get_json()
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    return body["error"]


def test_default_answer_shape(client):
    r = client.get(URL + "&lookback=7d")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert LiquidationsResponseSchema().validate(body) == {}
    meta = body["meta"]
    assert meta["bars"] == 168 and meta["end"] == LAST_CLOSED
    assert meta["model"]["name"] == "oi-flow" and meta["model"]["version"]
    assert meta["model"]["params"]["leverage_tiers"] == [5, 10, 25, 50, 100]
    assert "heatmap" not in body and {"levels", "map", "clusters", "swept", "max_pain"} <= set(body)
    assert body["price"] > 0 and body["levels"]
    sizes = [lv["notional_usd"] for lv in body["levels"]]
    assert sizes == sorted(sizes, reverse=True)
    assert all(lv["price"] < body["price"] for lv in body["levels"] if lv["side"] == "long")
    assert len(body["map"]["long_usd"]) == 500 and set(body["map"]["by_leverage"]) == {"5", "10", "25", "50", "100"}
    distances = [c["distance_pct"] for c in body["clusters"]]
    assert distances == sorted(distances)
    assert len(body["swept"]) == 168 and body["swept"][-1]["time"] == LAST_CLOSED
    assert sum(s["long_usd"] + s["short_usd"] for s in body["swept"]) > 0


def test_heatmap_dense_and_sparse_agree(client):
    dense = client.get(
        URL + "&lookback=500&bins=100&include=heatmap&heatmap_format=dense&heatmap_rows=2000"
    ).get_json()["heatmap"]
    sparse = client.get(URL + "&lookback=500&bins=100&include=heatmap&heatmap_rows=2000").get_json()["heatmap"]
    values = np.asarray(dense["values"])
    assert values.shape == (len(dense["time"]), 100) == (500, 100)
    assert dense["time"][-1] == LAST_CLOSED and len(dense["price"]) == 100
    rebuilt = np.zeros_like(values)
    for t, p, usd in sparse["data"]:
        rebuilt[int(t), int(p)] = usd
    np.testing.assert_allclose(rebuilt, values)
    assert values.max() == pytest.approx(dense["max_usd"])


def test_leverage_filter(client):
    body = client.get(URL + "&lookback=7d&leverage=high").get_json()
    assert {lv["leverage"] for lv in body["levels"]} == {50.0, 100.0}
    assert set(body["map"]["by_leverage"]) == {"50", "100"}
    body = client.get(URL + "&lookback=7d&leverage=10,25x").get_json()
    assert {lv["leverage"] for lv in body["levels"]} == {10.0, 25.0}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("&bins=5", "bins"),
        ("&bins=5000", "bins"),
        ("&leverage=huge", "leverage"),
        ("&leverage=20", "leverage"),
        ("&include=levels,nope", "include"),
        ("&lookback=7 days", "lookback"),
        ("&lookback=30000", "lookback"),
    ],
)
def test_bad_arguments_are_400(client, query, field):
    error = error_of(client.get(URL + query))
    assert error["code"] == "invalid_argument"
    assert field in error["details"]["fields"]


def test_lookback_longer_than_the_data_is_400(client):
    error = error_of(client.get(URL + "&lookback=90d"))
    assert error["code"] == "invalid_argument"
    assert error["details"]["field"] == "lookback" and error["details"]["available_bars"] < 2160


def test_too_little_data_is_200_with_warnings(client):
    r = client.get(URL + "&lookback=12h")
    assert r.status_code == 200
    assert any("too little data" in w for w in r.get_json()["meta"]["warnings"])


def test_etag_304(client):
    first = client.get(URL + "&lookback=200")
    again = client.get(URL + "&lookback=200", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.headers["X-Cache"] == "hit"


def test_sim_exchange_needs_no_network(settings, clock):
    app = _app(settings, clock)
    try:
        r = app.test_client().get(
            "/api/v1/overlays/liquidations?exchange=sim&symbol=BTCUSDT&lookback=30d"
            "&include=levels,map,clusters,swept,heatmap"
        )
        assert r.status_code == 200, r.get_json()
        body = r.get_json()
        assert LiquidationsResponseSchema().validate(body) == {}
        assert body["meta"]["bars"] == 720 and body["heatmap"]["data"]
    finally:
        app.extensions["indicator"].db.dispose()
