"""Marshmallow schemas of the UDF endpoints: query arguments (as the stock adapter sends them) and the answers,
for the OpenAPI document. Times are Unix seconds, as in the UDF protocol."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ..udf.symbols import SUPPORTED_RESOLUTIONS

_SECONDS = validate.Range(min=0, max=10**11)
_SYMBOL = {"required": True, "validate": validate.Length(min=1, max=80),
           "metadata": {"description": "EXCHANGE:SYMBOL or EXCHANGE:SYMBOL:SERIES (SIM:BTCUSDT:RSI); a bare "
                                       "BTCUSDT is the default exchange.", "example": "SIM:BTCUSDT"}}
_RESOLUTION = {"metadata": {"enum": SUPPORTED_RESOLUTIONS, "description": "UDF resolution (minutes, or 1D)."}}


class UdfSymbolQuerySchema(Schema):
    symbol = fields.String(**_SYMBOL)


class UdfSearchQuerySchema(Schema):
    query = fields.String(load_default="", validate=validate.Length(max=80))
    type = fields.String(load_default="", validate=validate.Length(max=40),
                         metadata={"description": "crypto, indicator or empty for all."})
    exchange = fields.String(load_default="", validate=validate.Length(max=40),
                             metadata={"description": "SIM, BINANCE or empty for all."})
    limit = fields.Integer(load_default=30, validate=validate.Range(min=1, max=500))


class UdfHistoryQuerySchema(Schema):
    symbol = fields.String(**_SYMBOL)
    resolution = fields.String(required=True, **_RESOLUTION)
    from_ = fields.Integer(data_key="from", load_default=None, validate=_SECONDS,
                           metadata={"description": "Leftmost bar, included (ignored when countback is given)."})
    to = fields.Integer(required=True, validate=_SECONDS, metadata={"description": "Rightmost bar, not included."})
    countback = fields.Integer(load_default=None, validate=validate.Range(min=1, max=1_000_000), metadata={
        "description": "Bars ending before `to`; wins over `from`. At most 5000 bars are answered."})


class UdfRangeQuerySchema(Schema):
    symbol = fields.String(**_SYMBOL)
    from_ = fields.Integer(data_key="from", required=True, validate=_SECONDS)
    to = fields.Integer(required=True, validate=_SECONDS)
    resolution = fields.String(load_default="60", **_RESOLUTION)


class UdfErrorSchema(Schema):
    s = fields.String(required=True, metadata={"enum": ["error"]})
    errmsg = fields.String(required=True)


class UdfHistorySchema(Schema):
    s = fields.String(required=True, metadata={"enum": ["ok", "no_data", "error"]})
    t = fields.List(fields.Integer(), metadata={"description": "Bar open times, Unix seconds, ascending."})
    o = fields.List(fields.Float())
    h = fields.List(fields.Float())
    l = fields.List(fields.Float())  # noqa: E741 - the protocol's name
    c = fields.List(fields.Float())
    v = fields.List(fields.Float(), metadata={"description": "Base-asset volume (candle symbols only)."})
    nextTime = fields.Integer(metadata={"description": "With no_data: the closest earlier bar (s); absent when "
                                                       "the history ends."})
    errmsg = fields.String()


class UdfConfigSchema(Schema):
    supports_search = fields.Boolean()
    supports_group_request = fields.Boolean()
    supports_marks = fields.Boolean()
    supports_timescale_marks = fields.Boolean()
    supports_time = fields.Boolean()
    supported_resolutions = fields.List(fields.String())
    exchanges = fields.List(fields.Dict())
    symbols_types = fields.List(fields.Dict())


class UdfSymbolInfoSchema(Schema):
    name = fields.String()
    ticker = fields.String()
    full_name = fields.String()
    description = fields.String()
    type = fields.String()
    exchange = fields.String()
    listed_exchange = fields.String()
    session = fields.String()
    timezone = fields.String()
    format = fields.String()
    pricescale = fields.Integer()
    minmov = fields.Integer()
    has_intraday = fields.Boolean()
    intraday_multipliers = fields.List(fields.String())
    has_daily = fields.Boolean()
    has_weekly_and_monthly = fields.Boolean()
    has_empty_bars = fields.Boolean()
    has_no_volume = fields.Boolean()
    visible_plots_set = fields.String()
    volume_precision = fields.Integer()
    supported_resolutions = fields.List(fields.String())
    data_status = fields.String()


class UdfSearchItemSchema(Schema):
    symbol = fields.String()
    full_name = fields.String()
    description = fields.String()
    exchange = fields.String()
    ticker = fields.String()
    type = fields.String()


class UdfMarksSchema(Schema):
    id = fields.List(fields.Integer())
    time = fields.List(fields.Integer())
    color = fields.List(fields.String())
    text = fields.List(fields.String())
    label = fields.List(fields.String())
    labelFontColor = fields.List(fields.String())
    minSize = fields.List(fields.Integer())


class UdfTimescaleMarkSchema(Schema):
    id = fields.String()
    time = fields.Integer()
    color = fields.String()
    label = fields.String()
    tooltip = fields.List(fields.String())
