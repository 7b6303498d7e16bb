"""The HTTP API: flask-smorest set up to answer every error in the one JSON shape.

Two shared rules hold for every endpoint (``Blueprint`` below):

- a query parameter the operation does not declare is refused (400 ``invalid_argument`` naming it): a misspelt
  ``lookbak=30d`` must not silently answer the default. The UDF endpoints opt out (``unknown=EXCLUDE`` in
  api/udf.py): TradingView's stock UDF adapter adds parameters of its own to the same URLs;
- every operation declares the error answers it really gives, with the ``Error`` schema (``errors=`` of the
  blueprint), so a generated client or a fuzzer reads them from /openapi.json instead of one ``default``.
"""

from __future__ import annotations

import os

import flask_smorest
from flask import Flask, send_from_directory
from marshmallow import RAISE, Schema, fields
from webargs.flaskparser import FlaskParser

from ..errors_http import handle_http_exception


class ErrorDetailSchema(Schema):
    code = fields.String(required=True, metadata={"description": "Stable machine-readable error code."})
    message = fields.String(required=True)
    details = fields.Dict(
        metadata={"description": "Structured context (offending fields, retry_after, ...)."}
    )


class ErrorSchema(Schema):
    error = fields.Nested(ErrorDetailSchema, required=True)


class ArgumentsParser(FlaskParser):
    """Bad arguments are a 400 ``invalid_argument`` (flask-smorest's default is 422); unknown query parameters too
    (webargs excludes them by default)."""

    DEFAULT_VALIDATION_STATUS = 400
    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": RAISE, "querystring": RAISE}


# flask-smorest registers one response component per HTTP status (``Error`` schema), named like HTTPStatus.
_RESPONSE_NAMES = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
                   405: "METHOD_NOT_ALLOWED", 413: "REQUEST_ENTITY_TOO_LARGE", 429: "TOO_MANY_REQUESTS",
                   500: "INTERNAL_SERVER_ERROR", 502: "BAD_GATEWAY", 503: "SERVICE_UNAVAILABLE",
                   504: "GATEWAY_TIMEOUT"}
#: Every operation may answer these: an unexpected error (logged) and a method the path does not allow.
COMMON_ERRORS = (405, 500)
#: Operations on market data: unknown symbol (404) and the exchange failing (502 bad answer, 503 unreachable
#: or rate limited, 504 timeout; errors.UpstreamError).
MARKET_ERRORS = (404, 502, 503, 504)
#: gunicorn answers a request line over its limit (limit_request_line, 4094 bytes) itself, in HTML, before the app.
URI_TOO_LONG = {"description": "Request line over the server's limit (gunicorn limit_request_line, 4094 bytes), "
                               "answered by gunicorn in HTML before the app sees it.",
                "content_type": "text/html", "schema": {"type": "string"}}


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint with the house rules: unknown query parameters refused, error answers declared.

    ``errors``: the statuses the blueprint's operations answer besides 2xx/304 and the 400 of their arguments
    (flask-smorest declares that one with ``arguments``), added to COMMON_ERRORS; an operation's own
    ``alt_response`` for a status wins."""

    ARGUMENTS_PARSER = ArgumentsParser()
    #: False for a blueprint whose errors are not the JSON ``Error`` shape (UDF documents its own form).
    JSON_ERRORS = True

    def __init__(self, *args, errors: tuple[int, ...] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._error_statuses = tuple(dict.fromkeys((*COMMON_ERRORS, *errors))) if self.JSON_ERRORS else ()
        # before flask-smorest's _prepare_response_doc turns the response lists into the OpenAPI object
        self._prepare_doc_cbks.insert(self._prepare_doc_cbks.index(self._prepare_response_doc),
                                      self._prepare_error_doc)

    def _prepare_error_doc(self, doc, doc_info, **_kwargs):
        responses = doc_info.setdefault("response", {}).setdefault("responses", {})
        for status in self._error_statuses:
            responses.setdefault(status, [_RESPONSE_NAMES[status]])
        responses.setdefault(414, [dict(URI_TOO_LONG)])  # a fresh dict: flask-smorest pops from it
        return doc


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        return handle_http_exception(error)


def _register_docs_assets(app: Flask) -> None:
    """Serve Swagger UI from the swagger-ui-bundle package, so /docs works with no internet."""
    import swagger_ui_bundle

    root = swagger_ui_bundle.swagger_ui_path

    @app.get("/docs/static/<path:filename>")
    def swagger_ui_asset(filename: str):
        return send_from_directory(os.fspath(root), filename, max_age=86400)


def init_api(app: Flask) -> Api:
    from . import (
        calculator,
        candles,
        chart,
        health,
        liquidations,
        overlays,
        pictures,
        pine_generated,
        signals,
        udf,
        webhooks,
    )

    api = Api(app)
    modules = (health, candles, overlays, liquidations, pictures, pine_generated, calculator, webhooks, signals, udf,
               chart)
    for module in modules:
        api.register_blueprint(module.blp)
    _register_docs_assets(app)
    app.extensions["indicator_api"] = api
    return api
