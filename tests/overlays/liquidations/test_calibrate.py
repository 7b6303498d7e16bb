"""Per-market calibration: the tier basis equals the model, synthetic observations are recovered, fixed fields and
too little data are honoured, and ``info`` is JSON-ready."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from indicator_server.market.assemble import assemble_bars
from indicator_server.market.sim import GENESIS_MS, SimSource
from indicator_server.overlays.liquidations import LiquidationParams, estimate_liquidations
from indicator_server.overlays.liquidations.basis import Candidate, build_sweeps, candidate_basis
from indicator_server.overlays.liquidations.calibrate import (
    MIN_CALIBRATION_BARS,
    calibrate_liquidations,
)
from indicator_server.overlays.liquidations.levels import open_notional
from indicator_server.overlays.liquidations.model import run_model
from indicator_server.timeframes import HOUR_MS

CLOCK = pd.Timestamp("2026-01-01", tz="UTC").timestamp()
TRUE = LiquidationParams(flow_source="volume", volume_half_life_hours=48.0, split="taker",
                         leverage_tiers=(5.0, 10.0, 25.0, 50.0, 100.0), leverage_weights=(0.1, 0.4, 0.2, 0.2, 0.1),
                         notional_scale=0.5)


def sim_world(symbol: str, days: int = 30, end: str = "2025-01-15") -> tuple[SimSource, pd.DataFrame]:
    source = SimSource(clock=lambda: CLOCK, symbols=(symbol,))
    end_ms = int(pd.Timestamp(end, tz="UTC").value // 1_000_000)
    start = max(GENESIS_MS, end_ms - (days * 24 - 1) * HOUR_MS)
    frames = [source.fetch_klines(symbol, "1h", start, end_ms).frame,
              source.fetch_open_interest(symbol, "1h", start, end_ms).frame,
              source.fetch_funding(symbol, start, end_ms + HOUR_MS).frame,
              source.fetch_long_short_ratio(symbol, "1h", start, end_ms).frame]
    return source, assemble_bars(*frames, HOUR_MS, sample_tolerance=HOUR_MS)


@pytest.fixture(scope="module")
def world() -> tuple[SimSource, pd.DataFrame]:
    return sim_world("BTCUSDT")


def with_prints(bars: pd.DataFrame, params: LiquidationParams) -> pd.DataFrame:
    """Bars whose observed liquidations are the model's own swept series in print units (x liq/entry)."""
    core = run_model(bars, params)
    lv = core.levels
    factor = {}
    from indicator_server.overlays.liquidations import flow
    long_f, short_f = flow.liquidation_factors(params)
    factor = np.where(lv.side == 0, long_f[lv.tier], short_f[lv.tier])
    out = bars.copy()
    for side, name in ((0, "long"), (1, "short")):
        sel = (lv.side == side) & (lv.swept < core.n)
        t = lv.swept[sel]
        usd = lv.notional[sel] * np.exp(core.log_surv[t - 1] - core.log_surv[lv.bar[sel]]) * factor[sel]
        out[f"{name}_liquidated_usd"] = np.bincount(t, usd, minlength=core.n)[: core.n]
    return out


