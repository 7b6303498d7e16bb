"""The TradingView UDF datafeed under /udf: config, symbols, search, history, time, marks, errors and CORS."""

from __future__ import annotations

import orjson
import pytest

from indicator_server import create_app
from indicator_server.config import Settings
from indicator_server.udf.symbols import RESOLUTIONS, SERIES
from tests.conftest import FROZEN_NOW, Clock, shared_data
from tests.fakes import FakeSource, load_binance_1h
from tests.webhooks.conftest import StubBinance

NOW = int(FROZEN_NOW)
SECRET = "udf-secret-0123456789"
STEP_S = {"1": 60, "5": 300, "15": 900, "30": 1800, "60": 3600, "120": 7200, "240": 14400, "360": 21600,
          "720": 43200, "1D": 86400}


def history(client, **query):
    response = client.get("/udf/history", query_string=query)
    return response, response.get_json()


def test_config_declares_search_marks_and_time(client):
    response = client.get("/udf/config")
    body = response.get_json()
    assert response.status_code == 200 and response.headers["Access-Control-Allow-Origin"] == "*"
    assert body["supports_search"] is True and body["supports_group_request"] is False
    assert body["supports_marks"] and body["supports_timescale_marks"] and body["supports_time"]
    assert body["supported_resolutions"] == ["1", "5", "15", "30", "60", "120", "240", "360", "720", "1D"]
    assert {e["value"] for e in body["exchanges"]} == {"", "SIM", "BINANCE"}
    assert {t["value"] for t in body["symbols_types"]} == {"", "crypto", "indicator"}


def test_time_is_plain_text_seconds(client):
    response = client.get("/udf/time")
    assert response.mimetype == "text/plain" and response.get_data(as_text=True) == str(NOW)
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("text, ticker, kind", [
    ("SIM:BTCUSDT", "SIM:BTCUSDT", "crypto"),
    ("btcusdt", "SIM:BTCUSDT", "crypto"),
    ("sim:ethusdt:rsi", "SIM:ETHUSDT:RSI", "indicator"),
    ("BTCUSDT:LIQ_SHORT", "SIM:BTCUSDT:LIQ_SHORT", "indicator"),
])
def test_symbol_info(client, text, ticker, kind):
    body = client.get("/udf/symbols", query_string={"symbol": text}).get_json()
    assert body["ticker"] == ticker and body["full_name"] == ticker and body["type"] == kind
    assert body["exchange"] == body["listed_exchange"] == "SIM"
    assert body["session"] == "24x7" and body["timezone"] == "Etc/UTC" and body["has_intraday"] is True
    assert body["supported_resolutions"] == list(RESOLUTIONS)
    assert body["data_status"] == "delayed_streaming" and body["minmov"] == 1
    assert body["format"] in ("price", "volume") and isinstance(body["volume_precision"], int)


def test_candle_pricescale_follows_the_price(client):
    btc = client.get("/udf/symbols", query_string={"symbol": "SIM:BTCUSDT"}).get_json()
    rsi = client.get("/udf/symbols", query_string={"symbol": "SIM:BTCUSDT:RSI"}).get_json()
    liq = client.get("/udf/symbols", query_string={"symbol": "SIM:BTCUSDT:LIQ_LONG"}).get_json()
    assert btc["pricescale"] == 10 and btc["visible_plots_set"] == "ohlcv" and btc["volume_precision"] == 3
    assert rsi["pricescale"] == 100 and rsi["visible_plots_set"] == "ohlc" and rsi["has_no_volume"] is True
    assert liq["format"] == "volume"


def test_search_lists_candles_and_series(client):
    body = client.get("/udf/search", query_string={"query": "btcusdt", "limit": 30}).get_json()
    tickers = [item["ticker"] for item in body]
    assert "SIM:BTCUSDT" in tickers and "BINANCE:BTCUSDT:CONFLUENCE" in tickers
    assert {t for t in tickers if t.startswith("SIM:BTCUSDT")} == {"SIM:BTCUSDT"} | {
        f"SIM:BTCUSDT:{s}" for s in SERIES}
    only = client.get("/udf/search", query_string={"query": "ETH", "type": "crypto", "exchange": "SIM"}).get_json()
    assert [i["ticker"] for i in only] == ["SIM:ETHUSDT"]
    assert len(client.get("/udf/search", query_string={"query": "", "limit": 5}).get_json()) == 5


