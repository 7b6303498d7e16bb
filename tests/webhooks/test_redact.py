"""Token redaction of log records: messages, arguments, tracebacks, whichever logger or handler writes them."""

from __future__ import annotations

import io
import logging

import pytest

from indicator_server.webhooks.redact import install_log_redaction, redact

SECRET = "redact-me-7d3b1e"


@pytest.fixture
def captured():
    install_log_redaction([SECRET])
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)  # added after the installation: it is covered too
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger("tests.redact.capture")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield logger, stream
    logger.removeHandler(handler)


@pytest.mark.parametrize(("line", "expected"), [
    ("POST /webhook/tradingview/abc123 HTTP/1.1", "POST /webhook/tradingview/*** HTTP/1.1"),
    ("'POST /webhook/tradingview/abc?x=1'", "'POST /webhook/tradingview/***?x=1'"),
    ("POST /WEBHOOK%2Ftradingview%2fabc HTTP/1.1", "POST /WEBHOOK%2Ftradingview%2f*** HTTP/1.1"),
    ("POST /webhook/tradingview HTTP/1.1", "POST /webhook/tradingview HTTP/1.1"),
])
def test_the_token_after_the_webhook_path_is_masked(line, expected):
    assert redact(line) == expected


def test_configured_secrets_are_masked_anywhere(captured):
    logger, stream = captured
    logger.warning("query %s and %s", f"?t={SECRET}", "redact-me-7d3b1e".replace("-", "%2D"))
    logger.info("quoted %s", "redact%2Dme%2D7d3b1e")
    out = stream.getvalue()
    assert SECRET not in out and out.count("***") >= 1


def test_args_messages_and_tracebacks_are_redacted(captured):
    logger, stream = captured
    logger.error("request %s %s", "POST", f"/webhook/tradingview/{SECRET}")
    try:
        raise ValueError(f"bad url /webhook/tradingview/{SECRET}")
    except ValueError:
        logger.exception("failed")
    logger.info("stack", stack_info=True, extra={"unused": SECRET})
    out = stream.getvalue()
    assert SECRET not in out
    assert "/webhook/tradingview/***" in out and "ValueError: bad url" in out


def test_a_broken_format_is_left_to_the_handler(captured):
    factory = logging.getLogRecordFactory()
    record = factory("x", logging.WARNING, __file__, 1, "%d items", ("not a number",), None)
    assert (record.msg, record.args) == ("%d items", ("not a number",))  # created, not raised, not altered
