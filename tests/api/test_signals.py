"""GET /api/v1/signals, /api/v1/signals/<id> and /api/v1/signals.csv (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
import csv
import io
from types import SimpleNamespace

import orjson
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indicator_server.api.signals import FORMULA_START, signals_csv
from indicator_server.store.signals import SIGNAL_COLUMNS
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


# --- issue 8: ids bounded at the edge, since/until like the overlays, CSV safe to open and to parse ----------

@pytest.mark.parametrize("signal_id", ["9223372036854775808", "99999999999999999999999"])
def test_an_id_beyond_64_bits_is_404_not_500(seeded, signal_id):
    client, _ = seeded
    response = client.get(f"/api/v1/signals/{signal_id}")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_the_largest_64_bit_id_is_simply_not_found(seeded):
    client, _ = seeded
    response = client.get("/api/v1/signals/9223372036854775807")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize("text", ["id:9223372036854775808", "id:99999999999999999999999", "id:0", "id:-1",
                                  "id:²", "id:٣", "id: 5", "id:5x"])
def test_a_cursor_outside_the_id_range_is_400(seeded, text):
    client, _ = seeded
    for url in ("/api/v1/signals", "/api/v1/signals.csv"):
        response = client.get(url, query_string={"cursor": _cursor(text)})
        assert response.status_code == 400, (url, text, response.status_code)
        assert response.get_json()["error"]["details"]["fields"] == {"cursor": ["not a cursor of this API"]}


def test_a_cursor_of_the_largest_id_pages_from_the_newest(seeded):
    client, ids = seeded
    body = client.get("/api/v1/signals", query_string={"cursor": _cursor("id:9223372036854775807")}).get_json()
    assert [r["id"] for r in body["data"]] == sorted(ids, reverse=True)


@pytest.mark.parametrize("since, until", [("2026-06-01", "2026-06-02"), ("2026-06-01T00:00:00", "1780358400"),
                                          ("1780272000000", "2026-06-02T00:00:00+00:00")])
def test_since_and_until_take_what_the_overlays_take(seeded, since, until):
    client, ids = seeded
    body = client.get("/api/v1/signals", query_string={"since": since, "until": until})
    assert body.status_code == 200, body.get_json()
    assert sorted(r["id"] for r in body.get_json()["data"]) == sorted(ids)
    later = client.get("/api/v1/signals", query_string={"since": "2026-06-02"}).get_json()
    assert later["data"] == []


@pytest.mark.parametrize("value", ["", "²", "2026-13-01", "1e308", "-5", "nan"])
def test_bad_times_are_400_naming_the_field(seeded, value):
    client, _ = seeded
    for name in ("since", "until"):
        response = client.get("/api/v1/signals", query_string={name: value})
        assert response.status_code == 400 and name in response.get_json()["error"]["details"]["fields"]


HOSTILE = ["=HYPERLINK(\"http://x\",\"y\")", "+1+2", "-2+3", "@SUM(A1)", "\tlead", "\rlead", "a\rb", "a\r\nb",
           "a\nb", 'say "hi", then', "'=already quoted"]


def test_hostile_messages_and_keys_round_trip_through_the_csv(wh_app):
    client = wh_app.test_client()
    ids = [_post(client, id=f"h{i}", message=m, **{f"k{i}\r\n,\"=x": m}) for i, m in enumerate(HOSTILE)]
    text = client.get("/api/v1/signals.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == len(HOSTILE) + 1 and len({len(r) for r in rows}) == 1
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert frame.shape == (len(HOSTILE), len(rows[0]))
    by_id = {int(r[0]): dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    for i, (signal_id, message) in enumerate(zip(ids, HOSTILE, strict=True)):
        expected = "'" + message if message.startswith(FORMULA_START) else message
        assert by_id[signal_id]["message"] == expected
        assert by_id[signal_id][f"payload.k{i}\r\n,\"=x"] == expected
        assert frame.loc[frame["id"] == str(signal_id), "message"].item() == expected
    assert not any(cell.startswith(FORMULA_START) for row in rows for cell in row)


def _row(i, message, payload):
    row = SimpleNamespace(**dict.fromkeys(SIGNAL_COLUMNS))
    row.id, row.received_at, row.message, row.price = i, 1780272000000 + i, message, -1.5
    row.raw_body, row.payload, row.context = message, payload, {"close": -0.25, "missing": ["oi"]}
    row.outcome = {"1": {"change_pct": -0.5}}
    return row


_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_text, st.dictionaries(_text, _text, max_size=3)), min_size=1, max_size=5))
def test_any_message_and_payload_key_round_trip_through_csv_and_pandas(items):
    rows = [_row(i + 1, m, p) for i, (m, p) in enumerate(items)]
    text = signals_csv(rows)

    def shown(value: str) -> str:
        return "'" + value if value.startswith(FORMULA_START) else value

    parsed = list(csv.reader(io.StringIO(text, newline="")))
    header, body = parsed[0], parsed[1:]
    keys = list(dict.fromkeys(k for _, p in items for k in p))
    assert header == SIGNAL_COLUMNS + ["raw_body"] + [shown(f"payload.{k}") for k in keys] + [
        "context.close", "context.missing", "outcome.1.change_pct"]
    assert len(body) == len(items) and all(len(r) == len(header) for r in body)
    for (message, payload), cells in zip(items, body, strict=True):
        got = dict(zip(header, cells, strict=True))
        assert got["message"] == got["raw_body"] == shown(message)
        assert all(got[shown(f"payload.{k}")] == (shown(payload[k]) if k in payload else "") for k in keys)
        assert got["price"] == "-1.5" and got["context.close"] == "-0.25"  # numbers are not formulas
        assert got["outcome.1.change_pct"] == "-0.5"
    assert not any(c.startswith(FORMULA_START) for r in parsed for c in r if not _is_number(c))
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False)
    assert list(frame.columns) == header and frame.values.tolist() == body


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
