"""UDF series equal the JSON overlays bar for bar; clients paging like the stock adapter terminate with no gaps or
duplicates; one end-to-end run on gunicorn with 2 workers."""

from __future__ import annotations

import json
import urllib.request

import pytest

from benchmarks._server import running_server
from indicator_server import create_app
from indicator_server.api.udf_service import liq_warmup_bars
from indicator_server.config import Settings
from indicator_server.market.sim.params import GENESIS_MS
from tests.conftest import FROZEN_NOW, Clock, shared_data
from tests.fakes import FakeSource, load_binance_1h

NOW = int(FROZEN_NOW)
LAST_1H = NOW - NOW % 3600 - 3600  # open of the last closed 1h bar, seconds


def _udf(client, symbol, resolution="60", to=NOW, countback=200, **extra):
    query = {"symbol": symbol, "resolution": resolution, "to": to, "countback": countback} | extra
    body = client.get("/udf/history", query_string=query).get_json()
    assert body["s"] == "ok", body
    return body


def _json_series(client, path, **query):
    body = client.get(path, query_string=query)
    assert body.status_code == 200, body.get_json()
    return body.get_json()


@pytest.mark.parametrize("series, path, field, scale", [
    ("OI_DELTA", "/api/v1/overlays/oi-delta", "delta_usd", 1.0),
    ("CONFLUENCE", "/api/v1/overlays/confluence", "score", 1.0),
    ("RSI", "/api/v1/overlays/confluence", "rsi", 1.0),
    ("FUNDING", "/api/v1/overlays/confluence", "funding_rate", 100.0),
])
def test_line_series_equal_the_json_overlay(client, series, path, field, scale):
    udf = _udf(client, f"SIM:ETHUSDT:{series}", countback=300)
    rows = _json_series(client, path, symbol="ETHUSDT", timeframe="1h", limit=300, end=NOW * 1000 - 1)["series"]
    expected = [(r["time"] // 1000, r[field] * scale) for r in rows if r[field] is not None]
    assert list(zip(udf["t"], udf["c"], strict=True)) == expected
    assert len(expected) == 300


def test_candles_equal_the_candles_endpoint(client):
    udf = _udf(client, "SIM:SOLUSDT", resolution="240", countback=120)
    rows = _json_series(client, "/api/v1/candles", symbol="SOLUSDT", timeframe="4h", limit=120,
                        end=NOW * 1000 - 1)["series"]
    assert udf["t"] == [r["time"] // 1000 for r in rows]
    for key, name in (("o", "open"), ("h", "high"), ("l", "low"), ("c", "close"), ("v", "volume")):
        assert udf[key] == [r[name] for r in rows]


@pytest.mark.parametrize("side", ["long", "short"])
def test_liquidation_series_equal_the_swept_of_the_json_overlay(client, side):
    bars = 120
    udf = _udf(client, f"SIM:BTCUSDT:LIQ_{side.upper()}", countback=bars)
    lookback = bars + liq_warmup_bars("1h")
    swept = _json_series(client, "/api/v1/overlays/liquidations", symbol="BTCUSDT", timeframe="1h",
                         lookback=str(lookback), end=NOW * 1000 - 1, include="swept")["swept"][-bars:]
    assert udf["t"] == [r["time"] // 1000 for r in swept]
    assert udf["c"] == [r[f"{side}_usd"] for r in swept]


def test_liquidation_series_near_the_start_of_history(client):
    """The warm-up reaches before the sim's first bar: the model then runs from that first bar."""
    genesis = GENESIS_MS // 1000
    udf = _udf(client, "SIM:BTCUSDT:LIQ_LONG", resolution="1D", to=genesis + 20 * 86400, countback=10)
    assert udf["t"] == [genesis + d * 86400 for d in range(10, 20)]


# -- paging --------------------------------------------------------------------------------------------------
def page_backwards(client, symbol, resolution, step, countback, max_requests=200):
    """The Charting Library's loop over the stock adapter: ask `countback` bars before `to`, then again before the
    earliest bar received; on no_data follow nextTime (to = nextTime + 1, so that bar is included), stop on a
    no_data without it. Returns the bar times received, in the order received, and the request count."""
    times, to = [], NOW
    for request in range(1, max_requests + 1):
        body = client.get("/udf/history", query_string={
            "symbol": symbol, "resolution": resolution, "from": to - countback * step, "to": to,
            "countback": countback}).get_json()
        if body["s"] == "no_data":
            if "nextTime" not in body:
                return times, request
            assert body["nextTime"] < to
            to = body["nextTime"] + 1
            continue
        assert body["s"] == "ok" and body["t"] and body["t"][-1] < to
        times = body["t"] + times
        to = body["t"][0]
    raise AssertionError(f"no end after {max_requests} requests")


@pytest.mark.parametrize("symbol, resolution, step, countback", [
    ("SIM:BTCUSDT", "1D", 86400, 300),
    ("SIM:BTCUSDT", "240", 14400, 1500),
    ("SIM:ETHUSDT:RSI", "1D", 86400, 250),
])
def test_paging_backwards_terminates_and_covers_the_history(client, symbol, resolution, step, countback):
    times, requests = page_backwards(client, symbol, resolution, step, countback)
    first = GENESIS_MS // 1000
    if symbol.endswith(":RSI"):  # RSI(14) has its first value after 14 changes, as the JSON overlay shows
        rows = _json_series(client, "/api/v1/overlays/confluence", symbol="ETHUSDT", timeframe="1d",
                            start=GENESIS_MS, limit=30, clusters="false")["series"]
        first = next(r["time"] for r in rows if r["rsi"] is not None) // 1000
        assert first == GENESIS_MS // 1000 + 14 * 86400
    last = NOW - NOW % step - step
    assert times == list(range(first, last + step, step))  # every bar once, no gap, nothing before the first
    assert requests == -(-len(times) // countback) + 1  # the pages, then one no_data


def test_adapter_limited_response_loop_fills_a_long_range(client):
    """history-provider.ts with limitedServerResponse {maxResponseLength: 5000, expectedOrder: "latestFirst"}:
    while a page is full and from < to, ask again with to = the earliest bar of what it got."""
    start = GENESIS_MS // 1000
    request = {"symbol": "SIM:BTCUSDT", "resolution": "60", "from": start, "to": NOW}
    body = client.get("/udf/history", query_string=request).get_json()
    times, last_length, requests = list(body["t"]), len(body["t"]), 1
    while last_length == 5000 and request["from"] < request["to"]:
        request["to"] = times[0]
        follow = client.get("/udf/history", query_string=request).get_json()
        requests += 1
        last_length = len(follow.get("t", []))
        times = follow.get("t", []) + times
    assert times == list(range(start, LAST_1H + 3600, 3600))
    assert requests == -(-len(times) // 5000)


def test_a_gap_in_the_exchange_data_is_jumped_with_next_time(tmp_path):
    klines = load_binance_1h(shared_data("binance-btcusdt", "klines-1h.csv"))
    gap_end = (LAST_1H - 10 * 86400) * 1000
    gap_start = gap_end - 3 * 86_400_000  # three days the exchange does not have
    klines = klines[(klines["time"] < gap_start) | (klines["time"] >= gap_end)].reset_index(drop=True)
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'g.db'}", context_workers=False,
                              market_cache_seconds=0), clock=Clock(), sources={"binance": FakeSource(klines)})
    client = app.test_client()
    body = client.get("/udf/history", query_string={"symbol": "BINANCE:BTCUSDT", "resolution": "60",
                                                     "to": gap_end // 1000, "countback": 24}).get_json()
    assert body == {"s": "no_data", "nextTime": gap_start // 1000 - 3600}
    times, to = [], LAST_1H + 3600
    for _ in range(20):  # page back across the gap, following nextTime
        body = client.get("/udf/history", query_string={"symbol": "BINANCE:BTCUSDT", "resolution": "60",
                                                         "to": to, "countback": 100}).get_json()
        if body["s"] == "no_data":
            to = body["nextTime"] + 1
            continue
        times, to = body["t"] + times, body["t"][0]
        if to < gap_start // 1000 - 5 * 86400:
            break
    expected = [t // 1000 for t in klines["time"] if times[0] * 1000 <= t <= LAST_1H * 1000]
    assert times == expected and len(times) > 300
    app.extensions["indicator"].db.dispose()


def test_end_to_end_on_gunicorn_with_two_workers():
    with running_server(workers=2, env={"EXCHANGES": "sim"}) as (base, _proc):
        def get(path):
            with urllib.request.urlopen(base + path, timeout=60) as response:
                return response.status, dict(response.headers), response.read()

        status, headers, body = get("/udf/config")
        assert status == 200 and headers["Access-Control-Allow-Origin"] == "*"
        assert json.loads(body)["supports_search"] is True
        status, headers, body = get("/udf/time")
        assert headers["Content-Type"].startswith("text/plain") and int(body) > 1_700_000_000
        now = int(body)
        seen = set()
        for _ in range(4):  # several requests, spread by gunicorn over its workers
            status, headers, body = get(f"/udf/history?symbol=SIM:BTCUSDT:CONFLUENCE&resolution=60&to={now}"
                                        "&countback=50")
            page = json.loads(body)
            assert status == 200 and page["s"] == "ok" and len(page["t"]) == 50
            seen.add(tuple(page["c"]))
        assert len(seen) == 1  # every worker answers the same bars
        request = urllib.request.Request(base + "/udf/symbols?symbol=NOPE")
        try:
            urllib.request.urlopen(request, timeout=30)
            raise AssertionError("an unknown symbol must not answer 200")
        except urllib.error.HTTPError as exc:
            assert exc.code == 404 and json.loads(exc.read())["s"] == "error"
            assert exc.headers["Access-Control-Allow-Origin"] == "*"
        preflight = urllib.request.Request(base + "/udf/history", method="OPTIONS",
                                           headers={"Origin": "https://x.example",
                                                    "Access-Control-Request-Method": "GET"})
        with urllib.request.urlopen(preflight, timeout=30) as response:
            assert response.status == 200 and response.headers["Access-Control-Allow-Origin"] == "*"
