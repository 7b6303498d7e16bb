"""The liquidation model against the simulator's ground truth, one model variant at a time, case by case.

The table users read is ``indicator-server accuracy`` (package ``indicator_server.accuracy``: every regime, the
calibrated model and two baselines, held out); this script keeps the per-case view of model VARIANTS and the
cluster-grid tuning, on the same scores (``indicator_server.accuracy.metrics``).

Run from the repo root: ``python -m benchmarks.accuracy_sim`` (``--quick``: fewer cases; ``--tune``: choose the
cluster grid, ``cluster_bin_pct`` x ``cluster_density``, by the median cluster lift on the TUNING seeds and windows
(``sim_scores.TUNING_SEEDS`` x ``TUNING_ENDS``), with every candidate's figures on the SCORED ones next to it).

``evaluate_case(source, symbol, end, n, params)`` returns, besides the package's scores, the keys of the earlier
version of this script: map_spearman_both, nearest_cluster_error_pct_* (|model's nearest cluster peak - true
nearest cluster peak| / close, %), true_notional_in_clusters_pct / range_covered_by_clusters_pct (capture and
coverage in %), cluster_lift_pct (their difference, the former tuning score), cluster_lift (their ratio, the score
now) and daily_swept_spearman_* (timing).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np
import pandas as pd

from indicator_server.accuracy import predictors as P
from indicator_server.accuracy import sim_scores as S
from indicator_server.accuracy.metrics import map_edges, prediction_clusters, score_map, score_timing
from indicator_server.accuracy.stats import spearman
from indicator_server.market.sim import SimSource
from indicator_server.overlays.liquidations import LiquidationParams

SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT")
WINDOWS = (500, 2000)
ENDS = ("2024-06-01", "2025-01-15", "2025-09-01")
CLOCK = S.CLOCK
TIMEFRAME = S.TIMEFRAME
BIN_PCTS = (0.05, 0.1, 0.25, 0.5, 1.0)
DENSITIES = (1.5, 2.0, 3.0)
REAL_DATA_CHOICE = {"flow_source": "volume", "volume_half_life_hours": 24, "split": "taker",
                    "leverage_weights": (0.05, 0.15, 0.25, 0.3, 0.25)}


def sim_bars(source: SimSource, symbol: str, end_ms: int, n: int) -> pd.DataFrame:
    return S.sim_bars(source, symbol, end_ms, n)


def _nearest(clusters: list[dict], side: str) -> dict | None:
    return next((c for c in clusters if c["side"] == side), None)


def evaluate_case(source: SimSource, symbol: str, end: str, n: int, params: LiquidationParams) -> dict[str, Any]:
    """Scores of the model with ``params`` on one case (module doc)."""
    bars = S.sim_bars(source, symbol, S.ms(end), n)
    pred = P.model_prediction(bars, params)
    truth, true_liq = S.truth_prediction(source, symbol, bars)
    truth.params = params
    scores = {**score_map(pred, truth.map_on), **score_timing(pred, true_liq)}
    out: dict[str, Any] = {"symbol": symbol, "end": end, "bars": len(bars), **scores}
    edges = map_edges(pred.price, params.map_range_pct)
    (ml, ms_), (tl, ts) = pred.map_on(edges), truth.map_on(edges)
    out["map_spearman_both"] = spearman(pd.Series(ml + ms_), pd.Series(tl + ts))
    model_clusters, true_clusters = prediction_clusters(pred), prediction_clusters(truth)
    for side in ("long", "short"):
        m, t = _nearest(model_clusters, side), _nearest(true_clusters, side)
        out[f"nearest_cluster_error_pct_{side}"] = (abs(m["price_peak"] - t["price_peak"]) / pred.price * 100
                                                    if m and t else float("nan"))
        out[f"daily_swept_spearman_{side}"] = scores[f"timing_spearman_{side}"]
    out["true_notional_in_clusters_pct"] = scores["capture"] * 100
    out["range_covered_by_clusters_pct"] = scores["coverage"] * 100
    out["cluster_lift_pct"] = out["true_notional_in_clusters_pct"] - out["range_covered_by_clusters_pct"]
    out["cluster_lift"] = scores["lift"]
    return out


COLUMNS = [
    ("map_spearman_long", "mapL", "{:6.2f}"), ("map_spearman_short", "mapS", "{:6.2f}"),
    ("map_spearman_both", "map", "{:6.2f}"),
    ("largest_cluster_error_pct_long", "errL%", "{:6.2f}"), ("largest_cluster_error_pct_short", "errS%", "{:6.2f}"),
    ("nearest_cluster_error_pct_long", "nerL%", "{:6.2f}"), ("nearest_cluster_error_pct_short", "nerS%", "{:6.2f}"),
    ("true_notional_in_clusters_pct", "in-cl%", "{:7.1f}"), ("range_covered_by_clusters_pct", "cover%", "{:7.1f}"),
    ("cluster_lift", "lift", "{:6.2f}"),
    ("daily_swept_spearman_long", "swpL", "{:6.2f}"), ("daily_swept_spearman_short", "swpS", "{:6.2f}"),
]


def _median(rows: list[dict[str, Any]], key: str) -> float:
    values = np.array([r[key] for r in rows], dtype=float)
    return float(np.nanmedian(values)) if np.isfinite(values).any() else float("nan")


def fmt(rows: list[dict[str, Any]], title: str) -> str:
    head = f"{'symbol':12}{'end':12}{'bars':>6} " + "".join(f"{h:>{len(f.format(0))}}" for _, h, f in COLUMNS)
    lines = [title, head]
    for r in rows:
        lines.append(f"{r['symbol']:12}{r['end']:12}{r['bars']:6d} " + "".join(f.format(r[k]) for k, _, f in COLUMNS))
    lines.append(f"{'median':30} " + "".join(f.format(_median(rows, k)) for k, _, f in COLUMNS))
    return "\n".join(lines)


def run(quick: bool = False, variants: dict[str, LiquidationParams] | None = None) -> dict[str, Any]:
    """Every variant on SYMBOLS x WINDOWS x ENDS (``quick``: 3 symbols, 500 bars, the first end)."""
    source = SimSource(clock=lambda: CLOCK, symbols=SYMBOLS)
    variants = variants or {
        "server defaults": LiquidationParams(),
        "oi": LiquidationParams(flow_source="oi"),
        "volume 72h": LiquidationParams(flow_source="volume", volume_half_life_hours=72),
        "real-data choice": LiquidationParams.from_dict(REAL_DATA_CHOICE),
    }
    symbols, windows, ends = (SYMBOLS[:3], (500,), ENDS[:1]) if quick else (SYMBOLS, WINDOWS, ENDS)
    summary: dict[str, Any] = {}
    for name, params in variants.items():
        rows = [evaluate_case(source, s, e, n, params) for s in symbols for n in windows for e in ends]
        summary[name] = {"cases": rows, "median": {k: _median(rows, k) for k, _, _ in COLUMNS}}
    return summary


def _tuning_cases(quick: bool) -> dict[str, list[tuple[str, str]]]:
    regimes = S.regime_names()
    tune_seeds, scored_seeds = (S.TUNING_SEEDS[:1], S.SCORED_SEEDS[:1]) if quick else (S.TUNING_SEEDS, S.SCORED_SEEDS)
    return {"tuning": [(S.symbol(r, s), e) for r in regimes for s in tune_seeds for e in S.TUNING_ENDS],
            "held_out": [(S.symbol(r, s), e) for r in regimes for s in scored_seeds for e in S.SCORED_ENDS]}


def tune(quick: bool = False) -> dict[str, Any]:
    """Every (cluster_bin_pct, cluster_density) on the tuning cases, the best by median lift (ratio), and every
    candidate's figures on the held-out cases next to it (only the choice's count)."""
    source = SimSource(clock=lambda: CLOCK)
    cases, window = _tuning_cases(quick), 500 if quick else S.WINDOW_BARS
    keys = ("cluster_lift", "true_notional_in_clusters_pct", "range_covered_by_clusters_pct",
            "nearest_cluster_error_pct_long", "nearest_cluster_error_pct_short",
            "largest_cluster_error_pct_long", "largest_cluster_error_pct_short")
    table = []
    for bin_pct in BIN_PCTS:
        for density in DENSITIES:
            params = LiquidationParams(cluster_bin_pct=bin_pct, cluster_density=density)
            parts = {}
            for part, chosen in cases.items():
                rows = [evaluate_case(source, sym, end, window, params) for sym, end in chosen]
                parts[part] = {k: _median(rows, k) for k in keys}
            table.append({"cluster_bin_pct": bin_pct, "cluster_density": density, **parts})
    best = max(table, key=lambda r: r["tuning"]["cluster_lift"])
    return {"candidates": table, "choice": {"cluster_bin_pct": best["cluster_bin_pct"],
                                             "cluster_density": best["cluster_density"]}}


def print_tuning(result: dict[str, Any]) -> None:
    heads = ("lift", "in-cl%", "cover%", "nerL%", "nerS%", "errL%", "errS%")
    print("cluster grid: medians on tuning seeds/windows | held-out seeds/windows")
    print(f"{'bin%':>6}{'dens':>6} " + "".join(f"{h:>8}" for h in heads) + " |" + "".join(f"{h:>8}" for h in heads))
    for r in result["candidates"]:
        mark = " <- chosen" if (r["cluster_bin_pct"], r["cluster_density"]) == tuple(result["choice"].values()) else ""
        cells = [f"{v:8.2f}" for v in r["tuning"].values()], [f"{v:8.2f}" for v in r["held_out"].values()]
        print(f"{r['cluster_bin_pct']:6.2f}{r['cluster_density']:6.1f} " + "".join(cells[0]) + " |"
              + "".join(cells[1]) + mark)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--tune", action="store_true", help="choose the cluster grid (see the module doc)")
    args = parser.parse_args(argv)
    if args.tune:
        result = tune(quick=args.quick)
        print_tuning(result)
        print(json.dumps(result, default=float))
        return 0
    summary = run(quick=args.quick)
    for name, part in summary.items():
        print(fmt(part["cases"], f"\nModel variant: {name}"))
    print(json.dumps({name: part["median"] for name, part in summary.items()} | {"cases": summary}, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
