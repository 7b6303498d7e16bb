"""The patterns /openapi.json declares are exactly the rules the server applies: what a pattern admits loads, what
it refuses does not (so a client or fuzzer generating from the spec gets what it expects)."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indicator_server.api.liquidations import LEVERAGE_PATTERN, LOOKBACK_PATTERN, lookback_bars
from indicator_server.api.overlay_schemas import TIME_PATTERN, TimestampMs


def test_the_spec_declares_these_patterns(app):
    spec = app.extensions["indicator_api"].spec.to_dict()
    candles = {p["name"]: p["schema"] for p in spec["paths"]["/api/v1/candles"]["get"]["parameters"]}
    liquidations = {p["name"]: p["schema"]
                    for p in spec["paths"]["/api/v1/overlays/liquidations"]["get"]["parameters"]}
    assert candles["end"]["pattern"] == liquidations["end"]["pattern"] == TIME_PATTERN
    assert liquidations["lookback"]["pattern"] == LOOKBACK_PATTERN
    assert liquidations["leverage"]["pattern"] == LEVERAGE_PATTERN


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.from_regex(TIME_PATTERN, fullmatch=True))
def test_every_time_the_pattern_admits_loads(text):
    value = TimestampMs().deserialize(text)
    assert isinstance(value, int) and value >= 0


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_text_the_time_pattern_refuses_does_not_load(text):
    if re.match(TIME_PATTERN, text):
        return
    with pytest.raises(Exception, match="Not a time"):
        TimestampMs().deserialize(text)


@settings(max_examples=200, deadline=None)
@given(st.from_regex(LOOKBACK_PATTERN, fullmatch=True), st.sampled_from(["1m", "1h", "1d"]))
def test_every_lookback_the_pattern_admits_converts(text, timeframe):
    assert lookback_bars(text, timeframe) >= 0


def test_leverage_pattern_is_the_tiers_and_names():
    assert re.match(LEVERAGE_PATTERN, "10,25x,high,100.0")
    for bad in ("", "7", "10,,25", "HIGH", " 10", "1e1"):
        assert not re.match(LEVERAGE_PATTERN, bad), bad
