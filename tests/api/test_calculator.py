"""GET /api/v1/liquidation-price: exchange formulas through HTTP, bad input, and stop advice on sim data."""

from __future__ import annotations

import pytest

from indicator_server.api import calculator
from indicator_server.api.calculator import stop_advice

URL = "/api/v1/liquidation-price"


@pytest.fixture
def calc(app):
    assert "calculator" in app.blueprints
    return app.test_client()


def get(client, **params):
    params.setdefault("advice", "false")
    return client.get(URL, query_string=params)


@pytest.mark.parametrize(
    "params, expected",
    [
        # DOMAIN.md section 2 check values (Binance: 0.5 BTC keeps the notional in the 0.4% / cum 0 bracket)
        ({"exchange": "binance", "side": "long", "entry": 60000, "leverage": 10, "quantity": 0.5}, 54216.87),
        ({"exchange": "binance", "side": "short", "entry": 60000, "leverage": 10, "quantity": 0.5}, 65737.05),
        ({"exchange": "bybit", "side": "long", "entry": 20000, "leverage": 50, "quantity": 1}, 19700.0),
        ({"exchange": "bybit", "contract": "inverse", "side": "long", "entry": 50000, "leverage": 50,
          "quantity": 100000}, 49261.08),
        ({"exchange": "bybit", "contract": "inverse", "margin_mode": "cross", "balance": 0.5, "side": "long",
          "entry": 50000, "leverage": 50, "quantity": 100000}, 39525.69),
        ({"exchange": "okx", "side": "long", "entry": 60000, "leverage": 10, "quantity": 1}, 54244.10),
        ({"exchange": "okx", "side": "short", "entry": 60000, "leverage": 10, "quantity": 1}, 65704.33),
    ],
)
def test_check_values(calc, params, expected):
    response = get(calc, **params)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["price"] == pytest.approx(expected, abs=0.005)
    assert body["source"].startswith("https://")
    assert body["bracket"]["mmr"] == body["maintenance_rate"]
    assert body["stop_advice"] is None


def test_bracket_in_answer(calc):
    body = get(calc, exchange="binance", side="long", entry=60000, leverage=10, quantity=10).get_json()
    assert body["bracket"]["tier"] == 3 and body["maintenance_rate"] == 0.01 and body["bracket"]["cum"] == 1300
    assert body["notional"] == 600000 and body["notional_currency"] == "USD"
    assert body["distance_pct"] == pytest.approx((60000 - body["price"]) / 600)


@pytest.mark.parametrize(
    "params, field",
    [
        ({"entry": 0}, "entry"),
        ({"entry": -1}, "entry"),
        ({"leverage": 126}, "leverage"),
        ({"quantity": 10, "leverage": 75}, "leverage"),  # 600k notional: Binance allows 50x
        ({"exchange": "kraken"}, "exchange"),
        ({"contract": "quanto"}, "contract"),
        ({"contract": "inverse"}, "contract"),  # Binance COIN-M is not offered
        ({"margin_mode": "cross"}, "balance"),
        ({"side": "sideways"}, "side"),
        ({"entry": "abc"}, "entry"),
        ({"timeframe": "7m"}, "timeframe"),
    ],
)
def test_bad_input(calc, params, field):
    query = {"exchange": "binance", "side": "long", "entry": 60000, "leverage": 10, "quantity": 0.5, **params}
    response = get(calc, **query)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_argument"
    assert field in (error["details"].get("field"), *error["details"].get("fields", {}))


def test_missing_required(calc):
    response = calc.get(URL, query_string={"exchange": "binance", "entry": 60000})
    assert response.status_code == 400
    assert set(response.get_json()["error"]["details"]["fields"]) >= {"side", "leverage", "quantity"}


def test_stop_advice_on_sim(calc):
    probe = calc.get(URL, query_string={"side": "long", "entry": 100, "leverage": 5, "quantity": 1,
                                        "exchange_data": "sim", "symbol": "BTCUSDT", "lookback": 500})
    assert probe.status_code == 200, probe.get_json()
    market = probe.get_json()["stop_advice"]["market_price"]
    assert market > 0 and probe.get_json()["stop_advice"]["warnings"]  # entry 100 is far from the market
    for side in ("long", "short"):
        body = calc.get(URL, query_string={"side": side, "entry": market, "leverage": 20, "quantity": 0.1,
                                           "exchange_data": "sim", "lookback": 500}).get_json()
        advice, liq = body["stop_advice"], body["price"]
        assert advice["exchange_data"] == "sim" and advice["symbol"] == "BTCUSDT"
        distances = [c["distance_pct"] for c in advice["nearest_clusters"]]
        assert distances == sorted(distances)
        if advice["suggested_stop"] is not None:
            lo, hi = sorted((liq, market))
            assert lo < advice["suggested_stop"] < hi
            cluster = advice["cluster"]
            assert cluster["between_entry_and_liquidation"] and cluster["side"] == side
            stop = advice["suggested_stop"]
            assert not cluster["price_low"] <= stop <= cluster["price_high"]  # never inside the cluster


CLUSTER = {"side": "long", "price_low": 95.0, "price_high": 97.0, "price_peak": 96.0, "notional_usd": 1e6,
           "distance_pct": 4.0}


def test_stop_beyond_the_nearest_cluster():
    far = {**CLUSTER, "price_low": 91.0, "price_high": 92.0, "price_peak": 91.5}
    advice = stop_advice("long", 100.0, 80.0, [far, CLUSTER])
    assert advice["placement"] == "beyond_cluster"
    assert advice["cluster"]["price_peak"] == 96.0
    assert advice["suggested_stop"] == pytest.approx(95.0 * (1 - calculator.STOP_BUFFER_PCT / 100))


def test_stop_before_a_cluster_that_reaches_liquidation():
    advice = stop_advice("long", 100.0, 96.0, [CLUSTER])
    assert advice["placement"] == "before_cluster"
    assert advice["suggested_stop"] == pytest.approx(97.0 * (1 + calculator.STOP_BUFFER_PCT / 100))


def test_short_and_no_cluster():
    short = {**CLUSTER, "side": "short", "price_low": 103.0, "price_high": 104.0, "price_peak": 103.5}
    advice = stop_advice("short", 100.0, 110.0, [CLUSTER, short])
    assert advice["placement"] == "beyond_cluster"
    assert advice["suggested_stop"] == pytest.approx(104.0 * (1 + calculator.STOP_BUFFER_PCT / 100))
    none = stop_advice("short", 100.0, 110.0, [CLUSTER])  # only a long cluster: nothing above a short's entry
    assert none["placement"] == "none" and none["suggested_stop"] is None
    assert none["nearest_clusters"][0]["between_entry_and_liquidation"] is False


def test_unknown_market_data_source(calc):
    response = calc.get(URL, query_string={"side": "long", "entry": 60000, "leverage": 10, "quantity": 0.5,
                                           "exchange_data": "nope"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "unknown_exchange"
