"""Turn every error into the one JSON shape ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from .errors import ApiError, error_body

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


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(ApiError, handle_api_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
