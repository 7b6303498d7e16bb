"""Every confluence reason is true of the numbers it quotes (issue 8, item 9).

The reasons are parsed back and checked against the bar's own numbers: the payer follows the sign of the funding
rate, "above/below its norm" the sign of its z-score, "crowded longs/shorts" only when both agree, the risk named
the sign of the component, the quoted numbers the values they stand for.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indicator_server.overlays.confluence import compute_confluence
from indicator_server.overlays.confluence_params import ConfluenceParams
from indicator_server.overlays.confluence_reasons import funding_crowding
from tests.overlays.overlay_frames import load_okx_sol_bars, make_bars

SMALL = ConfluenceParams(funding_zscore_window=24, oi_zscore_window=24)
NUM = r"[+-]?\d[\d,]*\.\d+"
RISK = r"(?P<risk>long-cascade risk|short-squeeze risk)"
CROWD = r"(?P<crowd>crowded longs|crowded shorts|long crowding easing|short crowding easing|at its norm)"
FUNDING = re.compile(
    rf"funding (?P<rate>{NUM})%(?:/\d+(?:\.\d+)?h)? \((?P<annual>{NUM})%/yr, "
    rf"(?P<payer>longs pay shorts|shorts pay longs|nobody pays)\) (?P<norm>above|below|at) its norm "
    rf"\(z (?P<z>{NUM})\): {CROWD}, {RISK}"
)
OI = re.compile(
    rf"open interest (?:high \(z (?P<level>{NUM})\))?(?: and )?(?:rising \(change z (?P<delta>{NUM})\))? "
    rf"amplifies the funding signal \({CROWD}\): {RISK}"
)
RSI = re.compile(rf"RSI (?P<rsi>{NUM}) (?P<zone>overbought|oversold) \((?:>=|<=) (?P<bound>[\d.]+)\): {RISK}")
RATIO = re.compile(rf"long/short account ratio (?P<ratio>{NUM}) (?P<side>above|below) neutral (?P<neutral>[\d.]+): "
                   rf"(?P<skew>skewed long|skewed short), {RISK}")
CLUSTER = re.compile(rf"(?P<side>long|short)-liquidation cluster \$(?P<usd>{NUM})M (?P<dist>{NUM})% "
                     r"(?P<where>below|above) price")
NOTES = ("no open-interest data", "RSI undefined", "no long/short ratio", "funding z-score undefined")


def _risk(component: float) -> str:
    assert component != 0
    return "long-cascade risk" if component < 0 else "short-squeeze risk"


def _close(quoted: str, value: float, decimals: int, scale: float = 1.0) -> bool:
    return abs(float(quoted.replace(",", "")) - value * scale) <= 0.5 * 10**-decimals + 1e-12


def check_reason(text: str, bar: pd.Series, params: ConfluenceParams) -> None:
    """Fail unless ``text`` says only what ``bar``'s numbers say."""
    rate, z = bar["funding_rate"], bar["funding_zscore"]
    if m := FUNDING.fullmatch(text):
        assert m["payer"] == ("longs pay shorts" if rate > 0 else "shorts pay longs" if rate < 0 else "nobody pays")
        assert m["rate"].startswith("-") == (rate < 0) and _close(m["rate"], rate, 4, 100)
        assert m["annual"].startswith("-") == (rate < 0) and _close(m["annual"], bar["funding_annualized"], 1, 100)
        assert m["norm"] == ("above" if z > 0 else "below" if z < 0 else "at")
        assert m["z"].startswith("-") == (z < 0) and _close(m["z"], z, 2)
        assert m["crowd"] == funding_crowding(rate, z)
        if m["crowd"] == "crowded longs":
            assert rate > 0 and z > 0
        if m["crowd"] == "crowded shorts":
            assert rate < 0 and z < 0
        assert m["risk"] == _risk(bar["component_funding"])
    elif m := OI.fullmatch(text):
        assert m["level"] or m["delta"]
        if m["level"]:
            assert bar["oi_level_zscore"] > 0 and _close(m["level"], bar["oi_level_zscore"], 2)
        if m["delta"]:
            assert bar["oi_zscore"] > 0 and _close(m["delta"], bar["oi_zscore"], 2)
        assert m["crowd"] == funding_crowding(rate, z)
        assert m["risk"] == _risk(bar["component_oi"]) == _risk(bar["component_funding"])
    elif m := RSI.fullmatch(text):
        assert _close(m["rsi"], bar["rsi"], 1)
        if m["zone"] == "overbought":
            assert bar["rsi"] >= params.rsi_overbought and float(m["rsi"]) >= float(m["bound"])
        else:
            assert bar["rsi"] <= params.rsi_oversold and float(m["rsi"]) <= float(m["bound"])
        assert m["risk"] == _risk(bar["component_rsi"]) == ("long-cascade risk" if m["zone"] == "overbought"
                                                             else "short-squeeze risk")
    elif m := RATIO.fullmatch(text):
        ratio = bar["long_short_ratio"]
        assert _close(m["ratio"], ratio, 2) and float(m["neutral"]) == params.long_short_neutral
        assert m["side"] == ("above" if ratio > params.long_short_neutral else "below")
        assert m["skew"] == ("skewed long" if m["side"] == "above" else "skewed short")
        assert m["risk"] == _risk(bar["component_long_short"])
    elif m := CLUSTER.fullmatch(text):
        assert m["where"] == ("below" if m["side"] == "long" else "above")
        assert float(m["dist"]) >= 0
    else:
        assert text.startswith(NOTES), f"a reason nobody checks: {text!r}"
    # the contradiction of the issue, whatever the wording around it
    assert not ("longs pay shorts" in text and "crowded shorts" in text)
    assert not ("shorts pay longs" in text and "crowded longs" in text)


