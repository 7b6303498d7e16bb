"""POST /webhook/tradingview[/<token>]: the URL pasted into a TradingView alert."""

from __future__ import annotations

import orjson
from flask import Response, current_app, request
from flask.views import MethodView
from marshmallow import Schema, fields

from ..errors import ApiError
from ..webhooks import get_webhooks
from . import Blueprint, ErrorSchema
from .signal_schemas import TradingViewAlertSchema, WebhookReplySchema

blp = Blueprint("webhooks", __name__, description="TradingView alert receiver.")

_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": TradingViewAlertSchema},
            "text/plain": {"schema": {"type": "string", "minLength": 1, "pattern": r"\S", "description": (
                "key=value lines or a free message, not blank (empty_body); a body that parses as JSON must be "
                "a JSON object (malformed_json)")}},
        },
    }
}


def _receive(token: str | None):
    hooks = get_webhooks(current_app)
    metrics = hooks.metrics
    try:
        address = hooks.receiver.policy.client_address(request.remote_addr, request.headers.get("X-Forwarded-For"))
        hooks.receiver.admit(address, request.content_length)
        raw = request.stream.read(hooks.settings.webhook_max_body + 1)
        signal_id, duplicate = hooks.receiver.receive(raw, token=token, address=address)
    except ApiError as exc:
        metrics.count("rejected." + exc.code)
        raise
    metrics.count("duplicates" if duplicate else "accepted")
    body = orjson.dumps({"id": signal_id, "duplicate": duplicate})
    return Response(body, status=200, mimetype="application/json")


def _responses(f):
    f = blp.response(200, WebhookReplySchema)(f)
    for status, why in ((400, "Malformed or invalid alert: JSON that is not an object or does not parse "
                              "(malformed_json), not UTF-8 or holding NUL (invalid_encoding), nested deeper than "
                              "32 levels or fields of the wrong type (invalid_argument), body framing broken or "
                              "shorter than Content-Length (malformed_body), empty (empty_body)."),
                        (401, "Missing or wrong secret."),
                        (403, "Source address not allowed, or webhooks disabled."),
                        (404, "Unknown token, or a ticker that cannot be a symbol name (unknown_symbol)."),
                        (413, "Body over WEBHOOK_MAX_BODY."),
                        (429, "Over WEBHOOK_RATE_LIMIT; see Retry-After.")):
        f = blp.alt_response(status, schema=ErrorSchema, description=why)(f)
    return blp.doc(**_BODY_DOC)(f)


@blp.route("/webhook/tradingview")
class TradingViewWebhook(MethodView):
    @_responses
    def post(self):
        """Receive a TradingView alert (secret in the body).

        The alert is committed before the reply; the market context is filled right after it. The same alert
        (same ``id``, or the same body within WEBHOOK_DEDUP_WINDOW seconds) is stored once.
        """
        return _receive(None)


@blp.route("/webhook/tradingview/<string:token>")
class TradingViewTokenWebhook(MethodView):
    @_responses
    def post(self, token: str):
        """Receive a TradingView alert, authenticated by the token in the URL (one of the WEBHOOK_SECRET values)."""
        return _receive(token)


class WebhookMetricsSchema(Schema):
    accepted = fields.Integer(required=True, metadata={"description": "Alerts stored."})
    duplicates = fields.Integer(required=True, metadata={"description": "Alerts already stored (same id or body)."})
    rejected = fields.Integer(required=True, metadata={"description": "Alerts refused, all codes."})
    rejected_by_code = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True,
                                   metadata={"description": "Refusals per error code (wrong_secret, ...)."})


@blp.route("/api/v1/webhooks/metrics")
class WebhookMetricsView(MethodView):
    @blp.response(200, WebhookMetricsSchema)
    def get(self):
        """Counters of this process: accepted, duplicates, rejected by error code."""
        return get_webhooks(current_app).metrics.snapshot()
