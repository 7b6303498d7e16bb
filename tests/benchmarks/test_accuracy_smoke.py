"""The accuracy study's scripts stay runnable: real data on a short window, the sim on a few cases.

Only that they run and produce rank correlations; the accuracy table is ``indicator-server accuracy``
(tests/accuracy/ runs it).
"""

from __future__ import annotations

import math

import pytest

from benchmarks import _data, accuracy_real, accuracy_sim
from indicator_server.overlays.liquidations import LiquidationParams
from tests.conftest import shared_data


@pytest.fixture
def real_data():
    for parts in (("binance-btcusdt", "klines-1h.csv"), ("okx-btc-hourly", "snapshots.csv"),
                  ("coinglass-daily", "liquidation_agg_1d.csv"), ("coinglass-daily", "futures_oi_agg_1d.csv")):
        shared_data(*parts)


def test_okx_dates_are_utc_plus_5(real_data):
    okx, klines = _data.load_okx_snapshots(), _data.load_klines()
    inside = okx.merge(klines[["time", "low", "high"]], on="time")
    share = ((inside["futures_price"] >= inside["low"]) & (inside["futures_price"] <= inside["high"])).mean()
    assert share > 0.85  # read as UTC it would sit in the bar 5 hours later (about 30% inside)


def test_real_pipeline_on_a_short_window(real_data):
    loaded = _data.load_real_bars("2025-03-20", "2025-05-20")
    assert loaded.filled_hours > 0 and 50 < loaded.market_factor < 150
    assert loaded.frame["open_interest_usd"].iloc[-1] > 1e10  # market-wide OI, tens of billions of USD
    real = _data.daily_real()
    daily = accuracy_real.model_daily(loaded.frame, LiquidationParams(flow_source="blend"))
    days = ("2025-04-01", "2025-05-15")
    scores = accuracy_real.score_in(daily, real, days)
    assert set(scores) == {"long", "short", "total"}
    assert all(-1 <= value <= 1 for value in scores.values())
    for frame in _data.daily_baselines(loaded.frame).values():
        assert all(math.isfinite(v) for v in accuracy_real.score_in(frame, real, days).values())


def test_spearman_is_a_rank_correlation():
    import pandas as pd

    a = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0])
    assert _data.spearman(a, a ** 3) == pytest.approx(1.0)
    assert _data.spearman(a, -a) == pytest.approx(-1.0)
    assert _data.spearman(a, pd.Series([2.0, 1.0, 4.0, 3.0, 5.0])) == pytest.approx(0.8)


def test_sim_pipeline_runs():
    summary = accuracy_sim.run(quick=True, variants={"oi": LiquidationParams(flow_source="oi")})
    cases = summary["oi"]["cases"]
    assert len(cases) == 3
    for case in cases:
        assert -1 <= case["map_spearman_long"] <= 1 and -1 <= case["daily_swept_spearman_long"] <= 1
        assert 0 <= case["true_notional_in_clusters_pct"] <= 100
        # the earlier keys stay (other benchmarks read them) next to the lift as a ratio
        assert case["cluster_lift_pct"] == pytest.approx(case["true_notional_in_clusters_pct"]
                                                         - case["range_covered_by_clusters_pct"])
        assert case["cluster_lift"] == pytest.approx(case["true_notional_in_clusters_pct"]
                                                     / case["range_covered_by_clusters_pct"])
