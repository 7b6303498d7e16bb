"""No query string makes a GET endpoint answer 5xx; every error has the one shape (generated from the OpenAPI)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from indicator_server import create_app
from indicator_server.config import Settings
from tests.conftest import Clock

NASTY = [
    "",
    " ",
    "0",
    "-1",
    "1",
    "3",
    "14",
    "50",
    "1e9",
    "nan",
    "inf",
    "-inf",
    "abc",
    "%00",
    "1h",
    "7d",
    "90d",
    "1y",
    "1m",
    "1d",
    "2m",
    "BTCUSDT",
    "btcusdt",
    "ETHUSDT",
    "NOPE",
    "sim",
    "binance",
    "kraken",
    "true",
    "false",
    "long",
    "short",
    "linear",
    "inverse",
    "isolated",
    "cross",
    "okx",
    "bybit",
    "low",
    "medium",
    "high",
    "10,25",
    "heatmap",
    "levels,map",
    "2025-01-01",
    "2030-01-01",
    "1700000000000",
    "1700000000",
    "[]",
    "{}",
    "😀",
    "a" * 300,
]


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "f.db"
    app = create_app(
        Settings(database_url=f"sqlite:///{path}", context_workers=False, exchanges=("sim",)), clock=Clock()
    )
    yield app
    app.extensions["indicator"].db.dispose()


def get_endpoints(app) -> dict[str, list[str]]:
    spec = app.extensions["indicator_api"].spec.to_dict()
    out = {}
    for path, item in spec["paths"].items():
        if "get" in item and "{" not in path and not path.endswith(".csv"):
            out[path] = [p["name"] for p in item["get"].get("parameters", []) if p.get("in") == "query"]
    return out


def test_the_spec_lists_the_endpoints_fuzzed(fuzz_app):
    endpoints = get_endpoints(fuzz_app)
    assert {
        "/api/v1/overlays/oi-delta",
        "/api/v1/overlays/confluence",
        "/api/v1/overlays/liquidations",
        "/api/v1/liquidation-price",
        "/api/v1/signals",
    } <= set(endpoints)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_query_gives_a_5xx(fuzz_app, data):
    endpoints = get_endpoints(fuzz_app)
    path = data.draw(st.sampled_from(sorted(endpoints)))
    names = endpoints[path] + ["unknown_param"]
    chosen = data.draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
    query = {name: data.draw(st.sampled_from(NASTY) | st.text(max_size=12)) for name in chosen}
    if "limit" in query and query["limit"].isascii() and query["limit"].isdigit() and int(query["limit"]) > 600:
        query["limit"] = "600"  # keep the run short: big limits are valid, and slow on purpose
    if query.get("lookback", "").endswith(("d", "y")):
        query["lookback"] = "7d"
    response = fuzz_app.test_client().get(path, query_string=query)
    event(f"{path} {response.status_code}")
    assert response.status_code < 500, (path, query, response.get_data()[:300])
    if response.status_code >= 400 and path.startswith("/udf/"):
        body = response.get_json()  # the TradingView UDF datafeed answers UDF's own error form
        assert body["s"] == "error" and set(body) == {"s", "errmsg"}
    elif response.status_code >= 400:
        body = response.get_json()
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
