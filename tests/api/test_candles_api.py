"""GET /api/v1/candles: the exchange's own OHLCV rows, the overlays' range semantics, caching and errors."""

from __future__ import annotations

import pandas as pd
import pytest

from indicator_server import create_app
from indicator_server.api.candles import CandlesResponseSchema

NOW = 1740788400.0  # 2025-03-01T00:20Z
LAST_CLOSED = 1740783600000


@pytest.fixture
def client(settings, clock, fake):
    clock.now = NOW
    app = create_app(settings.with_overrides(exchanges=("binance", "sim"), default_exchange="binance"),
                     sources={"binance": fake}, clock=clock)
    yield app.test_client()
    app.extensions["indicator"].db.dispose()


def test_candles_are_the_recorded_klines(client, klines):
    r = client.get("/api/v1/candles?exchange=binance&symbol=BTCUSDT&timeframe=1h&limit=48")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert CandlesResponseSchema().validate(body) == {}
    series = body["series"]
    assert len(series) == 48 and series[-1]["time"] == LAST_CLOSED
    assert body["meta"]["start"] == series[0]["time"] and body["meta"]["end"] == LAST_CLOSED
    recorded = klines.set_index("time")
    for row in series:
        ref = recorded.loc[row["time"]]
        for column in ("open", "high", "low", "close", "volume", "quote_volume", "taker_buy_volume", "trades"):
            assert row[column] == pytest.approx(float(ref[column])), (row["time"], column)
    times = pd.Series([row["time"] for row in series])
    assert (times.diff().dropna() == 3_600_000).all()


def test_start_and_end_select_the_range(client):
    r = client.get("/api/v1/candles?exchange=binance&symbol=BTCUSDT&start=2025-02-01T00:00Z&limit=3")
    assert [row["time"] for row in r.get_json()["series"]] == [1738368000000, 1738371600000, 1738375200000]


def test_the_sim_has_candles_on_every_timeframe(client):
    for timeframe in ("1m", "15m", "4h", "1d"):
        r = client.get(f"/api/v1/candles?exchange=sim&symbol=ETHUSDT&timeframe={timeframe}&limit=20")
        assert r.status_code == 200, (timeframe, r.get_json())
        series = r.get_json()["series"]
        assert len(series) == 20
        assert all(row["low"] <= min(row["open"], row["close"]) <= max(row["open"], row["close"]) <= row["high"]
                   for row in series)


def test_etag_304_and_cache(client, fake):
    url = "/api/v1/candles?exchange=binance&symbol=BTCUSDT&limit=50"
    first = client.get(url)
    assert first.headers["X-Cache"] == "miss"
    calls = len(fake.calls)
    assert client.get(url).headers["X-Cache"] == "hit" and len(fake.calls) == calls
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304


@pytest.mark.parametrize(("query", "status", "code"), [
    ("exchange=binance&symbol=NOPEUSDT", 404, "unknown_symbol"),
    ("timeframe=2m", 400, "unsupported_timeframe"),
    ("limit=0", 400, "invalid_argument"),
    ("exchange=kraken", 400, "unknown_exchange"),
])
def test_bad_input_gets_the_shared_error_shape(client, query, status, code):
    r = client.get(f"/api/v1/candles?{query}")
    assert r.status_code == status
    assert r.get_json()["error"]["code"] == code


def test_upstream_down_is_503(client, fake):
    fake.fail = "down"
    r = client.get("/api/v1/candles?exchange=binance&symbol=BTCUSDT&limit=10")
    assert r.status_code == 503 and r.get_json()["error"]["code"] == "upstream_unavailable"
