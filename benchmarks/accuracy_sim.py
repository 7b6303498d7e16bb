"""The liquidation model against the simulator's ground truth (every cohort, every liquidation is known there).

Run from the repo root: ``python -m benchmarks.accuracy_sim`` (``--quick``: fewer cases; ``--tune``: choose the
cluster grid, ``cluster_bin_pct`` x ``cluster_density``, on the cases ending before 2025-05-01 and score the
choice on the held-out cases ending 2025-09-01).

Cases: symbols BTCUSDT, ETHUSDT, SOLUSDT, XRPUSDT, DOGEUSDT (each symbol is its own random seed in the sim) x
windows of 500 and 2,000 1h bars ending at several dates. For each case the model runs on the window's bars
(klines + OI + long/short ratio from ``SimSource``) and is compared with ``SimSource``'s truth at the last bar:
- map Spearman: rank correlation of open notional per price bin, model map vs ``true_liquidation_map`` on the
  model's own bins (+-25% around the close), long bins, short bins and both;
- largest-cluster error: |model's largest cluster peak - true largest cluster peak| / true peak, %, per side;
  nearest-cluster error: |model's nearest cluster peak - true nearest cluster peak| / close, %, per side (the
  cluster a trader acts on); true clusters are found with the same rule (``product.map_clusters``) on the true
  open notional binned on the model's cluster grid (``result.cluster_grid``);
- in-cluster share: share of true open notional (map range) that lies inside the model's reported clusters of
  the same side, next to the share of the price range those clusters cover (a map covering everything would
  trivially hold 100%), both on a fixed reference grid of 0.05% bins whatever the cluster grid, so grids of
  different widths are scored alike; "lift" = share - cover, the tuning score;
- swept Spearman: daily model ``swept`` vs the sim's true liquidations per day (long + short).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np
import pandas as pd

from indicator_server.market.assemble import assemble_bars
from indicator_server.market.sim import GENESIS_MS, SimSource
from indicator_server.overlays.liquidations import LiquidationParams, estimate_liquidations
from indicator_server.overlays.liquidations.product import grid_edges, grid_span, map_clusters
from indicator_server.timeframes import HOUR_MS

from ._data import spearman, to_daily

SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT")
WINDOWS = (500, 2000)
ENDS = ("2024-06-01", "2025-01-15", "2025-09-01")
CLOCK = pd.Timestamp("2026-01-01", tz="UTC").timestamp()
TIMEFRAME = "1h"
# What benchmarks/accuracy_real.py chose on the real-data tuning period (volume flow, 24h half-life, taker split,
# leverage weights leaning to high leverage); the scale does not matter for rank correlations.
REFERENCE_BIN_PCT = 0.05
TUNE_ENDS = tuple(e for e in ENDS if e < "2025-05-01")  # calibration rule: tune on cases ending before this day
HELD_OUT_ENDS = tuple(e for e in ENDS if e not in TUNE_ENDS)
BIN_PCTS = (0.05, 0.1, 0.25, 0.5, 1.0)
DENSITIES = (1.5, 2.0, 3.0)
REAL_DATA_CHOICE = {"flow_source": "volume", "volume_half_life_hours": 24, "split": "taker",
                    "leverage_weights": (0.05, 0.15, 0.25, 0.3, 0.25)}


def _ms(day: str) -> int:
    return int(pd.Timestamp(day, tz="UTC").value // 1_000_000)


def sim_bars(source: SimSource, symbol: str, end_ms: int, n: int) -> pd.DataFrame:
    start = max(GENESIS_MS, end_ms - (n - 1) * HOUR_MS)
    kl = source.fetch_klines(symbol, TIMEFRAME, start, end_ms).frame
    oi = source.fetch_open_interest(symbol, TIMEFRAME, start, end_ms).frame
    ls = source.fetch_long_short_ratio(symbol, TIMEFRAME, start, end_ms).frame
    fr = source.fetch_funding(symbol, start, end_ms + HOUR_MS).frame
    return assemble_bars(kl, oi, fr, ls, HOUR_MS, sample_tolerance=HOUR_MS)


def _largest(clusters: list[dict], side: str) -> dict | None:
    same = [c for c in clusters if c["side"] == side]
    return max(same, key=lambda c: c["notional_usd"]) if same else None


def _nearest(clusters: list[dict], side: str) -> dict | None:
    return next((c for c in clusters if c["side"] == side), None)


def evaluate_case(source: SimSource, symbol: str, end: str, n: int, params: LiquidationParams) -> dict[str, Any]:
    bars = sim_bars(source, symbol, _ms(end), n)
    result = estimate_liquidations(bars, params, include=("map", "clusters", "swept"))
    lmap = result.map
    edges = np.append(lmap["price_low"], lmap["price_high"][-1])
    truth = source.true_liquidation_map(symbol, TIMEFRAME, int(bars["time"].iloc[-1]), edges)
    price = result.price
    out: dict[str, Any] = {"symbol": symbol, "end": end, "bars": len(bars)}
    for side in ("long", "short"):
        out[f"map_spearman_{side}"] = spearman(pd.Series(lmap[f"{side}_usd"]), truth[f"{side}_usd"])
    out["map_spearman_both"] = spearman(pd.Series(lmap["long_usd"] + lmap["short_usd"]),
                                        truth["long_usd"] + truth["short_usd"])
    grid = result.cluster_grid
    true_grid = source.true_liquidation_map(symbol, TIMEFRAME, int(bars["time"].iloc[-1]),
                                            np.append(grid["price_low"], grid["price_high"][-1]))
    true_map = {"price_low": grid["price_low"], "price_high": grid["price_high"], "price": grid["price"],
                "long_usd": true_grid["long_usd"].to_numpy(), "short_usd": true_grid["short_usd"].to_numpy()}
    true_clusters = map_clusters(true_map, price, params.cluster_density)
    for side in ("long", "short"):
        m, t = _largest(result.clusters, side), _largest(true_clusters, side)
        out[f"largest_cluster_error_pct_{side}"] = (abs(m["price_peak"] - t["price_peak"]) / t["price_peak"] * 100
                                                    if m and t else float("nan"))
        m, t = _nearest(result.clusters, side), _nearest(true_clusters, side)
        out[f"nearest_cluster_error_pct_{side}"] = (abs(m["price_peak"] - t["price_peak"]) / price * 100
                                                    if m and t else float("nan"))
    k_lo, k_hi = (int(k) for k in grid_span(price, REFERENCE_BIN_PCT, params.map_range_pct))
    ref_edges = grid_edges(k_lo, k_hi, REFERENCE_BIN_PCT)
    ref = source.true_liquidation_map(symbol, TIMEFRAME, int(bars["time"].iloc[-1]), ref_edges)
    mids = (ref_edges[:-1] + ref_edges[1:]) / 2
    inside_usd, total_usd, covered = 0.0, 0.0, np.zeros(len(mids), dtype=bool)
    for side in ("long", "short"):
        mask = np.zeros(len(mids), dtype=bool)
        for c in result.clusters:
            if c["side"] == side:
                mask |= (mids >= c["price_low"]) & (mids <= c["price_high"])
        inside_usd += float(ref[f"{side}_usd"].to_numpy()[mask].sum())
        total_usd += float(ref[f"{side}_usd"].sum())
        covered |= mask
    out["true_notional_in_clusters_pct"] = inside_usd / total_usd * 100 if total_usd else float("nan")
    out["range_covered_by_clusters_pct"] = covered.mean() * 100
    out["cluster_lift_pct"] = out["true_notional_in_clusters_pct"] - out["range_covered_by_clusters_pct"]
    true_liq = source.true_liquidations(symbol, TIMEFRAME, int(bars["time"].iloc[0]), int(bars["time"].iloc[-1]))
    real = to_daily(true_liq["time"].to_numpy(), true_liq["long_liquidated_usd"].to_numpy(),
                    true_liq["short_liquidated_usd"].to_numpy())
    swept = result.swept
    model = to_daily(swept["time"].to_numpy(), swept["long_usd"].to_numpy(), swept["short_usd"].to_numpy())
    for side in ("long", "short"):
        out[f"daily_swept_spearman_{side}"] = spearman(model[side], real[side])
    return out


COLUMNS = [
    ("map_spearman_long", "mapL", "{:6.2f}"), ("map_spearman_short", "mapS", "{:6.2f}"),
    ("map_spearman_both", "map", "{:6.2f}"),
    ("largest_cluster_error_pct_long", "errL%", "{:6.2f}"), ("largest_cluster_error_pct_short", "errS%", "{:6.2f}"),
    ("nearest_cluster_error_pct_long", "nerL%", "{:6.2f}"), ("nearest_cluster_error_pct_short", "nerS%", "{:6.2f}"),
    ("true_notional_in_clusters_pct", "in-cl%", "{:7.1f}"), ("range_covered_by_clusters_pct", "cover%", "{:7.1f}"),
    ("cluster_lift_pct", "lift%", "{:7.1f}"),
    ("daily_swept_spearman_long", "swpL", "{:6.2f}"), ("daily_swept_spearman_short", "swpS", "{:6.2f}"),
]


def fmt(rows: list[dict[str, Any]], title: str) -> str:
    head = f"{'symbol':10}{'end':12}{'bars':>6} " + "".join(f"{h:>{len(f.format(0))}}" for _, h, f in COLUMNS)
    lines = [title, head]
    for r in rows:
        cells = "".join(f.format(r[k]) for k, _, f in COLUMNS)
        lines.append(f"{r['symbol']:10}{r['end']:12}{r['bars']:6d} {cells}")
    med = {k: float(np.nanmedian([r[k] for r in rows])) for k, _, _ in COLUMNS}
    lines.append(f"{'median':28} " + "".join(f.format(med[k]) for k, _, f in COLUMNS))
    return "\n".join(lines)


def run(quick: bool = False, variants: dict[str, LiquidationParams] | None = None) -> dict[str, Any]:
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
        summary[name] = {"cases": rows,
                         "median": {k: float(np.nanmedian([r[k] for r in rows])) for k, _, _ in COLUMNS}}
    return summary


def _median(rows: list[dict[str, Any]], key: str) -> float:
    return float(np.nanmedian([r[key] for r in rows]))


def tune(quick: bool = False) -> dict[str, Any]:
    """Every (cluster_bin_pct, cluster_density) on the tuning cases (ends before 2025-05-01), the best by median
    lift, and every candidate's held-out figures (ends 2025-09-01) next to it (only the choice's count)."""
    source = SimSource(clock=lambda: CLOCK, symbols=SYMBOLS)
    symbols, windows = (SYMBOLS[:3], (500,)) if quick else (SYMBOLS, WINDOWS)
    keys = ("cluster_lift_pct", "true_notional_in_clusters_pct", "range_covered_by_clusters_pct",
            "nearest_cluster_error_pct_long", "nearest_cluster_error_pct_short",
            "largest_cluster_error_pct_long", "largest_cluster_error_pct_short")
    table = []
    for bin_pct in BIN_PCTS:
        for density in DENSITIES:
            params = LiquidationParams(cluster_bin_pct=bin_pct, cluster_density=density)
            parts = {}
            for part, ends in (("tuning", TUNE_ENDS), ("held_out", HELD_OUT_ENDS)):
                rows = [evaluate_case(source, s, e, n, params) for s in symbols for n in windows for e in ends]
                parts[part] = {k: _median(rows, k) for k in keys}
            table.append({"cluster_bin_pct": bin_pct, "cluster_density": density, **parts})
    best = max(table, key=lambda r: r["tuning"]["cluster_lift_pct"])
    return {"candidates": table, "choice": {"cluster_bin_pct": best["cluster_bin_pct"],
                                             "cluster_density": best["cluster_density"]}}


def print_tuning(result: dict[str, Any]) -> None:
    heads = ("lift%", "in-cl%", "cover%", "nerL%", "nerS%", "errL%", "errS%")
    print("cluster grid: medians on tuning cases (ends " + ", ".join(TUNE_ENDS) + ") | held out (ends "
          + ", ".join(HELD_OUT_ENDS) + ")")
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
