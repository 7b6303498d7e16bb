"""Every float of a JSON overlay answer is rounded once, by its field's rule (issue 8, item 8)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from indicator_server.overlays.precision import (
    DEFAULT_RULE,
    round_array,
    round_number,
    round_payload,
    rule_for,
)


@pytest.mark.parametrize("name, rule", [
    ("long_usd", ("decimals", 2)), ("quote_volume", ("decimals", 2)), ("values", ("decimals", 2)),
    ("funding_rate", ("decimals", 8)), ("predicted_funding_rate", ("decimals", 8)),
    ("rsi", ("decimals", 6)), ("score", ("decimals", 6)), ("funding_zscore", ("decimals", 6)),
    ("oi_level_zscore", ("decimals", 6)), ("distance_pct", ("decimals", 6)), ("component_oi", ("decimals", 6)),
    ("funding_annualized", ("decimals", 6)), ("long_short_ratio", ("decimals", 6)),
    ("close", None), ("price", None), ("open_interest", None), ("volume", None),
])
def test_rule_table(name, rule):
    assert rule_for(name) == rule


@pytest.mark.parametrize("value, expected", [
    (65432.10000000001, 65432.1), (0.1 + 0.2, 0.3), (1.23456789012345e-5, 1.23456789012e-05),
    (-3.3333333333333335, -3.33333333333), (12345678.123, 12345678.123), (0.0, 0.0), (-0.0, 0.0),
    (1e20 / 3, 3.33333333333e19),
])
def test_significant_digits(value, expected):
    assert round_number(value, DEFAULT_RULE) == expected


def _digits_ok(value: float, rule) -> bool:
    kind, n = rule
    if not math.isfinite(value) or value == 0:
        return True
    if kind == "decimals":
        return round(value, n) == value
    exponent = math.floor(math.log10(abs(value)))
    return float(f"{value:.{n - 1}e}") == value or abs(exponent) > 300


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), max_size=20),
       st.sampled_from([DEFAULT_RULE, ("decimals", 2), ("decimals", 6), ("decimals", 8)]))
def test_rounding_is_within_half_a_unit_and_idempotent(values, rule):
    x = np.array(values, dtype="float64")
    with np.errstate(over="ignore", invalid="ignore"):
        once = round_array(x, rule)
        twice = round_array(once, rule)
    finite = np.isfinite(x) & (np.abs(x) < 1e300)
    np.testing.assert_array_equal(np.isnan(once), np.isnan(x))
    np.testing.assert_array_equal(twice[finite], once[finite])
    kind, n = rule
    bound = np.where(kind == "decimals", 0.5 * 10.0**-n, np.abs(x) * 10.0 ** (1 - n))
    ok = np.abs(once[finite] - x[finite]) <= np.asarray(bound)[finite] * (1 + 1e-9) + 1e-300
    assert ok.all()


def test_integers_and_strings_are_untouched():
    body = round_payload({"time": np.arange(3), "regime": "neutral", "n": 7, "flag": True, "x": None})
    assert body["regime"] == "neutral" and body["n"] == 7 and body["flag"] is True and body["x"] is None
    assert body["time"].dtype.kind == "i"


def _walk(obj, name=None, rule=DEFAULT_RULE):
    """(field name, float, rule) for every float of a JSON body, with the rule the server should have applied."""
    rule = rule_for(name) or rule
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _walk(v, k, rule)
    elif isinstance(obj, list):
        for v in obj:
            yield from _walk(v, None, rule)
    elif isinstance(obj, float):
        yield name, obj, rule


@pytest.mark.parametrize("url, query", [
    ("/api/v1/overlays/confluence", {"limit": 200}),
    ("/api/v1/overlays/oi-delta", {"limit": 200}),
    ("/api/v1/candles", {"limit": 200}),
    ("/api/v1/overlays/liquidations", {"lookback": "7d", "include": "levels,map,clusters,heatmap,swept"}),
])
def test_every_float_of_an_overlay_answer_is_rounded_by_its_rule(client, url, query):
    response = client.get(url, query_string=query)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    body.pop("meta", None)
    floats = list(_walk(body))
    assert len(floats) > 200
    bad = [(name, value, rule) for name, value, rule in floats if not _digits_ok(value, rule)]
    assert not bad, bad[:10]