def check_frame(out: pd.DataFrame, params: ConfluenceParams) -> int:
    checked = 0
    for _, bar in out.iterrows():
        for text in bar["reasons"]:
            check_reason(text, bar, params)
            checked += 1
    return checked


def test_the_issue_example_no_longer_contradicts_itself():
    """Positive funding sliding below its norm: longs still pay, so it is easing long crowding, not crowded
    shorts (the issue's "funding +0.0057%/8h (+6.2%/yr, longs pay shorts) below its norm ...: crowded shorts")."""
    t = np.arange(60, dtype="float64")
    funding = np.where(t < 50, 0.0003 + 0.00002 * np.sin(t), 0.0003 - 0.00002 * (t - 49))
    bars = make_bars(100 + np.sin(t / 4), funding_rate=funding, funding_interval_hours=8.0,
                     open_interest=1e6 + 1e3 * t, long_short_ratio=1.0)
    out = compute_confluence(bars, SMALL)
    last = out.iloc[-1]
    assert last["funding_rate"] > 0 and last["funding_zscore"] < 0 and last["component_funding"] > 0
    funding_reason = next(r for r in last["reasons"] if r.startswith("funding"))
    assert "longs pay shorts" in funding_reason and "below its norm" in funding_reason
    assert funding_reason.endswith(": long crowding easing, short-squeeze risk")
    assert check_frame(out, SMALL) > 0


@pytest.mark.parametrize("rate, z, crowd", [(1e-4, 1.0, "crowded longs"), (-1e-4, -1.0, "crowded shorts"),
                                             (1e-4, -1.0, "long crowding easing"), (0.0, -1.0, "long crowding easing"),
                                             (-1e-4, 1.0, "short crowding easing"), (0.0, 1.0, "short crowding easing"),
                                             (1e-4, 0.0, "at its norm")])
def test_funding_crowding_table(rate, z, crowd):
    assert funding_crowding(rate, z) == crowd


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    funding_level=st.floats(-0.0005, 0.0005),
    funding_swing=st.floats(0.0, 0.0008),
    ratio_level=st.floats(0.4, 2.5),
)
def test_generated_bars_give_reasons_true_of_their_numbers(seed, funding_level, funding_swing, ratio_level):
    rng = np.random.default_rng(seed)
    n = 200
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
    funding = funding_level + funding_swing * np.sin(np.arange(n) / rng.uniform(3, 30)) + rng.normal(0, 5e-5, n)
    oi = 1e6 * np.exp(np.cumsum(rng.normal(0, 0.03, n)))
    ratio = ratio_level * np.exp(rng.normal(0, 0.3, n))
    bars = make_bars(close, funding_rate=funding, funding_interval_hours=8.0, open_interest=oi,
                     open_interest_usd=oi * close, long_short_ratio=ratio)
    check_frame(compute_confluence(bars, SMALL), SMALL)


def test_recorded_okx_bars_give_reasons_true_of_their_numbers():
    bars = load_okx_sol_bars()
    for params in (ConfluenceParams(), SMALL):
        out = compute_confluence(bars, params)
        assert check_frame(out, params) > 100
        # the mirrored market: every reason flips side and stays true
        mirror = bars.copy()
        mirror["close"] = 2 * bars["close"].max() - bars["close"]
        mirror["funding_rate"] = -bars["funding_rate"]
        mirror["long_short_ratio"] = 1 / bars["long_short_ratio"]
        assert check_frame(compute_confluence(mirror, params), params) > 100