@pytest.mark.parametrize("resolution", list(RESOLUTIONS) + ["D"])
def test_every_resolution_gives_closed_aligned_bars(client, resolution):
    step = STEP_S.get(resolution, 86400)
    response, body = history(client, symbol="SIM:BTCUSDT", resolution=resolution, to=NOW, countback=5,
                             **{"from": NOW - 3 * step})
    assert response.status_code == 200 and body["s"] == "ok", body
    assert set(body) == {"s", "t", "o", "h", "l", "c", "v"}
    t = body["t"]
    assert len(t) == 5 and all(b - a == step for a, b in zip(t, t[1:], strict=False))  # countback wins over from
    assert all(x % step == 0 for x in t) and t[-1] + step <= NOW < t[-1] + 2 * step  # the last closed bar
    assert all(lo <= min(o, c) <= max(o, c) <= hi for o, hi, lo, c in
               zip(body["o"], body["h"], body["l"], body["c"], strict=True))


def test_from_to_range_excludes_to(client):
    to = NOW - NOW % 3600 - 3600  # the open of the last closed bar: not included
    _, body = history(client, symbol="SIM:BTCUSDT", resolution="60", to=to, **{"from": to - 4 * 3600})
    assert body["t"] == [to - 4 * 3600, to - 3 * 3600, to - 2 * 3600, to - 3600]
    _, body = history(client, symbol="SIM:BTCUSDT", resolution="60", to=to + 1, **{"from": to - 4 * 3600 + 1})
    assert body["t"] == [to - 3 * 3600, to - 2 * 3600, to - 3600, to]


def test_daily_bars_open_at_midnight_utc(client):
    _, body = history(client, symbol="SIM:BTCUSDT", resolution="1D", to=NOW, countback=10)
    assert all(t % 86400 == 0 for t in body["t"]) and body["t"][-1] == NOW - NOW % 86400 - 86400


def test_a_big_range_is_capped_to_its_latest_5000_bars(client):
    _, body = history(client, symbol="SIM:BTCUSDT", resolution="60", to=NOW, **{"from": NOW - 20_000 * 3600})
    assert len(body["t"]) == 5000 and body["t"][-1] == NOW - NOW % 3600 - 3600
    _, body = history(client, symbol="SIM:BTCUSDT", resolution="60", to=NOW, countback=9000)
    assert len(body["t"]) == 5000


@pytest.mark.parametrize("symbol", ["SIM:BTCUSDT", "SIM:BTCUSDT:RSI", "SIM:BTCUSDT:LIQ_LONG"])
def test_no_data_before_the_history_begins(client, symbol):
    _, body = history(client, symbol=symbol, resolution="1D", to=1_700_000_000, countback=50)
    assert body == {"s": "no_data"}  # no nextTime: the sim's world starts on 2024-01-01
    _, body = history(client, symbol=symbol, resolution="1D", to=1_000, **{"from": 0})
    assert body == {"s": "no_data"}


def test_no_data_after_the_last_closed_bar_points_back_to_it(client):
    _, body = history(client, symbol="SIM:BTCUSDT", resolution="60", to=NOW + 7200, **{"from": NOW})
    assert body == {"s": "no_data", "nextTime": NOW - NOW % 3600 - 3600}


def test_overlay_series_hold_one_value_per_bar(client):
    for series in SERIES:
        _, body = history(client, symbol=f"SIM:BTCUSDT:{series}", resolution="240", to=NOW, countback=20)
        assert body["s"] == "ok" and len(body["t"]) == 20, (series, body)
        assert "v" not in body and body["o"] == body["h"] == body["l"] == body["c"]
    _, rsi = history(client, symbol="SIM:BTCUSDT:RSI", resolution="240", to=NOW, countback=50)
    assert all(0 <= v <= 100 for v in rsi["c"])
    _, liq = history(client, symbol="SIM:BTCUSDT:LIQ_SHORT", resolution="240", to=NOW, countback=50)
    assert all(v >= 0 for v in liq["c"]) and max(liq["c"]) > 0


