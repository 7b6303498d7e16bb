"""GET /api/v1/signals, /api/v1/signals/<id> and /api/v1/signals.csv (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io

import orjson
import pytest

from tests.webhooks import conftest as webhook_fixtures
from tests.webhooks.conftest import SECRET, alert

# the webhook tests' fixtures (SQLite and the real PostgreSQL)
database_url = webhook_fixtures.database_url
pg_schema = webhook_fixtures.pg_schema
wh_settings = webhook_fixtures.wh_settings
wh_clock = webhook_fixtures.wh_clock
wh_app = webhook_fixtures.wh_app


def _post(client, **fields):
    response = client.post("/webhook/tradingview", data=orjson.dumps(alert(**fields)),
                           content_type="application/json")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["id"]


@pytest.fixture
def seeded(wh_app, wh_clock):
    client = wh_app.test_client()
    ids = []
    for i in range(7):
        ticker, action = ("ETHUSDT", "sell") if i % 3 == 0 else ("BTCUSDT.P", "buy")
        ids.append(_post(client, ticker=ticker, action=action, id=f"a{i}", message=f"alert {i}", custom=i))
        wh_clock.advance(60)
    return client, ids


def test_pages_are_newest_first_and_complete(seeded):
    client, ids = seeded
    seen, cursor = [], None
    while True:
        query = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        body = client.get("/api/v1/signals", query_string=query).get_json()
        seen += [row["id"] for row in body["data"]]
        cursor = body["pagination"]["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(ids, reverse=True)


def test_filters(seeded, wh_clock):
    client, ids = seeded
    body = client.get("/api/v1/signals", query_string={"symbol": "ETHUSDT", "action": "SELL"}).get_json()
    assert [r["id"] for r in body["data"]] == [ids[6], ids[3], ids[0]]
    assert all(r["exchange"] == "binance" and r["symbol"] == "ETHUSDT" for r in body["data"])
    since = int(wh_clock.now * 1000) - 3 * 60_000  # the last three posts
    body = client.get("/api/v1/signals", query_string={"since": since}).get_json()
    assert [r["id"] for r in body["data"]] == ids[:-4:-1]
    body = client.get("/api/v1/signals", query_string={"until": "2026-06-01T12:35:56Z"}).get_json()
    assert [r["id"] for r in body["data"]] == [ids[1], ids[0]]


def test_one_signal(seeded):
    client, ids = seeded
    body = client.get(f"/api/v1/signals/{ids[2]}").get_json()
    assert body["id"] == ids[2] and body["message"] == "alert 2" and body["payload"]["custom"] == 2
    assert "secret" not in body["payload"] and body["deliveries"] == 1
    missing = client.get("/api/v1/signals/999999")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("query", [{"limit": 0}, {"limit": "x"}, {"cursor": "???"}, {"since": "yesterday"}])
def test_bad_queries_are_400(seeded, query):
    client, _ = seeded
    response = client.get("/api/v1/signals", query_string=query)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_argument"


def test_csv_has_a_column_for_every_stored_field(seeded):
    client, ids = seeded
    response = client.get("/api/v1/signals.csv", query_string={"symbol": "BTCUSDT"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [int(r["id"]) for r in rows] == [i for i in reversed(ids) if (ids.index(i)) % 3]
    for name in ("message", "payload.ticker", "payload.custom", "payload.timenow", "action", "price", "deliveries"):
        assert name in rows[0]
    assert rows[0]["message"] == "alert 5" and rows[0]["payload.ticker"] == "BTCUSDT.P"
    assert SECRET not in response.get_data(as_text=True)


def test_csv_pages_with_the_cursor_header(seeded):
    client, ids = seeded
    response = client.get("/api/v1/signals.csv", query_string={"limit": 4})
    cursor = response.headers["X-Next-Cursor"]
    rest = client.get("/api/v1/signals.csv", query_string={"limit": 4, "cursor": cursor})
    assert "X-Next-Cursor" not in rest.headers
    got = [int(r["id"]) for r in csv.DictReader(io.StringIO(response.get_data(as_text=True)))]
    got += [int(r["id"]) for r in csv.DictReader(io.StringIO(rest.get_data(as_text=True)))]
    assert got == sorted(ids, reverse=True)
