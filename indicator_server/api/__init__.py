"""The HTTP API: flask-smorest set up to answer every error in the one JSON shape."""

from __future__ import annotations

import os

import flask_smorest
from flask import Flask, send_from_directory
from marshmallow import Schema, fields
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
    """Bad arguments are a 400 ``invalid_argument`` (flask-smorest's default is 422)."""

    DEFAULT_VALIDATION_STATUS = 400


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = ArgumentsParser()


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