def test_history_is_cached_per_bar_with_etag(client):
    query = {"symbol": "SIM:BTCUSDT:CONFLUENCE", "resolution": "60", "to": NOW, "countback": 100}
    first = client.get("/udf/history", query_string=query)
    again = client.get("/udf/history", query_string=dict(query, to=NOW + 5))  # same bars: same page
    assert first.headers["X-Cache"] == "miss" and again.headers["X-Cache"] == "hit"
    assert again.get_data() == first.get_data()
    unchanged = client.get("/udf/history", query_string=query, headers={"If-None-Match": first.headers["ETag"]})
    assert unchanged.status_code == 304 and unchanged.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("path, query, status, code", [
    ("/udf/history", {"symbol": "SIM:BTCUSDT", "resolution": "2", "to": NOW, "countback": 5}, 400,
     "unsupported_timeframe"),
    ("/udf/history", {"symbol": "SIM:BTCUSDT", "resolution": "1W", "to": NOW, "countback": 5}, 400,
     "unsupported_timeframe"),
    ("/udf/history", {"symbol": "NOPE", "resolution": "60", "to": NOW, "countback": 5}, 404, "unknown_symbol"),
    ("/udf/history", {"symbol": "KRAKEN:BTCUSDT", "resolution": "60", "to": NOW, "countback": 5}, 400,
     "unknown_exchange"),
    ("/udf/history", {"symbol": "SIM:BTCUSDT:MACD", "resolution": "60", "to": NOW, "countback": 5}, 400,
     "invalid_argument"),
    ("/udf/history", {"symbol": "SIM:BTCUSDT", "resolution": "60", "to": NOW}, 400, "invalid_argument"),
    ("/udf/history", {"symbol": "SIM:BTCUSDT", "resolution": "60", "to": NOW, "from": NOW + 1}, 400,
     "invalid_argument"),
    ("/udf/history", {"symbol": "SIM:BTCUSDT", "resolution": "60", "to": "abc", "countback": 5}, 400,
     "invalid_argument"),
    ("/udf/symbols", {"symbol": "NOPE"}, 404, "unknown_symbol"),
    ("/udf/symbols", {}, 400, "invalid_argument"),
    ("/udf/marks", {"symbol": "SIM:BTCUSDT", "from": NOW, "to": NOW - 1}, 400, "invalid_argument"),
    ("/udf/timescale_marks", {"symbol": "SIM:BTCUSDT", "from": 0, "to": NOW, "resolution": "3"}, 400,
     "unsupported_timeframe"),
    ("/udf/nothing-here", {}, 404, "not_found"),
])
def test_errors_are_in_udf_form_with_cors(client, path, query, status, code):
    response = client.get(path, query_string=query)
    assert response.status_code == status, response.get_data()
    assert response.get_json()["s"] == "error" and set(response.get_json()) == {"s", "errmsg"}
    assert response.headers["X-Error-Code"] == code and response.headers["Access-Control-Allow-Origin"] == "*"


def test_preflight_and_wrong_method(client):
    response = client.options("/udf/history", headers={
        "Origin": "https://charts.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "x-requested-with"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response.headers["Access-Control-Allow-Methods"]
    assert response.headers["Access-Control-Allow-Headers"] == "x-requested-with"
    posted = client.post("/udf/history")
    assert posted.status_code == 405 and posted.get_json()["s"] == "error"
    assert posted.headers["Access-Control-Allow-Origin"] == "*"


def test_json_api_errors_keep_their_shape(client):
    body = client.get("/api/v1/overlays/oi-delta", query_string={"timeframe": "2m"}).get_json()
    assert body["error"]["code"] == "unsupported_timeframe"


# -- a Binance source replaying recorded data, and failing ------------------------------------------------------
@pytest.fixture
def binance_app(tmp_path):
    fake = FakeSource(load_binance_1h(shared_data("binance-btcusdt", "klines-1h.csv")))
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'b.db'}", context_workers=False,
                              market_cache_seconds=0), clock=Clock(), sources={"binance": fake})
    yield app, fake
    app.extensions["indicator"].db.dispose()


def test_binance_candles_are_the_recorded_klines(binance_app):
    app, fake = binance_app
    frame = fake.klines
    _, body = history(app.test_client(), symbol="BINANCE:BTCUSDT", resolution="60", to=NOW, countback=48)
    expected = frame[(frame["time"] < (NOW - NOW % 3600) * 1000)].tail(48)
    assert body["t"] == [int(t) // 1000 for t in expected["time"]]
    assert body["c"] == expected["close"].tolist() and body["v"] == expected["volume"].tolist()


@pytest.mark.parametrize("fail, status", [("down", 503), ("garbage", 502)])
def test_exchange_failures_are_udf_errors(binance_app, fail, status):
    app, fake = binance_app
    fake.fail = fail
    response = app.test_client().get("/udf/history", query_string={
        "symbol": "BINANCE:BTCUSDT", "resolution": "60", "to": NOW, "countback": 10})
    assert response.status_code == status and response.get_json()["s"] == "error"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    if fail == "down":
        assert response.headers["Retry-After"] == "7"


# -- marks from the signal log -------------------------------------------------------------------------------
@pytest.fixture
def wh_client(tmp_path):
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'm.db'}", context_workers=False,
                              market_cache_seconds=0, webhook_secrets=(SECRET,), webhook_rate_limit=0),
                     clock=Clock(), sources={"binance": StubBinance()})  # no network
    app.config["TESTING"] = True
    yield app.test_client()
    app.extensions["indicator"].extras["webhooks"].close()
    app.extensions["indicator"].db.dispose()


