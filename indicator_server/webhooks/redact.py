"""Keep webhook tokens out of every log line: gunicorn's access and error logs and Python logging records.

A token is a WEBHOOK_SECRET value carried in the URL ``/webhook/tradingview/<token>``. Two rules redact it:
whatever follows ``/webhook/tradingview/`` (also written with ``%2F``) up to a space, ``?``, ``#``, ``/`` or a quote
becomes ``***``, and any configured secret (six characters or more, also URL-quoted) becomes ``***`` wherever
it appears. They are applied when a log record is created (``logging.setLogRecordFactory``), to its formatted
message and to its traceback text, so no handler, formatter or logger added later can write the token:
gunicorn's ``Invalid HTTP request line: 'POST /webhook/tradingview/<token>'`` included.

``install_log_redaction`` is called by the app factory (``webhooks.init_app``, with the configured secrets) and
by ``RedactingLogger`` (gunicorn's ``logger_class`` in the gunicorn settings), so both gunicorn's master and its
workers redact before the first request is read.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterable
from urllib.parse import quote

from gunicorn.glogging import Logger

_TOKEN = re.compile(r"(?i)((?:/|%2f)webhook(?:/|%2f)tradingview(?:/|%2f))[^\s?#/'\"]+")
MIN_SECRET_LENGTH = 6  # shorter secrets would blank out ordinary words; the URL rule still hides them there
MASK = "***"

_secrets: set[str] = set()
_secret_re: re.Pattern[str] | None = None
_lock = threading.Lock()
_installed = False


def redact(text: str) -> str:
    text = _TOKEN.sub(r"\1" + MASK, text)
    pattern = _secret_re
    return pattern.sub(MASK, text) if pattern is not None else text


def add_secrets(secrets: Iterable[str]) -> None:
    global _secret_re
    with _lock:
        for secret in secrets:
            if isinstance(secret, str) and len(secret) >= MIN_SECRET_LENGTH:
                _secrets.update({secret, quote(secret, safe=""), quote(secret)})
        if _secrets:
            ordered = sorted(_secrets, key=len, reverse=True)  # the longest form first
            _secret_re = re.compile("|".join(re.escape(s) for s in ordered))


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:  # a malformed format: leave it to the handler's own error reporting
        return record
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and not record.exc_text:
        text = logging.Formatter().formatException(record.exc_info)
        record.exc_text = redact(text)  # formatters use exc_text when it is set
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


def install_log_redaction(secrets: Iterable[str] = ()) -> None:
    """Redact every log record this process creates from now on (idempotent; more secrets may be added)."""
    global _installed
    add_secrets(secrets)
    with _lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args, **kwargs):
            return redact_record(previous(*args, **kwargs))

        logging.setLogRecordFactory(factory)
        _installed = True


def _env_secrets() -> list[str]:
    return [s.strip() for s in os.environ.get("WEBHOOK_SECRET", "").split(",") if s.strip()]


class RedactingLogger(Logger):
    """gunicorn's logger with every line redacted (``logger_class`` in indicator_server/gunicorn_conf.py)."""

    def __init__(self, cfg) -> None:
        install_log_redaction(_env_secrets())
        super().__init__(cfg)

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            if isinstance(value, str) and "tradingview" in value.lower():
                atoms[key] = redact(value)
        return atoms
