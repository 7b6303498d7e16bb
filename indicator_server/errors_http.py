"""Turn every error into the one JSON shape ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from .errors import ApiError, InvalidArgument, error_body

log = logging.getLogger(__name__)


def _respond(body: dict, status: int, headers: dict | None = None):
    response = jsonify(body)
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def handle_api_error(exc: ApiError):
    return _respond(exc.body(), exc.status, exc.headers)


def handle_http_exception(exc: HTTPException):
    status = exc.code or 500
    details = {}
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages")
    if messages:
        # webargs/flask-smorest argument errors: {"query": {"field": ["msg"]}} -> {"field": ["msg"]}
        flat = {}
        for location_errors in messages.values():
            if isinstance(location_errors, dict):
                flat.update(location_errors)
        details["fields"] = flat or messages
        message = "invalid arguments: " + ", ".join(sorted(flat)) if flat else "invalid arguments"
        status = 400 if status == 422 else status
        return _respond(
            error_body(status, message, details, code="invalid_argument"), status, data.get("headers")
        )
    message = exc.description or exc.name
    headers = {}
    if status == 405 and exc.valid_methods if hasattr(exc, "valid_methods") else False:
        headers["Allow"] = ", ".join(exc.valid_methods)
    return _respond(error_body(status, message, details), status, headers)


def handle_unexpected(exc: Exception):
    log.exception("unhandled error")
    return _respond(error_body(500, "internal error; it has been logged"), 500)


class GuardedInput:
    """``wsgi.input`` whose read errors are the client's 400 ``malformed_body``, not a 500 with a traceback.

    Under gunicorn the body stream raises its parser's errors while the view reads it (``InvalidChunkSize``,
    ``ChunkMissingTerminator``, ``InvalidChunkExtension`` for broken chunked framing, ``NoMoreData`` for a body
    cut short; RFC 9112 sections 6.3 and 7.1); a socket error there is the client's going away too. A body that
    ends before its Content-Length (gunicorn then returns the bytes it got, silently) is refused the same way,
    so a truncated alert is never stored. Errors that already are answers (``ApiError``, werkzeug's
    ``HTTPException`` such as ``ClientDisconnected``) pass."""

    def __init__(self, stream, content_length: int | None = None) -> None:
        self._stream = stream
        self._expected = content_length
        self._received = 0

    @staticmethod
    def _refuse(reason: str) -> InvalidArgument:
        log.info("request body unreadable: %s", reason)
        return InvalidArgument("the request body could not be read: its chunked framing is broken or it is "
                               "shorter than announced", code="malformed_body", details={"reason": reason[:200]})

    def _guard(self, name: str, *args):
        try:
            return getattr(self._stream, name)(*args)
        except (ApiError, HTTPException):
            raise
        except Exception as exc:
            raise self._refuse(f"{type(exc).__name__}: {exc}") from None

    def read(self, size: int | None = -1):
        data = self._guard("read", size) if size is not None else self._guard("read")
        self._received += len(data)
        short = size is None or size < 0 or len(data) < size  # fewer bytes than asked: the stream has ended
        if short and self._expected is not None and self._received < self._expected:
            raise self._refuse(f"body ended after {self._received} of {self._expected} bytes (Content-Length)")
        return data

    def readline(self, *args):
        return self._guard("readline", *args)

    def readlines(self, *args):
        return self._guard("readlines", *args)

    def __iter__(self):
        return iter(self.readline, b"")

    def __getattr__(self, name):
        return getattr(self._stream, name)


def guard_request_body(wsgi_app):
    def app(environ, start_response):
        stream = environ.get("wsgi.input")
        if stream is not None and not isinstance(stream, GuardedInput):
            length = environ.get("CONTENT_LENGTH", "")
            expected = int(length) if length.isascii() and length.isdigit() else None
            environ["wsgi.input"] = GuardedInput(stream, expected)
        return wsgi_app(environ, start_response)

    return app


def register_error_handlers(app: Flask) -> None:
    app.wsgi_app = guard_request_body(app.wsgi_app)
    app.register_error_handler(ApiError, handle_api_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
