"""Marshmallow schemas of the webhook and the signal log: the single source of the OpenAPI document and of
``schemas/tradingview-alert.schema.json`` / ``schemas/signal.schema.json`` (``indicator-server schemas``)."""

from __future__ import annotations

import math

from marshmallow import INCLUDE, Schema, ValidationError, fields, validate

from .overlay_schemas import TimestampMs


class NumberOrString(fields.Field):
    """A number, or a string holding one (TradingView placeholders are often quoted: ``"{{close}}"``)."""

    def __init__(self, **kwargs):
        metadata = {"type": ["number", "string"], **kwargs.pop("metadata", {})}
        super().__init__(allow_none=True, metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise ValidationError("must be a number")
        if isinstance(value, int | float):
            number = float(value)
        elif isinstance(value, str):
            if not value.strip():
                return None
            try:
                number = float(value.strip())
            except ValueError:
                raise ValidationError("must be a number or a numeric string") from None
        else:
            raise ValidationError("must be a number or a numeric string")
        if not math.isfinite(number):
            raise ValidationError("must be finite")
        return number


class TextOrNumber(fields.Field):
    """A string or a number, kept as text (``{{interval}}`` may arrive as 60 or "60", an id as 7 or "7")."""

    def __init__(self, max_length: int = 128, **kwargs):
        metadata = {"type": ["string", "number"], "maxLength": max_length, **kwargs.pop("metadata", {})}
        super().__init__(allow_none=True, metadata=metadata, **kwargs)
        self.max_length = max_length

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValidationError("must be a string or a number")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValidationError("must be finite")
        text = str(value)
        if len(text) > self.max_length:
            raise ValidationError(f"longer than {self.max_length} characters")
        return text


def _text(max_length: int, description: str, **kwargs) -> fields.String:
    return fields.String(allow_none=True, validate=validate.Length(max=max_length),
                         metadata={"description": description}, **kwargs)


class StrategyOrderSchema(Schema):
    class Meta:
        unknown = INCLUDE

    action = _text(64, "{{strategy.order.action}}: buy or sell.")
    contracts = NumberOrString(metadata={"description": "{{strategy.order.contracts}}"})
    price = NumberOrString(metadata={"description": "{{strategy.order.price}}"})
    id = TextOrNumber(metadata={"description": "{{strategy.order.id}}"})
    comment = _text(1000, "{{strategy.order.comment}}")


class StrategySchema(Schema):
    class Meta:
        unknown = INCLUDE

    order = fields.Nested(StrategyOrderSchema, allow_none=True)
    market_position = _text(32, "{{strategy.market_position}}: long, short or flat.")
    position_size = NumberOrString(metadata={"description": "{{strategy.position_size}}"})


class TradingViewAlertSchema(Schema):
    """The alert message a TradingView alert posts. Unknown fields are accepted and kept."""

    class Meta:
        unknown = INCLUDE

    secret = fields.String(load_only=True, allow_none=True, validate=validate.Length(max=256), metadata={
        "description": "The shared secret (WEBHOOK_SECRET); required unless the token URL is used. Never stored."})
    ticker = _text(64, "{{ticker}}: BTCUSDT.P, BINANCE:BTCUSDT.P or the server's BTCUSDT.")
    exchange = _text(32, "{{exchange}}: BINANCE, or the server's binance / sim.")
    interval = TextOrNumber(max_length=16, metadata={"description": "{{interval}}: 60, 240, 1D, or 1h, 4h, 1d."})
    action = _text(200, "buy, sell, long, short, close, exit or free text ({{strategy.order.action}}).")
    price = NumberOrString(metadata={"description": "Price at the alert ({{close}})."})
    time = TextOrNumber(max_length=40, metadata={"description": "{{time}}: bar open time, ISO 8601 UTC or epoch."})
    timenow = TextOrNumber(max_length=40, metadata={"description": "{{timenow}}: when the alert fired."})
    id = TextOrNumber(metadata={"description": "Optional alert id: a resend with the same id is stored once."})
    message = _text(20000, "Free text.")
    open = NumberOrString()
    high = NumberOrString()
    low = NumberOrString()
    close = NumberOrString()
    volume = NumberOrString()
    plots = fields.Raw(allow_none=True, metadata={
        "description": "{{plot_0}}.. values, as an object or a list.", "type": ["object", "array"]})
    strategy = fields.Nested(StrategySchema, allow_none=True)


class WebhookReplySchema(Schema):
    id = fields.Integer(required=True, metadata={"description": "The stored signal's id."})
    duplicate = fields.Boolean(required=True, metadata={
        "description": "True when this alert had been stored already (its delivery count went up)."})


class SignalSchema(Schema):
    """A stored signal, with its market context and follow-up outcome."""

    id = fields.Integer(required=True)
    received_at = fields.Integer(required=True, metadata={"description": "Receipt time, epoch ms UTC."})
    exchange = fields.String(allow_none=True)
    symbol = fields.String(allow_none=True)
    timeframe = fields.String(allow_none=True)
    action = fields.String(allow_none=True)
    price = fields.Float(allow_none=True)
    bar_time = fields.Integer(allow_none=True, metadata={"description": "The alert's {{time}}, epoch ms."})
    fired_at = fields.Integer(allow_none=True, metadata={"description": "The alert's {{timenow}}, epoch ms."})
    alert_id = fields.String(allow_none=True)
    message = fields.String(allow_none=True)
    payload = fields.Dict(required=True, metadata={"description": "Every field of the alert except the secret."})
    raw_body = fields.String(allow_none=True, metadata={"description": "A text/plain alert as received."})
    content_type = fields.String(required=True, metadata={"description": "json or text"})
    source_ip = fields.String(allow_none=True)
    deliveries = fields.Integer(required=True, metadata={"description": "How many times the alert arrived."})
    last_delivery_at = fields.Integer(required=True)
    context_status = fields.String(required=True, metadata={
        "description": "pending, filled, partial (some fields unavailable), failed or skipped."})
    context = fields.Dict(allow_none=True, metadata={
        "description": "Market at receipt: close, bar_time, open_interest, oi_delta, funding_rate, rsi, score, "
                       "regime, nearest liquidation clusters, latency_ms, bar_latency_ms, missing."})
    outcome_status = fields.String(required=True, metadata={"description": "pending, done or skipped."})
    outcome = fields.Dict(allow_none=True, metadata={
        "description": "Per N (SIGNAL_OUTCOME_BARS): close N bars later and change_pct from the receipt close."})


class SignalQuerySchema(Schema):
    exchange = fields.String()
    symbol = fields.String()
    action = fields.String()
    since = TimestampMs(metadata={
        "description": "Received at or after: epoch ms, epoch s or ISO 8601 (a date, or a time; UTC assumed)."})
    until = TimestampMs(metadata={
        "description": "Received at or before: epoch ms, epoch s or ISO 8601 (a date, or a time; UTC assumed)."})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    cursor = fields.String(metadata={"description": "next_cursor of the previous page."})


class SignalCsvQuerySchema(SignalQuerySchema):
    limit = fields.Integer(load_default=10000, validate=validate.Range(min=1, max=100000))


class PageInfoSchema(Schema):
    limit = fields.Integer(required=True)
    next_cursor = fields.String(allow_none=True, metadata={"description": "null on the last page."})


class SignalPageSchema(Schema):
    data = fields.List(fields.Nested(SignalSchema), required=True)
    pagination = fields.Nested(PageInfoSchema, required=True)
