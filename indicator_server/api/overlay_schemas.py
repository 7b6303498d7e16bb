"""Marshmallow schemas of the overlay endpoints: query arguments and responses (the OpenAPI source)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..market.registry import FACTORIES
from ..timeframes import TIMEFRAMES

MAX_LIMIT = 5000


# The times a query accepts, as one pattern the server enforces and /openapi.json declares (ASCII digits only:
# Python's \d also matches "²" or "٣"). Epoch ms or s: up to 14 digits. ISO 8601 (RFC 3339 profile, UTC when no
# zone): a calendar date of 1971..2099 (Feb 29 on leap years only), optionally a time hh:mm[:ss[.ffffff]] after
# "T" or a space, optionally "Z" or +hh:mm / -hh:mm. https://www.rfc-editor.org/rfc/rfc3339#section-5.6
_YEAR = r"(?:197[1-9]|19[89][0-9]|20[0-9]{2})"
_LEAP_YEAR = r"(?:19(?:[79][26]|8[048])|20(?:[02468][048]|[13579][26]))"
_MONTH_DAY = r"(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)"
_ZONE = r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
_TIME = rf"[T ](?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{{1,6}})?)?{_ZONE}?"
TIME_PATTERN = rf"^(?:[0-9]{{1,14}}|(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)(?:{_TIME})?)$"
_TIME_RE = re.compile(TIME_PATTERN)


class TimestampMs(fields.String):
    """A time as epoch milliseconds, epoch seconds (values below 1e11) or ISO 8601; loads to epoch ms (UTC).

    Declared in OpenAPI as a string with ``TIME_PATTERN``, the exact rule the server applies."""

    default_error_messages = {"invalid": "Not a time: use epoch ms, epoch seconds or ISO 8601 (UTC assumed), "
                                         "dates 1971..2099."}

    def __init__(self, **kwargs) -> None:
        metadata = {"pattern": TIME_PATTERN, "example": "2026-06-01T00:00:00Z", **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, str | int) or not _TIME_RE.match(str(value)):
            raise self.make_error("invalid")
        text = str(value)
        if text.isascii() and text.isdigit():
            number = int(text)
            return number * 1000 if number < 1e11 else number
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return int(parsed.timestamp() * 1000)

    def _serialize(self, value, attr, obj, **kwargs):
        return value


class MarketQuerySchema(Schema):
    exchange = fields.String(
        load_default=None,
        validate=validate.Length(min=1),  # unknown names: 400 unknown_exchange from the market service
        metadata={
            "enum": list(FACTORIES),
            "description": "Market data source: sim (built in, no network) or binance. Default: DEFAULT_EXCHANGE."
        },
    )
    symbol = fields.String(
        load_default="BTCUSDT", validate=validate.Length(min=1, max=40), metadata={"example": "BTCUSDT"}
    )
    timeframe = fields.String(load_default="1h", metadata={"enum": list(TIMEFRAMES), "description": "Bar size."})
    limit = fields.Integer(
        load_default=500,
        validate=validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": f"Bars in the answer (1..{MAX_LIMIT})."},
    )
    start = TimestampMs(
        load_default=None,
        metadata={"description": "First bar (epoch ms, epoch s or ISO 8601). With start, up to `limit` bars follow."},
    )
    end = TimestampMs(load_default=None, metadata={"description": "Last bar (default: the last closed bar)."})

    @validates_schema
    def _start_before_end(self, data, **kwargs):
        if data.get("start") is not None and data.get("end") is not None and data["start"] > data["end"]:
            raise ValidationError("start must not be after end", field_name="start")


class OiDeltaQuerySchema(MarketQuerySchema):
    zscore_window = fields.Integer(
        load_default=50,
        validate=validate.Range(min=5, max=1000),
        metadata={"description": "Bars in the rolling window of the delta z-score."},
    )


class ConfluenceQuerySchema(MarketQuerySchema):
    rsi_length = fields.Integer(load_default=14, validate=validate.Range(min=2, max=200))
    zscore_window = fields.Integer(
        load_default=None,
        validate=validate.Range(min=5, max=2000),
        metadata={"description": "Rolling window of the funding and OI z-scores (default: the model's)."},
    )
    clusters = fields.Boolean(load_default=True, metadata={"description": "Include the liquidation-cluster component."})


class FreshnessSchema(Schema):
    generated_at = fields.Integer(metadata={"description": "When the answer was computed, epoch ms."})
    last_bar_close = fields.Integer(allow_none=True)
    age_seconds = fields.Float(allow_none=True, metadata={"description": "Seconds since the last bar closed."})
    source = fields.String(metadata={"description": "sim, live (fetched now) or store."})
    stale = fields.Boolean(metadata={"description": "True when the exchange failed and stored data was served."})


class MetaSchema(Schema):
    exchange = fields.String(required=True)
    symbol = fields.String(required=True)
    timeframe = fields.String(required=True)
    start = fields.Integer(allow_none=True, metadata={"description": "Open time of the first bar, epoch ms."})
    end = fields.Integer(allow_none=True, metadata={"description": "Open time of the last bar, epoch ms."})
    bars = fields.Integer()
    freshness = fields.Nested(FreshnessSchema)
    parameters = fields.Dict(metadata={"description": "Parameters the overlay was computed with."})
    live = fields.Dict(
        metadata={
            "description": "Venues with a premium index (binance), on live ranges: mark_price, index_price, "
            "predicted_funding_rate (of the coming event), next_funding_time, time."
        }
    )
    warnings = fields.List(fields.String())


_num = {"allow_none": True}


class OiDeltaPointSchema(Schema):
    time = fields.Integer(required=True, metadata={"description": "Bar open time, epoch ms UTC."})
    close = fields.Float(**_num)
    open_interest = fields.Float(**_num, metadata={"description": "Contracts in base units (e.g. BTC)."})
    open_interest_usd = fields.Float(**_num)
    delta = fields.Float(**_num)
    delta_usd = fields.Float(**_num)
    delta_pct = fields.Float(**_num)
    zscore = fields.Float(**_num)
    quadrant = fields.String(
        allow_none=True,
        metadata={"enum": ["longs_opening", "shorts_opening", "short_covering", "long_closing"]},
    )


class OiDeltaResponseSchema(Schema):
    meta = fields.Nested(MetaSchema, required=True)
    series = fields.List(fields.Nested(OiDeltaPointSchema), required=True)


class ConfluencePointSchema(Schema):
    time = fields.Integer(required=True)
    close = fields.Float(**_num)
    rsi = fields.Float(**_num)
    funding_rate = fields.Float(**_num)
    funding_annualized = fields.Float(**_num)
    funding_zscore = fields.Float(**_num)
    open_interest = fields.Float(**_num)
    oi_zscore = fields.Float(**_num, metadata={"description": "z-score of the OI change (crowding building up)."})
    oi_level_zscore = fields.Float(**_num, metadata={"description": "z-score of the OI level (crowding)."})
    long_short_ratio = fields.Float(**_num)
    score = fields.Float(
        **_num, metadata={"description": "-100..100: negative = long-cascade risk, positive = squeeze."}
    )
    regime = fields.String(allow_none=True, metadata={"enum": ["long_cascade_risk", "short_squeeze_risk", "neutral"]})
    components = fields.Dict(
        keys=fields.String(),
        values=fields.Float(allow_none=True),
        metadata={"description": "The weighted components that add up to the score."},
    )
    clusters = fields.Dict(
        allow_none=True,
        metadata={"description": "Nearest long cluster below and short cluster above, if any."},
    )
    reasons = fields.List(fields.String())


class ConfluenceResponseSchema(Schema):
    meta = fields.Nested(MetaSchema, required=True)
    series = fields.List(fields.Nested(ConfluencePointSchema), required=True)
