"""The webhook on the wire, against real gunicorn (2 sync workers) and raw sockets.

Broken body framing is a 400 in the shared error shape (never a 500 with a traceback; TradingView resends every
5xx), and no log line of gunicorn or of the app ever holds a webhook token, even when gunicorn cannot parse the
request line that carries it.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.request
from contextlib import contextmanager

import pytest

from benchmarks._server import running_server

SECRET = "wire-secret-4f2a9c0d17"
ENV = {"WEBHOOK_SECRET": SECRET, "CONTEXT_WORKER": "false", "LOG_LEVEL": "INFO"}


def exchange(base: str, data: bytes, timeout: float = 10.0) -> bytes:
    """Send raw bytes, half-close, and return everything the server answers."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def status_and_json(reply: bytes) -> tuple[int, dict | None]:
    head, _, body = reply.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    try:
        return status, json.loads(body)
    except ValueError:
        return status, None


def signal_total(base: str) -> int:
    with urllib.request.urlopen(base + "/api/v1/signals?limit=100", timeout=10) as response:
        return len(json.load(response)["data"])


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    log_path = str(tmp_path_factory.mktemp("wire") / "server.log")
    with running_server(workers=2, env=ENV, log_path=log_path) as (base, _proc):
        yield base, log_path


CHUNKED = (b"POST /webhook/tradingview HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
           b"Transfer-Encoding: chunked\r\n\r\n")
LENGTH = (b"POST /webhook/tradingview HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          b"Content-Length: %d\r\n\r\n")
ALERT = json.dumps({"secret": SECRET, "ticker": "BTCUSDT", "exchange": "sim", "action": "buy"}).encode()

BROKEN = [
    pytest.param(CHUNKED + b"zz\r\n" + ALERT + b"\r\n0\r\n\r\n", id="bad-chunk-size"),
    pytest.param(CHUNKED + b"%x\r\n" % (len(ALERT) + 40) + ALERT, id="chunk-cut-short"),
    pytest.param(CHUNKED + b"%x\r\n" % len(ALERT) + ALERT + b"XX0\r\n\r\n", id="chunk-missing-terminator"),
    pytest.param(CHUNKED + b"%x\r\n" % len(ALERT) + ALERT + b"\r\n", id="no-last-chunk"),
    pytest.param(LENGTH % (len(ALERT) + 10) + ALERT, id="content-length-cut-short"),
]


@pytest.mark.parametrize("request_bytes", BROKEN)
def test_broken_body_framing_is_a_400_in_the_error_shape(server, request_bytes):
    base, log_path = server
    before = signal_total(base)
    status, body = status_and_json(exchange(base, request_bytes))
    assert status == 400, body
    assert body["error"]["code"] == "malformed_body" and set(body["error"]) == {"code", "message", "details"}
    assert signal_total(base) == before  # a truncated alert is never stored
    time.sleep(0.2)
    with open(log_path, encoding="utf-8", errors="replace") as log:
        assert "Traceback" not in log.read()


def test_a_whole_chunked_alert_is_stored(server):
    base, _ = server
    body = json.dumps({"secret": SECRET, "ticker": "ETHUSDT", "exchange": "sim", "id": "chunked-ok"}).encode()
    request_bytes = CHUNKED + b"%x\r\n" % 10 + body[:10] + b"\r\n" + b"%x\r\n" % (len(body) - 10) + body[10:] \
        + b"\r\n0\r\n\r\n"
    status, reply = status_and_json(exchange(base, request_bytes))
    assert status == 200 and reply["duplicate"] is False


@contextmanager
def gunicorn_with_logs(tmp_path, env):
    """gunicorn as ``make run`` starts it (config from gunicorn_conf, access and error log kept)."""
    log_path = tmp_path / "server.log"
    with running_server(workers=2, env=env, log_path=str(log_path), access_log=True) as (base, _proc):
        yield base, log_path


TOKEN_LINES = [
    b"POST /webhook/tradingview/" + SECRET.encode() + b"?x=1\r\nHost: x\r\n\r\n",  # no HTTP version
    b"POST /webhook/tradingview/" + SECRET.encode() + b"?x=\x7f HTTP/1.1\r\nHost: x\r\n\r\n",  # invalid octet
    b"POST /webhook/tradingview/" + SECRET.encode() + b" HTTP/1.1 extra\r\nHost: x\r\n\r\n",
    b"POST /webhook%2Ftradingview%2F" + SECRET.encode() + b"\r\n\r\n",
    b"POST /elsewhere?t=" + SECRET.encode() + b"\r\n\r\n",  # the secret outside the token URL
    b"GET /webhook/tradingview/" + SECRET.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",  # 405
]


def test_no_log_line_holds_a_token(tmp_path):
    with gunicorn_with_logs(tmp_path, ENV) as (base, log_path):
        replies = [exchange(base, line) for line in TOKEN_LINES]
        good = (b"POST /webhook/tradingview/" + SECRET.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: text/plain\r\nContent-Length: 11\r\nConnection: close\r\n\r\nhello there")
        replies.append(exchange(base, good))
        time.sleep(0.5)
    assert all(reply.startswith(b"HTTP/1.1 4") for reply in replies[:-1]), [r[:40] for r in replies]
    assert replies[-1].startswith(b"HTTP/1.1 200")
    text = log_path.read_text(encoding="utf-8", errors="replace")
    assert "Invalid request" in text and "/webhook/tradingview/***" in text  # the lines are there, redacted
    assert SECRET not in text
    assert SECRET[:12] not in text
