"""Where-scores on hand-made maps: a perfect predictor scores as the truth does, full coverage has lift 1."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from indicator_server.accuracy import metrics
from indicator_server.accuracy.predictors import Prediction
from indicator_server.accuracy.stats import ratio_stats, spearman
from indicator_server.overlays.liquidations import LiquidationParams

PRICE = 100.0


def _point_map(points: list[tuple[str, float, float]]):
    """A map of point masses (side, liquidation price, USD)."""
    def map_on(edges):
        out = []
        for side in ("long", "short"):
            sel = [(p, u) for s, p, u in points if s == side]
            prices = np.array([p for p, _ in sel], dtype=float)
            usd = np.array([u for _, u in sel], dtype=float)
            out.append(np.histogram(prices, bins=edges, weights=usd)[0].astype(float))
        return out[0], out[1]
    return map_on


TRUE = _point_map([("long", 90.0, 1e6), ("long", 95.0, 2e5), ("long", 85.0, 1e5), ("long", 80.0, 5e4),
                   ("short", 110.0, 8e5), ("short", 104.0, 1e5), ("short", 118.0, 3e4)])


def _pred(map_on, clusters=None) -> Prediction:
    swept = pd.DataFrame({"time": np.zeros(0, dtype="int64"), "long_usd": [], "short_usd": []})
    return Prediction("p", PRICE, map_on, swept, LiquidationParams(), clusters)


def test_a_perfect_predictor_scores_exactly_as_the_truth_does():
    truth_clusters = metrics.clusters_of(TRUE, PRICE, LiquidationParams())
    own = metrics.capture_coverage(truth_clusters, TRUE, PRICE, 25.0)
    scores = metrics.score_map(_pred(TRUE), TRUE)
    assert scores["lift"] == pytest.approx(own["lift"]) and own["lift"] > 2
    assert scores["map_spearman_long"] == pytest.approx(1.0) and scores["map_spearman_short"] == pytest.approx(1.0)
    assert scores["largest_cluster_error_pct_long"] == 0 and scores["largest_cluster_error_pct_short"] == 0


def test_clusters_covering_the_whole_range_have_lift_one():
    everything = [{"side": "long", "price_low": 0.0, "price_high": PRICE},
                  {"side": "short", "price_low": PRICE, "price_high": 1e9}]
    got = metrics.capture_coverage(everything, TRUE, PRICE, 25.0)
    assert got == {"capture": pytest.approx(1.0), "coverage": pytest.approx(1.0), "lift": pytest.approx(1.0)}


def test_lift_is_capture_over_coverage():
    # one long cluster around 90 holding 1e6 of the 2.28e6 true USD
    cluster = [{"side": "long", "price_low": 89.5, "price_high": 90.5}]
    got = metrics.capture_coverage(cluster, TRUE, PRICE, 25.0)
    assert got["capture"] == pytest.approx(1e6 / 2.28e6)
    assert 0 < got["coverage"] < 0.03
    assert got["lift"] == pytest.approx(got["capture"] / got["coverage"])
    # the same cluster on the wrong side captures nothing
    assert metrics.capture_coverage([{**cluster[0], "side": "short"}], TRUE, PRICE, 25.0)["capture"] == 0


def test_a_misplaced_largest_cluster_costs_its_distance():
    shifted = _point_map([("long", 85.5, 1e6), ("long", 95.0, 1e5), ("long", 80.0, 1e5),
                          ("short", 110.0, 8e5), ("short", 104.0, 1e5), ("short", 118.0, 1e5)])
    scores = metrics.score_map(_pred(shifted), TRUE)
    assert scores["largest_cluster_error_pct_long"] == pytest.approx(5.0, abs=0.6)  # 85.5 vs 90, on 0.5 % bins
    assert scores["largest_cluster_error_pct_short"] < 0.6


def test_spearman_and_ratios():
    a = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0])
    assert spearman(a, a ** 3) == pytest.approx(1.0)
    assert spearman(a, pd.Series([2.0, 1.0, 4.0, 3.0, 5.0])) == pytest.approx(0.8)
    got = ratio_stats(pd.Series([1.0, 2.0, 10.0]), pd.Series([1.0, 1.0, 1.0]))
    assert got["totals_ratio"] == pytest.approx(13 / 3) and got["median_daily_ratio"] == pytest.approx(2.0)
    assert got["days_within"] == pytest.approx(1 / 3)