def test_basis_is_the_model_split_by_tier(world):
    _, bars = world
    params = LiquidationParams(flow_source="blend", decay_half_life_hours=30.0, split="candle")
    sweeps = build_sweeps(bars, params, params.leverage_tiers)
    basis = candidate_basis(bars, sweeps, params, Candidate("blend", 30.0, "candle"))
    w = np.asarray(params.leverage_weights) / sum(params.leverage_weights) * params.notional_scale
    core = run_model(bars, params)
    swept = estimate_liquidations(bars, params, include=("swept",)).swept
    from indicator_server.overlays.liquidations import flow
    long_f, short_f = flow.liquidation_factors(params)
    # the swept basis is in print units: divide each tier's column by its liq/entry factor to get entry notional
    np.testing.assert_allclose((basis.swept_long / long_f) @ w, swept["long_usd"], rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose((basis.swept_short / short_f) @ w, swept["short_usd"], rtol=1e-9, atol=1e-6)
    last_open = open_notional(core.levels, core.log_surv, core.n).sum()
    assert basis.open[-1] @ w == pytest.approx(last_open, rel=1e-9)


def test_recovers_weights_half_life_and_scale_from_its_own_prints(world):
    _, bars = world
    cal = calibrate_liquidations(with_prints(bars, TRUE))
    got = cal.params
    assert cal.info["method"] == "fitted"
    assert (got.flow_source, got.volume_half_life_hours, got.split) == ("volume", 48.0, "taker")
    mix = dict(zip(got.leverage_tiers, got.leverage_weights, strict=True))
    for tier, weight in zip(TRUE.leverage_tiers, TRUE.leverage_weights, strict=True):
        assert mix.get(tier, 0.0) == pytest.approx(weight, abs=0.05), (tier, mix)  # the ridge pulls to the prior
    assert sum(v for t, v in mix.items() if t not in TRUE.leverage_tiers) < 0.05
    assert got.notional_scale == pytest.approx(TRUE.notional_scale, rel=0.1)
    assert cal.info["quality"]["in_sample"]["spearman_long"] > 0.99


def test_recovers_from_daily_totals(world):
    _, bars = world
    prints = with_prints(bars, TRUE)
    day = prints["time"] // 86_400_000 * 86_400_000
    daily = prints.groupby(day)[["long_liquidated_usd", "short_liquidated_usd"]].sum().reset_index()
    daily.columns = ["time", "long_usd", "short_usd"]
    cal = calibrate_liquidations(bars, observed=daily)
    assert cal.info["data"]["observations"] == "period totals"
    got = cal.params
    assert got.flow_source == "volume" and got.volume_half_life_hours in (24.0, 48.0, 96.0)
    mix = dict(zip(got.leverage_tiers, got.leverage_weights, strict=True))
    high = sum(v for t, v in mix.items() if t >= 50)
    assert high == pytest.approx(0.3, abs=0.1)
    assert got.notional_scale == pytest.approx(TRUE.notional_scale, rel=0.25)


def test_fixed_fields_are_never_fitted(world):
    _, bars = world
    prior = LiquidationParams(volume_half_life_hours=12.0)
    cal = calibrate_liquidations(with_prints(bars, TRUE), prior,
                                 fix=("leverage_weights", "volume_half_life_hours", "flow_source"))
    got = cal.params
    assert got.leverage_tiers == prior.leverage_tiers and got.leverage_weights == prior.leverage_weights
    assert (got.flow_source, got.volume_half_life_hours) == ("volume", 12.0)
    assert "leverage_weights" not in cal.info["fitted"] and "notional_scale" in cal.info["fitted"]


def test_too_few_bars_or_nothing_observed_keeps_the_prior(world):
    _, bars = world
    short = calibrate_liquidations(with_prints(bars.iloc[: MIN_CALIBRATION_BARS - 1], TRUE))
    assert short.info["method"] == "prior" and short.params == LiquidationParams() and short.info["warnings"]
    bare = bars.drop(columns=["open_interest", "open_interest_usd"])
    none = calibrate_liquidations(bare)
    assert none.info["method"] == "prior" and none.info["data"]["observations"] == "none"


def test_open_interest_only_chooses_holding_time_not_weights(world):
    _, bars = world
    cal = calibrate_liquidations(bars)
    assert cal.info["data"]["observations"] == "open interest only"
    assert cal.params.leverage_weights == LiquidationParams().leverage_weights
    assert cal.info["quality"]["validation"]["oi_tracking"] > 0.5


def test_info_is_json_ready_and_deterministic(world):
    _, bars = world
    prints = with_prints(bars, TRUE)
    a, b = calibrate_liquidations(prints), calibrate_liquidations(prints)
    assert a == b
    text = json.dumps(a.info, allow_nan=False)
    assert set(a.info) == {"method", "fitted", "prior", "data", "quality", "warnings"}
    assert a.info["data"]["bars"] == len(bars) and a.info["data"]["observations"] == "prints per bar"
    assert "leverage_weights" in json.loads(text)["fitted"]
