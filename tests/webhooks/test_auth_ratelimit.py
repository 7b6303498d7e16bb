"""Secret comparison, source-address allowlist, X-Forwarded-For trust and the rate limiter (memory and Redis)."""

from __future__ import annotations

import uuid

import orjson
import pytest

from indicator_server.errors import RateLimited
from indicator_server.webhooks.auth import TRADINGVIEW_IPS, AddressPolicy, secret_matches
from indicator_server.webhooks.ratelimit import MemoryRateLimiter, RedisRateLimiter
from tests.conftest import Clock
from tests.services import require_redis

from .conftest import StubBinance, alert, build_app, close_app, signal_count


def test_secret_matches_any_configured_secret():
    assert secret_matches("b", ("a", "b"))
    assert not secret_matches("c", ("a", "b"))
    assert not secret_matches("", ("a",))
    assert not secret_matches(None, ("a",))
    assert secret_matches("clé", ("clé",))  # non-ASCII secrets work (compare_digest on bytes)


@pytest.mark.parametrize(
    ("proxies", "remote", "xff", "expected"),
    [
        (0, "10.0.0.1", "1.2.3.4", "10.0.0.1"),  # XFF ignored without trusted proxies
        (1, "10.0.0.1", "9.9.9.9, 1.2.3.4", "1.2.3.4"),  # the hop our proxy saw, not the spoofable first
        (2, "10.0.0.1", "9.9.9.9, 1.2.3.4, 10.0.0.2", "1.2.3.4"),
        (2, "10.0.0.1", "1.2.3.4", "10.0.0.1"),  # fewer hops than proxies: not trusted
    ],
)
def test_client_address(proxies, remote, xff, expected):
    assert AddressPolicy((), proxies).client_address(remote, xff) == expected


def test_allowlist_tradingview_expands_to_the_four_addresses():
    policy = AddressPolicy(("tradingview", "10.1.0.0/16"), 0)
    for ip in TRADINGVIEW_IPS + ("10.1.2.3",):
        policy.check(ip)
    for ip in ("1.2.3.4", "not-an-ip", "::1"):
        with pytest.raises(Exception) as info:
            policy.check(ip)
        assert info.value.status == 403


def test_allowlist_and_forwarded_for_through_the_app(tmp_path):
    from indicator_server.config import Settings

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'a.db'}", context_workers=False,
                        webhook_secrets=("s",), webhook_allowed_ips=("tradingview",), trusted_proxies=1)
    app = build_app(settings, Clock(), sources={"binance": StubBinance()})
    client = app.test_client()
    body = orjson.dumps(alert(secret="s"))
    denied = client.post("/webhook/tradingview", data=body, headers={"X-Forwarded-For": "6.6.6.6"})
    assert denied.status_code == 403 and denied.get_json()["error"]["code"] == "forbidden_address"
    spoofed = client.post("/webhook/tradingview", data=body, headers={"X-Forwarded-For": "52.89.214.238, 6.6.6.6"})
    assert spoofed.status_code == 403
    ok = client.post("/webhook/tradingview", data=body, headers={"X-Forwarded-For": "6.6.6.6, 52.89.214.238"})
    assert ok.status_code == 200
    assert app.extensions["indicator"].extras["webhooks"].repo.get(ok.get_json()["id"]).source_ip == "52.89.214.238"
    close_app(app)


def test_memory_limiter_fixed_minute_windows():
    clock = Clock(1_000_040.0)  # 20 s into a minute
    limiter = MemoryRateLimiter(3, clock=clock)
    for _ in range(3):
        limiter.hit("a")
    with pytest.raises(RateLimited) as info:
        limiter.hit("a")
    assert info.value.status == 429 and info.value.headers["Retry-After"] == "40"
    limiter.hit("b")  # other addresses are unaffected
    clock.advance(40)
    limiter.hit("a")


def test_zero_turns_the_limit_off():
    limiter = MemoryRateLimiter(0)
    for _ in range(1000):
        limiter.hit("a")


def test_flood_gets_429_with_retry_after_and_nothing_stored(tmp_path):
    from indicator_server.config import Settings

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'r.db'}", context_workers=False,
                        webhook_secrets=("s",), webhook_rate_limit=5)
    app = build_app(settings, Clock(), sources={"binance": StubBinance()})
    client = app.test_client()
    codes = [client.post("/webhook/tradingview", data=orjson.dumps(alert(secret="s", id=str(i)))).status_code
             for i in range(8)]
    assert codes == [200] * 5 + [429] * 3
    response = client.post("/webhook/tradingview", data=orjson.dumps(alert(secret="s", id="x")))
    assert int(response.headers["Retry-After"]) >= 1 and response.get_json()["error"]["code"] == "rate_limited"
    assert signal_count(app) == 5
    assert client.get("/api/v1/webhooks/metrics").get_json()["rejected_by_code"] == {"rate_limited": 4}
    close_app(app)


@pytest.fixture
def redis_url():
    return require_redis()


@pytest.mark.redis
def test_redis_limiter_is_shared_between_workers(redis_url):
    prefix = f"test:{uuid.uuid4().hex}:"
    clock = Clock(1_999_990.0)  # 10 s into a minute
    worker_a = RedisRateLimiter(4, redis_url, prefix=prefix, clock=clock)
    worker_b = RedisRateLimiter(4, redis_url, prefix=prefix, clock=clock)
    for limiter in (worker_a, worker_b, worker_a, worker_b):
        limiter.hit("1.2.3.4")
    with pytest.raises(RateLimited) as info:
        worker_b.hit("1.2.3.4")
    assert info.value.headers["Retry-After"] == "50"
    worker_a.hit("5.6.7.8")
    clock.advance(50)
    worker_a.hit("1.2.3.4")
    worker_a.client.delete(*worker_a.client.keys(prefix + "*"))


@pytest.mark.redis
def test_redis_limiter_fails_open_when_redis_is_down():
    limiter = RedisRateLimiter(1, "redis://127.0.0.1:1/0")
    for _ in range(3):
        limiter.hit("a")  # no exception: losing alerts is worse than a missed limit
