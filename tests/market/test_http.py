"""HttpClient: which failures are retried, how long it waits, and what each failure becomes."""

from __future__ import annotations

import logging
import socket

import pytest

from indicator_server.errors import UpstreamBadResponse, UpstreamError, UpstreamTimeout, UpstreamUnavailable
from indicator_server.market.http import HttpClient, parse_retry_after

from .replay_server import KLINES, Scripted

PARAMS = {"symbol": "BTCUSDT", "interval": "1h", "limit": 3}


@pytest.fixture
def make_client(binance_replay, fake_sleep):
    clients = []

    def make(base_url=None, **overrides):
        options = {"retries": 3, "backoff": 0.5, "max_backoff": 8.0, "sleep": fake_sleep, "read_timeout": 2.0}
        options.update(overrides)
        client = HttpClient(base_url or binance_replay.url, name="binance", **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.session.close()


def test_429_waits_as_long_as_retry_after_says(binance_replay, make_client, fake_sleep):
    binance_replay.script(KLINES, Scripted.rate_limited(retry_after=2), Scripted.rate_limited(retry_after=3))
    rows = make_client().get_json(KLINES, PARAMS)
    assert len(rows) == 3
    assert fake_sleep.waits == [2.0, 3.0]
    assert [entry.status for entry in binance_replay.requests(KLINES)] == [429, 429, 200]


def test_5xx_is_retried_with_exponential_backoff_then_succeeds(binance_replay, make_client, fake_sleep):
    binance_replay.script(KLINES, Scripted.server_error(500), Scripted.server_error(503), Scripted.html(502))
    rows = make_client().get_json(KLINES, PARAMS)
    assert [row[0] for row in rows] == [1785531600000, 1785535200000, 1785538800000]  # the latest three
    assert fake_sleep.waits == [0.5, 1.0, 2.0]
    assert len(binance_replay.requests(KLINES)) == 4


def test_backoff_is_capped_by_max_backoff(binance_replay, make_client, fake_sleep):
    binance_replay.script(KLINES, *[Scripted.server_error(500)] * 3)
    make_client(backoff=4.0, max_backoff=5.0).get_json(KLINES, PARAMS)
    assert fake_sleep.waits == [4.0, 5.0, 5.0]


def test_exhausted_retries_on_429_become_upstream_unavailable_with_retry_after(
    binance_replay, make_client, fake_sleep
):
    binance_replay.script(KLINES, *[Scripted.rate_limited(retry_after=2)] * 4)
    with pytest.raises(UpstreamUnavailable) as caught:
        make_client().get_json(KLINES, PARAMS)
    error = caught.value
    assert type(error) is UpstreamUnavailable
    assert error.status == 503 and error.code == "upstream_unavailable"
    assert error.retry_after == 2.0
    assert error.headers["Retry-After"] == "2"
    assert error.details["attempts"] == 4 and error.details["status"] == 429
    assert fake_sleep.waits == [2.0, 2.0, 2.0]
    assert len(binance_replay.requests(KLINES)) == 4


def test_exhausted_retries_on_5xx_report_the_next_backoff(binance_replay, make_client, fake_sleep):
    binance_replay.script(KLINES, *[Scripted.server_error(500)] * 2)
    with pytest.raises(UpstreamUnavailable) as caught:
        make_client(retries=1).get_json(KLINES, PARAMS)
    assert fake_sleep.waits == [0.5]
    assert caught.value.retry_after == 1.0  # never below one second
    assert caught.value.details["status"] == 500


def test_a_ban_longer_than_max_backoff_is_not_slept_through(binance_replay, make_client, fake_sleep):
    binance_replay.script(KLINES, Scripted.banned(retry_after=120))
    with pytest.raises(UpstreamUnavailable) as caught:
        make_client().get_json(KLINES, PARAMS)
    assert caught.value.retry_after == 120.0
    assert fake_sleep.waits == []
    assert len(binance_replay.requests(KLINES)) == 1


def test_read_timeout_becomes_upstream_timeout(binance_replay, make_client, fake_sleep):
    binance_replay.script(KLINES, Scripted.slow(0.6), Scripted.slow(0.6))
    with pytest.raises(UpstreamTimeout) as caught:
        make_client(read_timeout=0.1, retries=1).get_json(KLINES, PARAMS)
    assert caught.value.status == 504 and caught.value.code == "upstream_timeout"
    assert fake_sleep.waits == [0.5]


def test_a_slow_answer_within_the_timeout_is_fine(binance_replay, make_client, fake_sleep):
    binance_replay.script(KLINES, Scripted.slow(0.05))
    assert len(make_client(read_timeout=2.0).get_json(KLINES, PARAMS)) == 3
    assert fake_sleep.waits == []


def test_refused_connection_is_retried_then_unavailable(make_client, fake_sleep):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client(base_url=f"http://127.0.0.1:{port}", retries=2, connect_timeout=0.5)
    with pytest.raises(UpstreamUnavailable) as caught:
        client.get_json(KLINES, PARAMS)
    assert type(caught.value) is UpstreamUnavailable
    assert fake_sleep.waits == [0.5, 1.0]
    assert caught.value.retry_after == 2.0


def test_truncated_json_is_a_bad_response_and_not_retried(binance_replay, make_client, fake_sleep):
    binance_replay.script(KLINES, Scripted.truncated(keep=50))
    with pytest.raises(UpstreamBadResponse) as caught:
        make_client().get_json(KLINES, PARAMS)
    assert caught.value.status == 502 and caught.value.code == "upstream_bad_response"
    assert fake_sleep.waits == []
    assert len(binance_replay.requests(KLINES)) == 1


def test_an_html_page_with_status_200_is_a_bad_response(binance_replay, make_client):
    binance_replay.script(KLINES, Scripted.html(200))
    with pytest.raises(UpstreamBadResponse) as caught:
        make_client().get_json(KLINES, PARAMS)
    assert "text/html" in caught.value.details["content_type"]


def test_other_4xx_are_not_retried(binance_replay, make_client, fake_sleep):
    with pytest.raises(UpstreamError) as caught:
        make_client().get_json(KLINES, {"symbol": "BTCUSDT", "interval": "7h"})
    error = caught.value
    assert error.code == "upstream_rejected" and error.status == 502
    assert error.details["status"] == 400
    assert error.details["upstream_code"] == -1120
    assert error.details["upstream_message"] == "Invalid interval."
    assert fake_sleep.waits == []
    assert len(binance_replay.requests(KLINES)) == 1


def test_retries_are_logged(binance_replay, make_client, caplog):
    binance_replay.script(KLINES, Scripted.rate_limited(retry_after=1))
    with caplog.at_level(logging.INFO, logger="indicator_server.market.http"):
        make_client().get_json(KLINES, PARAMS)
    assert any("HTTP 429" in record.getMessage() and "retry 1/3" in record.getMessage()
               for record in caplog.records)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("3", 3.0),
        ("0.25", 0.25),
        ("-4", 0.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 60.0),
        ("soon", None),
        (None, None),
    ],
)
def test_parse_retry_after(header, expected):
    now = 1445412420.0  # 2015-10-21T07:27:00Z
    assert parse_retry_after(header, now=now) == expected
