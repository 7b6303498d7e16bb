"""Through the HTTP API (app factory, recorded Binance klines): ``bins`` changes the map, not the clusters or max
pain a trader acts on (issue 8 item 11: the nearest cluster was 1.38% / 0.25% / 0.07% away with 200 / 500 / 1,000
bins on the same bar)."""

from __future__ import annotations

import pytest

from indicator_server import create_app
from indicator_server.api.liquidations import blp
from tests.conftest import shared_data
from tests.fakes import FakeSource, load_binance_1h

NOW = 1740788400.0  # 2025-03-01T00:20Z: the recorded klines start 2025-01-01
URL = "/api/v1/overlays/liquidations?exchange=binance&symbol=BTCUSDT&timeframe=1h&lookback=7d&include=map,clusters"


@pytest.fixture
def client(settings, clock):
    clock.now = NOW
    app = create_app(settings.with_overrides(exchanges=("binance",), default_exchange="binance"),
                     sources={"binance": FakeSource(load_binance_1h(shared_data("binance-btcusdt", "klines-1h.csv")))},
                     clock=clock)
    if "liquidations" not in app.blueprints:
        app.extensions["indicator_api"].register_blueprint(blp)
    yield app.test_client()
    app.extensions["indicator"].db.dispose()


def test_bins_change_the_map_only(client):
    bodies = {}
    for bins in (200, 500, 1000, 2000):
        r = client.get(f"{URL}&bins={bins}")
        assert r.status_code == 200, r.get_json()
        bodies[bins] = r.get_json()
        assert len(bodies[bins]["map"]["price"]) == bins
    first = bodies[200]
    assert first["clusters"] and first["max_pain"]["long"] and first["max_pain"]["short"]
    for body in bodies.values():
        # JSON numbers as the server wrote them: identical, not merely close
        assert body["clusters"] == first["clusters"]
        assert body["max_pain"] == first["max_pain"]
    params = first["meta"]["model"]["params"]
    assert first["meta"]["model"]["version"] == "1.2"
    assert params["cluster_bin_pct"] == 0.5 and params["cluster_density"] == 1.5
