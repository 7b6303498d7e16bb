"""RSI / funding / OI confluence score, regime and reasons (DOMAIN.md section 7)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indicator_server.errors import InvalidArgument
from indicator_server.overlays.confluence import (
    CLUSTER_COLUMNS,
    COMPONENTS,
    CONFLUENCE_COLUMNS,
    classify_regime,
    cluster_size,
    cluster_strength,
    compute_confluence,
    score_components,
)
from indicator_server.overlays.confluence_params import ConfluenceParams
from tests.overlays.overlay_frames import load_okx_sol_bars, make_bars

DEFAULTS = ConfluenceParams()
SMALL = ConfluenceParams(funding_zscore_window=24, oi_zscore_window=24)
NEUTRAL_INPUTS = dict(
    funding_zscore=0.0,
    oi_level_zscore=0.0,
    oi_delta_zscore=0.0,
    rsi=50.0,
    long_short_ratio=1.0,
    long_cluster_strength=0.0,
    short_cluster_strength=0.0,
)


def components(**overrides):
    inputs = {k: np.atleast_1d(np.asarray(v, dtype="float64")) for k, v in {**NEUTRAL_INPUTS, **overrides}.items()}
    return {k: float(v[0]) for k, v in score_components(**inputs, params=DEFAULTS).items()}


# Hand-computed with the default weights (funding 35, OI 20, RSI 15, long/short 15, clusters 15), z cap 3,
# RSI 70/30, long/short cap 2.
@pytest.mark.parametrize(
    ("inputs", "component", "points"),
    [
        (dict(funding_zscore=3.0), "component_funding", -35.0),
        (dict(funding_zscore=1.5), "component_funding", -17.5),
        (dict(funding_zscore=-6.0), "component_funding", 35.0),  # saturates at the cap
        (dict(funding_zscore=3.0, oi_level_zscore=3.0), "component_oi", -10.0),  # high OI, half the OI signal
        (dict(funding_zscore=3.0, oi_level_zscore=3.0, oi_delta_zscore=3.0), "component_oi", -20.0),
        (dict(funding_zscore=-1.5, oi_delta_zscore=1.5), "component_oi", 2.5),  # 20 * 0.5 * 0.25
        (dict(funding_zscore=0.0, oi_level_zscore=3.0, oi_delta_zscore=3.0), "component_oi", 0.0),  # no crowding
        (dict(funding_zscore=3.0, oi_level_zscore=-3.0), "component_oi", 0.0),  # low OI amplifies nothing
        (dict(rsi=85.0), "component_rsi", -7.5),
        (dict(rsi=100.0), "component_rsi", -15.0),
        (dict(rsi=15.0), "component_rsi", 7.5),
        (dict(rsi=60.0), "component_rsi", 0.0),
        (dict(long_short_ratio=2.0), "component_long_short", -15.0),
        (dict(long_short_ratio=np.sqrt(2.0)), "component_long_short", -7.5),
        (dict(long_short_ratio=0.5), "component_long_short", 15.0),
        (dict(long_cluster_strength=0.5), "component_clusters", -7.5),
        (dict(long_cluster_strength=0.5, short_cluster_strength=1.0), "component_clusters", 7.5),
        (
            dict(funding_zscore=3.0, oi_level_zscore=3.0, oi_delta_zscore=3.0, rsi=100.0, long_short_ratio=3.0),
            "score",
            -85.0,
        ),
    ],
)
def test_component_table(inputs, component, points):
    assert components(**inputs)[component] == pytest.approx(points)


def test_missing_inputs_count_zero_and_funding_is_required():
    got = components(oi_level_zscore=np.nan, oi_delta_zscore=np.nan, rsi=np.nan, long_short_ratio=np.nan)
    assert np.isnan(got["component_oi"]) and np.isnan(got["component_rsi"])
    assert got["score"] == 0.0
    assert np.isnan(components(funding_zscore=np.nan, rsi=90.0)["score"])
    # one OI z-score missing: the other half still counts
    assert components(funding_zscore=3.0, oi_level_zscore=np.nan, oi_delta_zscore=3.0)["component_oi"] == -10.0


@pytest.mark.parametrize(
    ("distance_pct", "size", "strength"),
    [
        (0.0, 1.0, 1.0),  # at price, the largest cluster of the window: full
        (1.5, 1.0, 0.5),  # half of the 3 % reach
        (-1.5, 1.0, 0.5),  # the sign of the distance is ignored
        (3.0, 1.0, 0.0),  # at the edge of the reach
        (1.5, 0.5, 0.25),  # median size, half distance
        (1.0, np.nan, np.nan),  # no cluster
    ],
)
def test_cluster_strength_table(distance_pct, size, strength):
    got = cluster_strength(np.array([distance_pct]), np.array([size]), DEFAULTS)[0]
    if np.isnan(strength):
        assert np.isnan(got)
    else:
        assert got == pytest.approx(strength)


def test_cluster_size_is_a_percentile_of_recent_clusters():
    usd = pd.Series([10.0, 1.0, 5.0, np.nan, 20.0, 20.0])
    got = cluster_size(usd, window=3)
    # [10] -> 1; [10, 1] -> 1 is the smaller of 2; [10, 1, 5] -> 5 is 2nd of 3; NaN stays NaN;
    # [5, nan, 20] -> largest of 2; [nan, 20, 20] -> ties count as the largest
    np.testing.assert_allclose(got, [1.0, 0.5, 2 / 3, np.nan, 1.0, 1.0])
    # scale-free: the liquidation model's calibration does not move the component
    np.testing.assert_allclose(cluster_size(usd * 0.0893, window=3), got)


def test_regime_labels():
    labels = classify_regime(np.array([-100.0, -35.0, -34.9, 0.0, 34.9, 35.0, 80.0, np.nan]), 35.0)
    assert labels.tolist() == [
        "long_cascade_risk",
        "long_cascade_risk",
        "neutral",
        "neutral",
        "neutral",
        "short_squeeze_risk",
        "short_squeeze_risk",
        None,
    ]


# ---- properties ------------------------------------------------------------------------------------------------

z_scores = st.floats(min_value=-8, max_value=8, allow_nan=False)
inputs_strategy = st.fixed_dictionaries(
    dict(
        funding_zscore=z_scores,
        oi_level_zscore=z_scores,
        oi_delta_zscore=z_scores,
        rsi=st.floats(min_value=0, max_value=100),
        long_short_ratio=st.floats(min_value=0.05, max_value=20),
        long_cluster_strength=st.floats(min_value=0, max_value=1),
        short_cluster_strength=st.floats(min_value=0, max_value=1),
    )
)


@settings(max_examples=200, deadline=None)
@given(inputs_strategy)
def test_score_bounded_and_sum_of_components(inputs):
    got = components(**inputs)
    assert -100.0 <= got["score"] <= 100.0
    assert got["score"] == pytest.approx(sum(got[c] for c in COMPONENTS))


@settings(max_examples=200, deadline=None)
@given(inputs_strategy)
def test_mirror_flips_the_score(inputs):
    mirrored = dict(
        inputs,
        funding_zscore=-inputs["funding_zscore"],
        rsi=100.0 - inputs["rsi"],
        long_short_ratio=1.0 / inputs["long_short_ratio"],
        long_cluster_strength=inputs["short_cluster_strength"],
        short_cluster_strength=inputs["long_cluster_strength"],
    )
    assert components(**mirrored)["score"] == pytest.approx(-components(**inputs)["score"], abs=1e-9)
    # the brief's minimal form: flip funding, mirror RSI, everything else neutral
    simple = dict(funding_zscore=inputs["funding_zscore"], rsi=inputs["rsi"])
    flipped = dict(funding_zscore=-inputs["funding_zscore"], rsi=100.0 - inputs["rsi"])
    assert components(**flipped)["score"] == pytest.approx(-components(**simple)["score"], abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(inputs_strategy, st.floats(min_value=0, max_value=5), st.sampled_from(list(NEUTRAL_INPUTS)))
def test_score_is_monotone_in_each_input(inputs, step, name):
    # Direction of each input's effect; OI raises risk in the direction funding points to.
    direction = {
        "funding_zscore": -1,
        "rsi": -1,
        "long_short_ratio": -1,
        "long_cluster_strength": -1,
        "short_cluster_strength": 1,
        "oi_level_zscore": -np.sign(inputs["funding_zscore"]),
        "oi_delta_zscore": -np.sign(inputs["funding_zscore"]),
    }[name]
    upper = {"rsi": 100.0, "long_cluster_strength": 1.0, "short_cluster_strength": 1.0}.get(name, np.inf)
    moved = dict(inputs, **{name: min(inputs[name] + step, upper)})
    before, after = components(**inputs)["score"], components(**moved)["score"]
    assert direction * (after - before) >= -1e-9


# ---- parameters ------------------------------------------------------------------------------------------------


def test_params_defaults_and_overrides():
    assert DEFAULTS.rsi_length == 14
    assert sum(getattr(DEFAULTS, f.name) for f in dataclasses.fields(DEFAULTS) if f.name.startswith("weight_")) == 100
    params = ConfluenceParams.from_dict({"rsi_length": "21", "weight_rsi": 10, "regime_threshold": "50.5"})
    assert (params.rsi_length, params.weight_rsi, params.regime_threshold) == (21, 10.0, 50.5)
    assert isinstance(params.rsi_length, int)
    assert ConfluenceParams.from_dict(None) == DEFAULTS
    assert ConfluenceParams.from_dict(DEFAULTS.to_dict()) == DEFAULTS
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.rsi_length = 3  # type: ignore[misc]
    assert DEFAULTS.warmup_bars == 280  # 20 * 14 bars for RSI to agree with TradingView


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"rsi_lenght": 14}, "unknown"),
        ({"rsi_length": "fourteen"}, "rsi_length"),
        ({"rsi_length": 14.5}, "rsi_length"),
        ({"rsi_length": True}, "rsi_length"),
        ({"weight_oi": "nan"}, "weight_oi"),
        ({"rsi_length": 0}, "rsi_length"),
        ({"oi_zscore_window": 1}, "oi_zscore_window"),
        ({"rsi_oversold": 80}, "rsi_oversold"),
        ({"weight_funding": -1}, "weight_funding"),
        ({"long_short_cap": 1}, "long_short_cap"),
        ({"regime_threshold": 0}, "regime_threshold"),
    ],
)
def test_params_reject_bad_overrides(overrides, field):
    with pytest.raises(InvalidArgument) as caught:
        ConfluenceParams.from_dict(overrides)
    assert field in caught.value.details


# ---- whole frames ----------------------------------------------------------------------------------------------


def crowded_long_bars(n: int = 60) -> pd.DataFrame:
    """Price grinding up, funding and OI climbing at the end, long-skewed accounts: crowded longs."""
    t = np.arange(n, dtype="float64")
    close = 100.0 + t * 0.5 + np.where(t % 5 == 0, -0.3, 0.0)
    funding = np.where(t < n - 10, 0.0001 + 0.00001 * np.sin(t), 0.0001 + 0.00004 * (t - (n - 11)))
    oi = 1e6 + 1e3 * np.sin(t) + 2e4 * np.clip(t - (n - 11), 0, None) ** 1.5
    return make_bars(
        close,
        funding_rate=funding,
        funding_interval_hours=8.0,
        open_interest=oi,
        open_interest_usd=oi * close,
        long_short_ratio=2.5,
    )


def crowded_short_bars(n: int = 60) -> pd.DataFrame:
    bars = crowded_long_bars(n)
    bars["close"] = 200.0 - bars["close"]
    bars["open_interest_usd"] = bars["open_interest"] * bars["close"]
    bars["funding_rate"] = -bars["funding_rate"]
    bars["long_short_ratio"] = 1 / bars["long_short_ratio"]
    return bars


def test_crowded_longs_are_long_cascade_risk():
    out = compute_confluence(crowded_long_bars(), SMALL)
    assert list(out.columns) == CONFLUENCE_COLUMNS
    last = out.iloc[-1]
    assert last["score"] <= -SMALL.regime_threshold
    assert last["regime"] == "long_cascade_risk"
    assert last["rsi"] > 70 and last["funding_zscore"] > 2 and last["oi_zscore"] > 1
    text = " | ".join(last["reasons"])
    for word in ("funding", "crowded longs", "open interest", "RSI", "overbought", "long/short"):
        assert word in text
    assert "cluster" not in text
    assert last["component_clusters"] == 0.0
    # funding warm-up: no score, no regime, one reason saying why
    assert out["score"].iloc[:23].isna().all() and out["regime"].iloc[:23].isna().all()
    assert "funding z-score undefined" in out["reasons"].iloc[0][0]


def test_crowded_shorts_are_short_squeeze_risk():
    out = compute_confluence(crowded_short_bars(), SMALL)
    longs = compute_confluence(crowded_long_bars(), SMALL)
    last = out.iloc[-1]
    assert last["regime"] == "short_squeeze_risk"
    assert last["score"] == pytest.approx(-longs["score"].iloc[-1], abs=1e-9)
    text = " | ".join(last["reasons"])
    for word in ("crowded shorts", "oversold", "skewed short"):
        assert word in text


def test_quiet_market_is_neutral():
    t = np.arange(80)
    bars = make_bars(
        100 + np.sin(t / 3),
        funding_rate=0.0001,
        funding_interval_hours=8.0,
        open_interest=1e6 + 100 * np.cos(t),
        long_short_ratio=1.0,
    )
    out = compute_confluence(bars, SMALL)
    assert (out["regime"].iloc[23:] == "neutral").all()
    assert (out["component_funding"].iloc[23:] == 0.0).all()


def test_clusters_strengthen_and_are_explained():
    bars = crowded_long_bars()
    params = dataclasses.replace(SMALL, weight_funding=20.0)
    clusters = pd.DataFrame(
        {
            "long_cluster_distance_pct": 1.0,
            "long_cluster_usd": 5e6,  # the same size every bar: as large as any in the window
            "short_cluster_distance_pct": np.nan,
            "short_cluster_usd": np.nan,
        },
        index=bars.index,
    )
    without = compute_confluence(bars, params)
    with_clusters = compute_confluence(bars, params, clusters)
    last = with_clusters.iloc[-1]
    assert last["component_clusters"] == pytest.approx(-15.0 * (1 - 1 / 3))
    assert last["score"] == pytest.approx(without["score"].iloc[-1] + last["component_clusters"])
    assert any("long-liquidation cluster" in r and "1.00% below" in r for r in last["reasons"])
    with pytest.raises(ValueError):
        compute_confluence(bars, params, clusters.drop(columns=[CLUSTER_COLUMNS[0]]))


def test_missing_open_interest_is_said_not_invented():
    bars = crowded_long_bars()
    bars["open_interest"] = np.nan
    out = compute_confluence(bars, SMALL)
    assert out["component_oi"].iloc[23:].isna().all()
    assert out["score"].iloc[23:].notna().all()
    assert "no open-interest data: OI not counted" in out["reasons"].iloc[-1]


def test_reasons_can_be_skipped():
    bars = crowded_long_bars()
    full = compute_confluence(bars, SMALL)
    bare = compute_confluence(bars, SMALL, with_reasons=False)
    assert bare["reasons"].isna().all()
    pd.testing.assert_frame_equal(bare.drop(columns="reasons"), full.drop(columns="reasons"))


def test_keeps_a_custom_index():
    bars = crowded_long_bars()
    bars.index = bars.index + 1000
    out = compute_confluence(bars, SMALL)
    assert out.index.equals(bars.index)
    assert out["regime"].iloc[-1] == "long_cascade_risk"


def test_real_okx_data_mirror_and_bounds():
    bars = load_okx_sol_bars()
    out = compute_confluence(bars)
    defined = out["score"].notna()
    assert defined.sum() == len(bars) - (DEFAULTS.funding_zscore_window - 1)
    assert out.loc[defined, "score"].between(-100, 100).all()
    assert set(out["regime"].dropna()) <= {"long_cascade_risk", "short_squeeze_risk", "neutral"}
    np.testing.assert_allclose(
        out.loc[defined, "score"], out.loc[defined, COMPONENTS].fillna(0.0).sum(axis=1), atol=1e-9
    )
    assert all(isinstance(r, list) for r in out["reasons"])
    assert all(len(r) > 0 for r in out.loc[defined & (out["score"].abs() >= 1), "reasons"])
    mirror = bars.copy()
    mirror["close"] = 2 * bars["close"].max() - bars["close"]
    mirror["funding_rate"] = -bars["funding_rate"]
    mirror["long_short_ratio"] = 1 / bars["long_short_ratio"]
    flipped = compute_confluence(mirror)
    np.testing.assert_allclose(flipped["score"], -out["score"], atol=1e-9)
    swap = {"long_cascade_risk": "short_squeeze_risk", "short_squeeze_risk": "long_cascade_risk"}
    assert flipped["regime"].tolist() == [swap.get(r, r) for r in out["regime"]]


def test_empty_and_short_frames():
    from indicator_server.market.base import BAR_COLUMNS, empty_frame

    assert list(compute_confluence(empty_frame(BAR_COLUMNS)).columns) == CONFLUENCE_COLUMNS
    short = compute_confluence(make_bars([1.0, 2.0, 3.0], funding_rate=0.0001))
    assert short["score"].isna().all() and short["regime"].isna().all()