def _post(client, **fields):
    body = {"secret": SECRET, "ticker": "BTCUSDT", "exchange": "sim", "interval": "60", "action": "buy",
            "price": "71700", "time": "2026-06-01T11:00:00Z"} | fields
    response = client.post("/webhook/tradingview", data=orjson.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["id"]


def test_marks_are_the_posted_signals(wh_client):
    buy = _post(wh_client, message="RSI crossed 30")
    sell = _post(wh_client, action="sell", price="72000", time="2026-06-01T10:00:00Z")
    _post(wh_client, ticker="ETHUSDT", time="2026-06-01T09:00:00Z")  # another market
    _post(wh_client, exchange="binance", time="2026-06-01T09:00:00Z")  # another exchange
    query = {"symbol": "SIM:BTCUSDT", "from": NOW - 86400, "to": NOW, "resolution": "60"}
    marks = wh_client.get("/udf/marks", query_string=query).get_json()
    assert marks["id"] == [sell, buy]
    assert marks["time"] == [1780308000, 1780311600]  # the alerts' bars, seconds
    assert marks["color"] == ["red", "green"] and marks["label"] == ["S", "B"]
    assert "BUY BTCUSDT 1h @ 71700" in marks["text"][1] and "RSI crossed 30" in marks["text"][1]
    assert set(marks) == {"id", "time", "color", "text", "label", "labelFontColor", "minSize"}
    overlay = wh_client.get("/udf/marks", query_string=dict(query, symbol="BTCUSDT:RSI")).get_json()
    assert overlay["id"] == marks["id"]  # marks sit on the market's overlay series too
    narrow = wh_client.get("/udf/marks", query_string=dict(query, **{"from": 1780311600})).get_json()
    assert narrow["id"] == [buy]
    empty = wh_client.get("/udf/marks", query_string=dict(query, to=NOW - 86400 + 10)).get_json()
    assert empty["id"] == [] and set(empty) == set(marks)


def test_timescale_marks_are_regime_changes(client):
    query = {"symbol": "SIM:BTCUSDT", "from": NOW - 90 * 86400, "to": NOW, "resolution": "240"}
    marks = client.get("/udf/timescale_marks", query_string=query).get_json()
    assert isinstance(marks, list) and marks
    confluence = client.get("/api/v1/overlays/confluence", query_string={
        "symbol": "BTCUSDT", "timeframe": "4h", "limit": 90 * 6 + 1, "end": NOW * 1000}).get_json()["series"]
    changes = [row for before, row in zip(confluence, confluence[1:], strict=False)
               if row["regime"] != before["regime"] and row["time"] >= (NOW - 90 * 86400) * 1000]
    assert [m["time"] for m in marks] == [row["time"] // 1000 for row in changes]
    labels = {"long_cascade_risk": "L", "short_squeeze_risk": "S", "neutral": "N"}
    assert [m["label"] for m in marks] == [labels[row["regime"]] for row in changes]
    assert all(set(m) == {"id", "time", "color", "label", "tooltip"} and m["tooltip"] for m in marks)
    assert len({m["id"] for m in marks}) == len(marks)


def test_openapi_documents_the_udf_endpoints_and_their_error_form(client):
    spec = client.get("/openapi.json").get_json()
    paths = {p: item["get"] for p, item in spec["paths"].items() if p.startswith("/udf/")}
    assert set(paths) == {f"/udf/{n}" for n in ("config", "symbols", "search", "history", "time", "marks",
                                                 "timescale_marks")}
    for path, operation in paths.items():
        default = operation["responses"]["default"]["content"]["application/json"]["schema"]
        assert default == {"$ref": "#/components/schemas/UdfError"}, path
    names = [p["name"] for p in paths["/udf/history"]["parameters"]]
    assert names == ["symbol", "resolution", "from", "to", "countback"]
    assert "text/plain" in paths["/udf/time"]["responses"]["200"]["content"]
