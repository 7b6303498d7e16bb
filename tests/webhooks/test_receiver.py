"""POST /webhook/tradingview: acceptance, normalisation, idempotency and every rejection (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import orjson
import pytest

from .conftest import OLD_SECRET, SECRET, alert, signal_count


def post(client, body, *, token=None, content_type="application/json", **kwargs):
    data = body if isinstance(body, bytes | str) else orjson.dumps(body)
    url = "/webhook/tradingview" + (f"/{token}" if token else "")
    return client.post(url, data=data, content_type=content_type, **kwargs)


def stored(app, signal_id):
    return app.extensions["indicator"].extras["webhooks"].repo.get(signal_id)


def test_json_alert_is_stored_normalised(wh_app, wh_client, wh_clock):
    response = post(wh_client, alert(extra_field={"a": 1}, plots={"plot_0": "31.5"}))
    assert response.status_code == 200
    reply = response.get_json()
    assert reply["duplicate"] is False and isinstance(reply["id"], int)
    row = stored(wh_app, reply["id"])
    assert (row.exchange, row.symbol, row.timeframe, row.action) == ("binance", "BTCUSDT", "1h", "buy")
    assert row.price == 65000.5
    assert row.bar_time == 1780311600000  # 2026-06-01T11:00:00Z
    assert row.fired_at == 1780317290000
    assert row.received_at == int(wh_clock.now * 1000)
    assert row.payload["extra_field"] == {"a": 1} and row.payload["ticker"] == "BTCUSDT.P"
    assert "secret" not in row.payload and SECRET not in json.dumps(row.payload)
    assert row.content_type == "json" and row.deliveries == 1 and row.context_status == "pending"


def test_text_plain_json_is_parsed_whatever_the_content_type(wh_app, wh_client):
    response = post(wh_client, orjson.dumps(alert()), content_type="text/plain")
    assert response.status_code == 200
    assert stored(wh_app, response.get_json()["id"]).symbol == "BTCUSDT"


def test_plain_text_key_values_and_free_message(wh_app, wh_client):
    body = f"secret={SECRET}\nticker=ETHUSDT\nexchange=binance\ninterval=4h\naction=Sell\nBreakout failed"
    response = post(wh_client, body, content_type="text/plain")
    assert response.status_code == 200
    row = stored(wh_app, response.get_json()["id"])
    assert (row.symbol, row.timeframe, row.action, row.message) == ("ETHUSDT", "4h", "sell", "Breakout failed")
    assert row.content_type == "text" and SECRET not in row.raw_body and "Breakout failed" in row.raw_body


def test_token_url_accepts_a_free_message(wh_app, wh_client):
    response = post(wh_client, "BTC crossing 70k, watch it", token=SECRET, content_type="text/plain")
    assert response.status_code == 200
    row = stored(wh_app, response.get_json()["id"])
    assert row.message == "BTC crossing 70k, watch it" and row.symbol is None
    assert row.context_status == "skipped"


def test_old_secret_still_accepted_during_rotation(wh_client):
    assert post(wh_client, alert(secret=OLD_SECRET)).status_code == 200


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"ticker": "BINANCE:BTCUSDT.P", "exchange": None, "interval": "1D"}, ("binance", "BTCUSDT", "1d")),
        ({"ticker": "ETHUSDT", "exchange": "binance", "interval": "4h"}, ("binance", "ETHUSDT", "4h")),
        ({"ticker": "SOLUSDT.P", "interval": 240}, ("binance", "SOLUSDT", "4h")),
        ({"ticker": "BTCUSDT", "interval": "1W"}, ("binance", "BTCUSDT", None)),
        ({"ticker": "BTCUSDT", "exchange": "sim", "interval": "15"}, ("sim", "BTCUSDT", "15m")),
    ],
)
def test_tradingview_forms_are_normalised(wh_app, wh_client, fields, expected):
    response = post(wh_client, alert(**fields))
    assert response.status_code == 200, response.get_json()
    row = stored(wh_app, response.get_json()["id"])
    assert (row.exchange, row.symbol, row.timeframe) == expected


def test_strategy_action_and_price_fill_in(wh_app, wh_client):
    body = alert(action=None, price=None, strategy={"order": {"action": "sell", "price": 64000, "contracts": "0.5"}})
    row = stored(wh_app, post(wh_client, body).get_json()["id"])
    assert (row.action, row.price) == ("sell", 64000.0)


def test_same_id_is_stored_once_with_a_delivery_count(wh_app, wh_client, wh_clock):
    first = post(wh_client, alert(id="order-42")).get_json()
    wh_clock.advance(3600)  # ids deduplicate beyond the window
    second = post(wh_client, alert(id="order-42", timenow="2026-06-01T13:00:00Z")).get_json()
    assert second == {"id": first["id"], "duplicate": True}
    assert stored(wh_app, first["id"]).deliveries == 2
    assert signal_count(wh_app) == 1


def test_identical_body_within_the_window_is_a_duplicate(wh_app, wh_client, wh_clock):
    body = alert()
    first = post(wh_client, body).get_json()
    wh_clock.advance(10)
    reordered = dict(reversed(list(body.items())))  # same alert, keys in another order
    assert post(wh_client, reordered).get_json() == {"id": first["id"], "duplicate": True}
    wh_clock.advance(wh_app.extensions["indicator"].settings.webhook_dedup_window)
    later = post(wh_client, body).get_json()
    assert later["duplicate"] is False and later["id"] != first["id"]
    assert signal_count(wh_app) == 2


def test_same_body_with_another_secret_is_the_same_alert(wh_client):
    first = post(wh_client, alert()).get_json()
    assert post(wh_client, alert(secret=OLD_SECRET)).get_json()["id"] == first["id"]


REJECTIONS = [
    (b'{"secret": "x", "ticker": ', "application/json", 400, "malformed_json"),
    (b"[1, 2, 3]", "application/json", 400, "malformed_json"),
    (b"\xff\xfe\x00garbage", "text/plain", 400, "invalid_encoding"),
    (b"", "application/json", 400, "empty_body"),
    (orjson.dumps(alert(secret=None)), "application/json", 401, "missing_secret"),
    (orjson.dumps(alert(secret="wrong")), "application/json", 401, "wrong_secret"),
    (orjson.dumps(alert(secret=12345)), "application/json", 401, "wrong_secret"),
    (orjson.dumps(alert(price="{{close}}")), "application/json", 400, "invalid_argument"),
    (orjson.dumps(alert(price=True)), "application/json", 400, "invalid_argument"),
    (orjson.dumps(alert(ticker=["BTCUSDT"])), "application/json", 400, "invalid_argument"),
    (orjson.dumps(alert(strategy="long")), "application/json", 400, "invalid_argument"),
    (orjson.dumps(alert(ticker="BTC/USDT!")), "application/json", 404, "unknown_symbol"),
    (orjson.dumps(alert(exchange="BYBIT")), "application/json", 400, "unknown_exchange"),
    (b"just a message without a secret", "text/plain", 401, "missing_secret"),
]


@pytest.mark.parametrize(("body", "content_type", "status", "code"), REJECTIONS)
def test_bad_input_gets_its_4xx_and_nothing_is_stored(wh_app, wh_client, body, content_type, status, code):
    response = post(wh_client, body, content_type=content_type)
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["code"] == code and set(error) == {"code", "message", "details"}
    assert SECRET not in response.get_data(as_text=True)
    assert signal_count(wh_app) == 0
    metrics = wh_client.get("/api/v1/webhooks/metrics").get_json()
    assert metrics["rejected_by_code"] == {code: 1} and metrics["accepted"] == 0


def test_unknown_token_is_404(wh_app, wh_client):
    response = post(wh_client, alert(secret=None), token="not-a-token")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "unknown_token"
    assert signal_count(wh_app) == 0


def test_oversize_body_is_413(wh_app, wh_client):
    limit = wh_app.extensions["indicator"].settings.webhook_max_body
    response = post(wh_client, alert(message="x" * limit))
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "payload_too_large"
    assert signal_count(wh_app) == 0


def test_metrics_count_accepted_and_duplicates(wh_client):
    post(wh_client, alert())
    post(wh_client, alert())
    metrics = wh_client.get("/api/v1/webhooks/metrics").get_json()
    assert (metrics["accepted"], metrics["duplicates"], metrics["rejected"]) == (1, 1, 0)
