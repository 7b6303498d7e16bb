"""No input makes the receiver answer 5xx, and a rejected request stores nothing (1,000+ generated bodies on
SQLite, 300 on the real PostgreSQL, which refuses what SQLite stores: NUL in text).

The strategies include what a fuzzer found (issue 8): JSON nested past orjson's 254 writable levels, Unicode
digits where minutes are expected (``"²"``, ``"٦٠"``), NUL characters raw and escaped, bare JSON scalars."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from indicator_server.config import Settings
from tests.conftest import Clock

from .conftest import SECRET, StubBinance, alert, build_app, close_app, signal_count

KEYS = ["secret", "ticker", "exchange", "interval", "action", "price", "time", "timenow", "id", "message",
        "plots", "strategy", "close", "open", "volume", "extra"]
scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**64 - 1)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40)
           | st.sampled_from(["BTCUSDT.P", "BINANCE:ETHUSDT", "60", "1D", "1W", "buy", "2026-06-01T11:00:00Z",
                              "{{close}}", "", "BINANCE", "sim", "1e400", "NaN", "-1", "BTC/USDT", SECRET]))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)


def _mutated(draw_base, key, value, drop):
    body = dict(draw_base)
    if drop:
        body.pop(key, None)
    else:
        body[key] = value
    return orjson.dumps(body)


json_bodies = st.builds(
    _mutated,
    st.sampled_from([alert(), alert(secret=None), alert(id="x1"), {"secret": SECRET}]),
    st.sampled_from(KEYS) | st.text(max_size=8),
    json_values,
    st.booleans(),
)
objects = st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), json_values, max_size=8).map(orjson.dumps)
text_bodies = st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass"))
kv_bodies = st.lists(st.tuples(st.sampled_from(KEYS), st.text(max_size=20).filter(lambda t: "\n" not in t)),
                     max_size=6).map(lambda items: "\n".join(f"{k}={v}" for k, v in items).encode("utf-8", "replace"))
oversize = st.integers(min_value=2040, max_value=2100).map(lambda n: b'{"m": "' + b"x" * n + b'"}')
unicode_digits = st.text(alphabet="0123456789²³¹⁰⁴⁶٠١٢٣٤٥٦٧٨٩０１２３６۶߀१", min_size=1, max_size=4)
interval_bodies = st.tuples(unicode_digits, st.booleans()).map(
    lambda t: orjson.dumps(alert(interval=t[0])) if t[1]
    else f"secret={SECRET}\nticker=BTCUSDT\ninterval={t[0]}".encode())
deep_bodies = st.integers(min_value=20, max_value=1100).map(
    lambda n: b'{"secret": "' + SECRET.encode() + b'", "x": ' + b"[" * n + b"]" * n + b"}")
nul_bodies = st.sampled_from(KEYS + ["plots"]).flatmap(
    lambda key: st.text(max_size=10).map(lambda t: orjson.dumps(alert(**{key: t + "\x00"}))))
scalar_bodies = st.sampled_from([b"null", b'"text"', b"true", b"42", b"[]", b"\x00", b"\xef\xbb\xbfnull"])
bodies = (json_bodies | objects | text_bodies | kv_bodies | st.binary(max_size=300) | oversize | interval_bodies
          | deep_bodies | nul_bodies | scalar_bodies)
content_types = st.sampled_from(["application/json", "text/plain", "text/plain; charset=utf-8",
                                 "application/x-www-form-urlencoded", None])
tokens = st.none() | st.just(SECRET) | st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.~%", min_size=1,
                                                max_size=20)


def _app(url):
    return build_app(Settings(database_url=url, context_workers=False, webhook_secrets=(SECRET,),
                              webhook_rate_limit=0, webhook_max_body=2048),
                     Clock(), sources={"binance": StubBinance()})


@pytest.fixture(scope="module")
def prop_app(tmp_path_factory):
    app = _app(f"sqlite:///{tmp_path_factory.mktemp('prop') / 'p.db'}")
    yield app
    close_app(app)


@pytest.fixture(scope="module")
def pg_prop_app(pg_schema):
    app = _app(pg_schema)
    yield app
    close_app(app)


_SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@settings(max_examples=1000, **_SETTINGS)
@given(body=bodies, content_type=content_types, token=tokens)
def test_no_input_gives_a_5xx_and_rejections_store_nothing(prop_app, body, content_type, token):
    check_one(prop_app, body, content_type, token)


@pytest.mark.postgres
@settings(max_examples=300, **_SETTINGS)
@given(body=bodies, content_type=content_types, token=tokens)
def test_no_input_gives_a_5xx_on_postgres(pg_prop_app, body, content_type, token):
    check_one(pg_prop_app, body, content_type, token)


def check_one(prop_app, body, content_type, token):
    client = prop_app.test_client()
    before = signal_count(prop_app)
    url = "/webhook/tradingview" + (f"/{token}" if token else "")
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post(url, data=body, headers=headers)
    assert response.status_code < 500, (response.status_code, response.get_data()[:300])
    event(f"status {response.status_code}")
    after = signal_count(prop_app)
    payload = response.get_json()
    if response.status_code == 200:
        assert after - before == (0 if payload["duplicate"] else 1)
    else:
        assert after == before
        assert set(payload["error"]) == {"code", "message", "details"}
        assert SECRET not in response.get_data(as_text=True)
