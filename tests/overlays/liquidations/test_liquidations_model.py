"""The vectorised liquidation model equals the per-bar loop reference; formulas match DOMAIN.md check values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from indicator_server.errors import InvalidArgument
from indicator_server.overlays.liquidations import (
    PARTS,
    LiquidationParams,
    clusters_per_bar,
    estimate_liquidations,
    flow,
    leverage_for_names,
)
from indicator_server.overlays.liquidations.grid import alive_grid, price_edges, sample_rows
from indicator_server.overlays.liquidations.levels import first_touch
from indicator_server.overlays.liquidations.model import run_model
from tests.conftest import shared_data
from tests.overlays.liquidations.reference_loop import binance_bars, reference_model
from tests.overlays.overlay_frames import load_okx_sol_bars, make_bars


@pytest.fixture(scope="module")
def sol_bars() -> pd.DataFrame:
    return load_okx_sol_bars()


@pytest.fixture(scope="module")
def btc_bars() -> pd.DataFrame:
    return binance_bars(shared_data("binance-btcusdt", "klines-1h.csv"), n=400)


@pytest.mark.parametrize(("leverage", "mmr", "cum", "long", "short"), [
    (10, 0.004, 0.0, 54_216.87, 65_737.05),  # DOMAIN.md section 2 check: 1 BTC @ 60,000, 10x
])
def test_tier_factor_matches_binance_check(leverage, mmr, cum, long, short):
    # a 10,000 USD position sits in Binance's first bracket (0.4%, cum 0); with cum 0 the factor does not depend
    # on the position size, so it prices DOMAIN.md's 1 BTC @ 60,000 example
    params = LiquidationParams(leverage_tiers=(leverage,), leverage_weights=(1.0,), position_size_usd=10_000)
    bracket = flow.bracket_for(params.brackets, params.position_size_usd)
    assert (bracket.mmr, bracket.cum) == (mmr, cum)
    long_f, short_f = flow.liquidation_factors(params)
    assert 60_000 * long_f[0] == pytest.approx(long, abs=0.01)
    assert 60_000 * short_f[0] == pytest.approx(short, abs=0.01)


def test_default_brackets_carry_binance_maintenance_amounts():
    cums = [b.cum for b in LiquidationParams().brackets]
    assert cums == [0, 50, 1_300, 46_300, 546_300, 2_546_300]
    # a 10,000 USD position sits in the first bracket: 0.4%, cum 0
    assert flow.bracket_for(LiquidationParams().brackets, 10_000).mmr == 0.004


def test_first_touch_equals_brute_force():
    rng = np.random.default_rng(1)
    values = rng.normal(0, 1, 300).cumsum()
    values[rng.integers(0, 300, 10)] = np.nan
    start = rng.integers(0, 301, 2000)
    threshold = rng.normal(values[np.minimum(start, 299)], 3)
    threshold = np.where(np.isnan(threshold), 0.0, threshold)
    got = first_touch(values, start, threshold)
    for s, th, g in zip(start, threshold, got, strict=True):
        hits = [t for t in range(s, 300) if values[t] <= th]
        assert g == (hits[0] if hits else 300)


def _compare(bars: pd.DataFrame, params: LiquidationParams, bins: int = 120, max_rows: int = 97) -> None:
    core = run_model(bars, params)
    n = len(bars)
    rows = sample_rows(n, max_rows)
    edges = price_edges(np.nanmin(core.low) * 0.9, np.nanmax(core.high) * 1.1, bins)
    ref = reference_model(bars, params, rows=rows, edges=edges)
    lv = core.levels
    assert len(lv) == len(ref.levels)
    np.testing.assert_array_equal(lv.bar, ref.levels["bar"])
    np.testing.assert_array_equal(lv.side, ref.levels["side"])
    np.testing.assert_array_equal(lv.tier, ref.levels["tier"])
    np.testing.assert_allclose(lv.price, ref.levels["price"], rtol=1e-12)
    np.testing.assert_allclose(lv.notional, ref.levels["notional"], rtol=1e-12)
    np.testing.assert_array_equal(lv.swept, ref.levels["swept"])
    result = estimate_liquidations(bars, params, include=PARTS)
    scale = max(ref.levels["notional"].max(), 1.0)
    np.testing.assert_allclose(result.levels["open_usd"], ref.levels["open_usd"], rtol=1e-9, atol=1e-9 * scale)
    np.testing.assert_allclose(result.swept["long_usd"], ref.swept_long, rtol=1e-9, atol=1e-9 * scale)
    np.testing.assert_allclose(result.swept["short_usd"], ref.swept_short, rtol=1e-9, atol=1e-9 * scale)
    grid = alive_grid(lv, core.log_surv, rows, edges)
    np.testing.assert_allclose(grid, ref.grid, rtol=1e-9, atol=1e-8 * scale)
    assert ref.swept_long.sum() > 0 and ref.swept_short.sum() > 0 and ref.grid.sum() > 0


@pytest.mark.parametrize("overrides", [
    {},
    {"flow_source": "volume", "split": "candle"},
    {"flow_source": "blend", "oi_weight": 0.3, "decay_half_life_hours": 24, "split": "blend"},
    {"split": "ratio", "oi_closure": "none", "entry_price": "hlc3", "leverage_tiers": [3, 20, 125],
     "leverage_weights": [1, 1, 1], "position_size_usd": 300_000},
    {"flow_source": "volume", "volume_half_life_hours": 12, "half_life_leverage_exponent": 0.5},
    {"flow_source": "blend", "decay_half_life_hours": 24, "half_life_leverage_exponent": 1.0},
])
def test_vectorised_equals_loop_on_real_okx_sol(sol_bars, overrides):
    _compare(sol_bars, LiquidationParams.from_dict(overrides))


def test_vectorised_equals_loop_on_real_binance_prices(btc_bars):
    _compare(btc_bars, LiquidationParams(), bins=500, max_rows=400)


def test_long_decay_history_stays_finite_and_equal():
    """L falls by ~1,400 over the history: the grid must use several scaling blocks (no overflow)."""
    rng = np.random.default_rng(3)
    n = 1_000
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.004, n)))
    bars = make_bars(close, high=close * 1.002, low=close * 0.998, volume=10.0, quote_volume=close * 10,
                     taker_buy_volume=5.0)
    params = LiquidationParams(flow_source="volume", volume_half_life_hours=0.5, leverage_tiers=(10.0,),
                               leverage_weights=(1.0,))
    core = run_model(bars, params)
    assert core.log_surv[-1] < -1_000
    _compare(bars, params, bins=60, max_rows=n)
    per_tier = params.replace(leverage_tiers=(5.0, 100.0), leverage_weights=(1.0, 1.0),
                              half_life_leverage_exponent=1.0)  # the 100x column falls 20 x as fast as the 5x
    assert run_model(bars, per_tier).log_surv[-1, 1] < -10_000
    _compare(bars, per_tier, bins=60, max_rows=n)


def test_half_life_falls_with_leverage():
    """alpha: tier L holds half-life x (L / 10)^-alpha; 0 keeps one 1-D survival for every tier."""
    bars = make_bars([100.0] * 5, volume=1.0, quote_volume=100.0)
    params = LiquidationParams(volume_half_life_hours=4.0, leverage_tiers=(2.5, 10.0, 40.0),
                               leverage_weights=(1.0, 1.0, 1.0), half_life_leverage_exponent=0.5)
    surv = np.exp(flow.log_survival(bars, params, "volume"))
    assert surv.shape == (5, 3)
    np.testing.assert_allclose(surv[4], [0.5 ** 0.5, 0.5, 0.25])  # half-lives 8 h, 4 h, 2 h over 4 bars
    flat = flow.log_survival(bars, params.replace(half_life_leverage_exponent=0.0), "volume")
    assert flat.ndim == 1 and np.exp(flat[4]) == pytest.approx(0.5)
    assert params.to_dict()["half_life_leverage_exponent"] == 0.5
    assert LiquidationParams().half_life_leverage_exponent == 0.0
    with pytest.raises(InvalidArgument):
        LiquidationParams(half_life_leverage_exponent=-0.1)
    with pytest.raises(InvalidArgument):
        LiquidationParams.from_dict({"half_life_leverage_exponent": 3})


def test_too_little_data_warns_instead_of_raising():
    bars = make_bars([100.0, 101.0, 99.0], volume=1.0, quote_volume=100.0, open_interest=[10, 11, 12])
    result = estimate_liquidations(bars)
    assert result.price == 99.0
    assert any("too little data" in w for w in result.warnings)
    empty = estimate_liquidations(bars.iloc[:0])
    assert empty.price is None and empty.warnings


def test_missing_open_interest_falls_back_to_volume_with_warning(btc_bars):
    bars = btc_bars.assign(open_interest=np.nan, open_interest_usd=np.nan)
    result = estimate_liquidations(bars, LiquidationParams(flow_source="oi"))
    assert any("no open interest" in w for w in result.warnings)
    assert result.levels["open_usd"].sum() > 0


def test_map_clusters_and_max_pain_are_consistent(sol_bars):
    result = estimate_liquidations(sol_bars, bins=200)
    lmap, price, levels = result.map, result.price, result.levels
    for side in ("long", "short"):
        open_side = levels.loc[levels["side"] == side, "open_usd"].sum()
        assert lmap[f"{side}_usd"].sum() + lmap[f"{side}_outside_usd"] == pytest.approx(open_side, rel=1e-9)
        per_tier = sum(v[f"{side}_usd"] for v in lmap["by_leverage"].values())
        np.testing.assert_allclose(per_tier, lmap[f"{side}_usd"], rtol=1e-12)
    assert (lmap["long_usd"][lmap["price_low"] > price] == 0).all()  # open longs sit below the price
    long_cum = lmap["long_cum_usd"][: lmap["close_bin"] + 1]
    assert (np.diff(long_cum) <= 1e-6).all()  # grows away from the price (downwards)
    assert result.clusters, "real data must show clusters"
    distances = [c["distance_pct"] for c in result.clusters]
    assert distances == sorted(distances)
    for c in result.clusters:
        assert c["price_low"] <= c["price_peak"] <= c["price_high"]
        assert (c["price_peak"] <= price) if c["side"] == "long" else (c["price_peak"] >= price)
    pain = result.max_pain["long"]
    assert pain["price"] < price and pain["notional_usd"] >= pain["bin_usd"] > 0
    assert result.model["name"] == "oi-flow" and result.model["params"]["leverage_tiers"] == [5, 10, 25, 50, 100]


def test_leverage_filter_keeps_the_tiers_share(sol_bars):
    full = estimate_liquidations(sol_bars)
    some = estimate_liquidations(sol_bars, leverage=(25.0, 50.0))
    assert set(some.levels["leverage"]) == {25.0, 50.0}
    chosen = full.levels[full.levels["leverage"].isin([25.0, 50.0])]
    assert some.levels["open_usd"].sum() == pytest.approx(chosen["open_usd"].sum(), rel=1e-12)


def test_params_from_dict_and_leverage_names():
    params = LiquidationParams.from_dict({"flow_source": "volume", "leverage_tiers": "5,10",
                                          "leverage_weights": [1, 3], "decay_half_life_hours": "48"})
    assert params.leverage_tiers == (5.0, 10.0) and params.decay_half_life_hours == 48.0
    assert LiquidationParams.from_dict(params.to_dict()) == params
    with pytest.raises(InvalidArgument):
        LiquidationParams.from_dict({"nope": 1})
    with pytest.raises(InvalidArgument):
        LiquidationParams.from_dict({"flow_source": "guess"})
    tiers = LiquidationParams().leverage_tiers
    assert leverage_for_names(["low"], tiers) == (5.0, 10.0)
    assert leverage_for_names(["medium"], tiers) == (25.0,)
    assert leverage_for_names(["high", "10x"], tiers) == (10.0, 50.0, 100.0)
    with pytest.raises(InvalidArgument):
        leverage_for_names(["huge"], tiers)
    with pytest.raises(InvalidArgument):
        leverage_for_names(["20"], tiers)


@pytest.mark.parametrize("n", [1, 2, 5, 60])
def test_degenerate_bars_give_warnings_not_errors(n):
    """NaN prices and volumes, zero ranges, flat or missing OI: a 200 with warnings, never an exception."""
    rng = np.random.default_rng(n)
    close = 100 + rng.normal(0, 1, n).cumsum()
    bars = make_bars(close, volume=np.where(rng.random(n) < 0.3, 0.0, 5.0), quote_volume=close * 5,
                     open_interest=np.where(rng.random(n) < 0.3, np.nan, 1000 + rng.normal(0, 10, n)))
    bars.loc[bars.index[::3], ["low", "high"]] = np.nan
    for frame in (bars, bars.assign(low=np.nan, high=np.nan), bars.assign(open_interest=1000.0)):
        result = estimate_liquidations(frame, include=PARTS, bins=50)
        assert result.model["name"] == "oi-flow"
        assert result.warnings or n >= 48
        per_bar = clusters_per_bar(frame)
        assert len(per_bar) == n


def test_entry_price_and_split_hand_values():
    bars = make_bars([105.0, 95.0], open=[100.0, 100.0], high=[110.0, 100.0], low=[100.0, 90.0],
                     volume=[2.0, 0.0], quote_volume=[206.0, 0.0], taker_buy_volume=[1.5, np.nan],
                     long_short_ratio=[3.0, np.nan])
    np.testing.assert_allclose(flow.entry_prices(bars, "vwap"), [103.0, 95.0])  # VWAP, then hlc3 (no volume)
    np.testing.assert_allclose(flow.entry_prices(bars, "hlc3"), [315 / 3, 95.0])
    candle = [0.5 + 0.5 * 5 / 10, 0.5 - 0.5 * 5 / 10]
    np.testing.assert_allclose(flow.long_shares(bars, LiquidationParams(split="candle")), candle)
    np.testing.assert_allclose(flow.long_shares(bars, LiquidationParams(split="taker")), [0.75, candle[1]])
    np.testing.assert_allclose(flow.long_shares(bars, LiquidationParams(split="ratio")), [0.75, candle[1]])
    blend = LiquidationParams(split="blend", split_weights=(2.0, 1.0, 1.0))
    np.testing.assert_allclose(flow.long_shares(bars, blend)[0], (2 * 0.75 + 0.75 + 0.75) / 4)


def test_oi_flow_and_proportional_closure():
    bars = make_bars([100.0] * 4, volume=1.0, quote_volume=100.0, open_interest=[10.0, 12.0, 9.0, 9.0])
    params = LiquidationParams(flow_source="oi", notional_scale=1.0)
    np.testing.assert_allclose(flow.new_notional(bars, params, np.full(4, 100.0), "oi"), [0, 200, 0, 0])
    # OI 12 -> 9 closes a quarter of every open position
    np.testing.assert_allclose(np.exp(flow.log_survival(bars, params, "oi")), [1, 1, 0.75, 0.75])
    decayed = flow.log_survival(bars, LiquidationParams(decay_half_life_hours=2.0), "oi")
    np.testing.assert_allclose(np.exp(decayed[3] - decayed[2]), 0.5 ** 0.5)
