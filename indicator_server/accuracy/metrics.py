"""Where-scores of a predictor's map against a true map, and its timing against true liquidations.

- map rank correlation per side: Spearman of open USD per bin, predictor vs truth, on the model's map bins
  (``DEFAULT_BINS`` equal bins over close x (1 +/- map_range_pct %), product.liquidation_map);
- grid rank correlation per side: the same on the cluster grid's bins (``GRID_BIN_PCT`` = the model's default
  ``cluster_bin_pct``, 0.5 % log bins, ~100 over the +/-25 % range), the resolution at which the product states
  where (clusters, max pain); at the map's 0.1 % bins the spread of entries inside a bar bounds even an oracle that
  knows every position but not its entry price inside the bar (0.49 / 0.45, benchmarks/bench_calibration.py);
- largest-cluster error per side: |predictor's largest cluster peak - true largest cluster peak| / true peak x 100;
  clusters of both found by the model's rule (``product.map_clusters``) on the same cluster grid (``grid_span``,
  ``cluster_bin_pct``, ``cluster_density``); the predictor's own clusters where it reports them;
- capture / coverage / lift on a fixed reference grid of ``REFERENCE_BIN_PCT`` bins (so cluster grids of any width
  are scored alike): capture = share of the true open USD (both sides, map range) inside the predictor's clusters
  of the same side, coverage = share of the range's bins the clusters cover, lift = capture / coverage (the
  enrichment ratio of a detector over chance: a map covering everything has lift 1);
- timing per side: Spearman of the predictor's swept USD per UTC day vs the true liquidated USD per day.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..overlays.liquidations import DEFAULT_BINS, LiquidationParams
from ..overlays.liquidations.product import grid_edges, grid_span, map_clusters
from .predictors import MapFn, Prediction
from .stats import SIDES, spearman, to_daily

REFERENCE_BIN_PCT = 0.05
GRID_BIN_PCT = LiquidationParams().cluster_bin_pct


def map_edges(price: float, range_pct: float, bins: int = DEFAULT_BINS) -> np.ndarray:
    return np.linspace(price * (1 - range_pct / 100), price * (1 + range_pct / 100), bins + 1)


def grid_of(price: float, bin_pct: float, range_pct: float) -> np.ndarray:
    """Edges of the cluster grid bins touching price x (1 +/- range_pct %) (product.cluster_map's bins)."""
    k_lo, k_hi = (int(k) for k in grid_span(price, bin_pct, range_pct))
    return grid_edges(k_lo, k_hi, bin_pct)


def clusters_of(map_on: MapFn, price: float, params: LiquidationParams) -> list[dict[str, Any]]:
    """Clusters of a map by the model's rule on ``params``' cluster grid."""
    edges = grid_of(price, params.cluster_bin_pct, params.map_range_pct)
    long_usd, short_usd = map_on(edges)
    binned = {"price_low": edges[:-1], "price_high": edges[1:], "price": (edges[:-1] + edges[1:]) / 2,
              "long_usd": long_usd, "short_usd": short_usd}
    return map_clusters(binned, price, params.cluster_density)


def prediction_clusters(pred: Prediction) -> list[dict[str, Any]]:
    return pred.clusters if pred.clusters is not None else clusters_of(pred.map_on, pred.price, pred.params)


def _largest(clusters: list[dict[str, Any]], side: str) -> dict[str, Any] | None:
    same = [c for c in clusters if c["side"] == side]
    return max(same, key=lambda c: c["notional_usd"]) if same else None


def cluster_masks(clusters: list[dict[str, Any]], mids: np.ndarray) -> dict[str, np.ndarray]:
    """Per side, which of the price points ``mids`` lie inside a cluster of that side."""
    out = {}
    for side in SIDES:
        mask = np.zeros(len(mids), dtype=bool)
        for c in clusters:
            if c["side"] == side:
                mask |= (mids >= c["price_low"]) & (mids <= c["price_high"])
        out[side] = mask
    return out


def capture_coverage(clusters: list[dict[str, Any]], true_map: MapFn, price: float,
                     range_pct: float) -> dict[str, float]:
    """capture, coverage (shares, 0..1) and lift = capture / coverage on the reference grid."""
    edges = grid_of(price, REFERENCE_BIN_PCT, range_pct)
    mids = (edges[:-1] + edges[1:]) / 2
    truth = dict(zip(SIDES, true_map(edges), strict=True))
    masks = cluster_masks(clusters, mids)
    inside = sum(float(truth[s][masks[s]].sum()) for s in SIDES)
    total = sum(float(truth[s].sum()) for s in SIDES)
    coverage = float((masks["long"] | masks["short"]).mean())
    capture = inside / total if total > 0 else float("nan")
    return {"capture": capture, "coverage": coverage, "lift": capture / coverage if coverage > 0 else float("nan")}


def score_map(pred: Prediction, true_map: MapFn) -> dict[str, float]:
    """Rank correlation per side, largest-cluster error per side, capture / coverage / lift (module doc)."""
    price, params = pred.price, pred.params
    out: dict[str, float] = {}
    edges = map_edges(price, params.map_range_pct)
    model_sides, true_sides = pred.map_on(edges), true_map(edges)
    for side, m, t in zip(SIDES, model_sides, true_sides, strict=True):
        out[f"map_spearman_{side}"] = spearman(pd.Series(m), pd.Series(t))
    grid = grid_of(price, GRID_BIN_PCT, params.map_range_pct)
    for side, m, t in zip(SIDES, pred.map_on(grid), true_map(grid), strict=True):
        out[f"grid_spearman_{side}"] = spearman(pd.Series(m), pd.Series(t))
    clusters = prediction_clusters(pred)
    true_clusters = clusters_of(true_map, price, params)
    for side in SIDES:
        m, t = _largest(clusters, side), _largest(true_clusters, side)
        out[f"largest_cluster_error_pct_{side}"] = (abs(m["price_peak"] - t["price_peak"]) / t["price_peak"] * 100
                                                    if m and t else float("nan"))
    out.update(capture_coverage(clusters, true_map, price, params.map_range_pct))
    return out


def score_timing(pred: Prediction, true_liq: pd.DataFrame) -> dict[str, float]:
    """Daily Spearman per side of the swept series vs ``true_liq`` (time, long_liquidated_usd,
    short_liquidated_usd)."""
    sw = pred.swept
    model = to_daily(sw["time"].to_numpy(), sw["long_usd"].to_numpy(), sw["short_usd"].to_numpy())
    real = to_daily(true_liq["time"].to_numpy(), true_liq["long_liquidated_usd"].to_numpy(),
                    true_liq["short_liquidated_usd"].to_numpy())
    return {f"timing_spearman_{side}": spearman(model[side], real[side]) for side in SIDES}
