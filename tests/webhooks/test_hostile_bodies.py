"""Bodies a fuzzer or a careless template sends: deep nesting, Unicode digits, NUL, JSON that is not an object.

Every one gets a 4xx in the shared error shape (or is stored), never a 5xx, on SQLite and on PostgreSQL (which
refuses NUL in text columns: the receiver refuses it first, so nothing accepted can fail to be stored).
"""

from __future__ import annotations

import orjson
import pytest

from indicator_server.webhooks.normalise import normalise_interval
from indicator_server.webhooks.outcomes import parse_outcome_bars
from indicator_server.webhooks.parsing import MAX_DEPTH

from .conftest import SECRET, alert, signal_count
from .test_receiver import post, stored


def nested(depth: int) -> bytes:
    """An alert whose ``extra`` field nests ``depth`` levels in all (the alert object is level 1)."""
    inner = depth - 1
    return (b'{"secret": "' + SECRET.encode() + b'", "ticker": "BTCUSDT", "extra": ' + b"[" * inner + b"]" * inner
            + b"}")


def assert_refused(app, response, status, code):
    assert response.status_code == status, response.get_data()[:300]
    error = response.get_json()["error"]
    assert error["code"] == code and set(error) == {"code", "message", "details"}
    assert signal_count(app) == 0


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 254, 255, 1000])
def test_deep_nesting_is_refused_with_400(wh_app, wh_client, depth):
    response = post(wh_client, nested(depth))
    assert_refused(wh_app, response, 400, "invalid_argument")
    assert response.get_json()["error"]["details"]["max_depth"] == MAX_DEPTH


def test_nesting_up_to_the_limit_is_stored_and_read_back(wh_app, wh_client):
    response = post(wh_client, nested(MAX_DEPTH))
    assert response.status_code == 200
    row = stored(wh_app, response.get_json()["id"])
    depth, value = 1, row.payload["extra"]
    while value:
        depth, value = depth + 1, value[0]
    assert depth == MAX_DEPTH - 1
    assert wh_client.get(f"/api/v1/signals/{row.id}").status_code == 200


@pytest.mark.parametrize("interval", ["²", "٦٠", "６０", "1²", "⁶⁰"])
@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
def test_unicode_digits_in_interval_are_not_minutes(wh_app, wh_client, interval, content_type):
    if content_type == "application/json":
        body = orjson.dumps(alert(interval=interval))
    else:
        body = f"secret={SECRET}\nticker=BTCUSDT\ninterval={interval}\naction=buy".encode()
    response = post(wh_client, body, content_type=content_type)
    assert response.status_code == 200, response.get_data()[:300]
    assert stored(wh_app, response.get_json()["id"]).timeframe is None  # not served: context on 1h


def test_only_ascii_digits_are_minutes():
    assert normalise_interval("60") == "1h" and normalise_interval(" 240 ") == "4h"
    assert normalise_interval("²") is None and normalise_interval("٦٠") is None
    assert parse_outcome_bars(["1", "²", "٤", " 4 ", "24"]) == [1, 4, 24]


NUL_BODIES = [
    pytest.param(lambda: orjson.dumps(alert(message="before\x00after")), "application/json", id="json-message"),
    pytest.param(lambda: orjson.dumps(alert(**{"ke\x00y": "v"})), "application/json", id="json-key"),
    pytest.param(lambda: orjson.dumps(alert(plots={"p": ["a\x00"]})), "application/json", id="json-nested"),
    pytest.param(lambda: f"secret={SECRET}\nticker=BTCUSDT\nhello\x00world".encode(), "text/plain", id="text"),
    pytest.param(lambda: b"\x00", "text/plain", id="bare-nul"),
]


@pytest.mark.parametrize(("make_body", "content_type"), NUL_BODIES)
def test_nul_characters_are_refused_on_every_database(wh_app, wh_client, make_body, content_type):
    response = post(wh_client, make_body(), token=SECRET, content_type=content_type)
    assert_refused(wh_app, response, 400, "invalid_encoding")
    assert "NUL" in response.get_json()["error"]["message"]


@pytest.mark.parametrize("body", [b'"hello"', b"null", b"true", b"false", b"42", b"-1.5e3", b"[]",
                                  b'["secret", "x"]', b' "padded" ', b"\xef\xbb\xbfnull"])
def test_json_that_is_not_an_object_is_refused_on_the_token_url(wh_app, wh_client, body):
    for content_type in ("application/json", "text/plain"):
        response = post(wh_client, body, token=SECRET, content_type=content_type)
        assert_refused(wh_app, response, 400, "malformed_json")


@pytest.mark.parametrize("body", ["BTC crossing 70k", "null and void", "42 is the answer", "'quoted'", "{{ticker}}!"])
def test_text_that_is_not_json_is_still_a_text_alert(wh_app, wh_client, body):
    response = post(wh_client, body, token=SECRET, content_type="text/plain")
    if body.startswith("{"):  # a body that starts like JSON must be JSON
        assert_refused(wh_app, response, 400, "malformed_json")
        return
    assert response.status_code == 200
    row = stored(wh_app, response.get_json()["id"])
    assert (row.content_type, row.message) == ("text", body)
