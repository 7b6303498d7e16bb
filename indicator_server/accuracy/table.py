"""The accuracy table: fixed-width blocks (one per sim regime, one for real data) and the JSON document."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .predictors import PREDICTORS, TRUTH

# (key, header, width, format, scale)
SIM_CELLS = (
    ("map_spearman_long", "mapL", 7, "{:.2f}", 1), ("map_spearman_short", "mapS", 7, "{:.2f}", 1),
    ("grid_spearman_long", "gridL", 7, "{:.2f}", 1), ("grid_spearman_short", "gridS", 7, "{:.2f}", 1),
    ("largest_cluster_error_pct_long", "errL%", 7, "{:.1f}", 1),
    ("largest_cluster_error_pct_short", "errS%", 7, "{:.1f}", 1),
    ("capture", "capt%", 7, "{:.1f}", 100), ("coverage", "cov%", 6, "{:.1f}", 100), ("lift", "lift", 7, "{:.2f}", 1),
    ("timing_spearman_long", "timL", 7, "{:.2f}", 1), ("timing_spearman_short", "timS", 7, "{:.2f}", 1),
)
REAL_CELLS = (
    ("timing_spearman_long", "timL", 8, "{:.3f}", 1), ("timing_spearman_short", "timS", 8, "{:.3f}", 1),
    ("totals_ratio", "ratio", 10, "{:.2f}", 1), ("median_daily_ratio", "medR", 6, "{:.2f}", 1),
    ("days_within", "in1.5x", 7, "{:.0%}", 1),
    ("where_capture", "wcapt%", 8, "{:.1f}", 100), ("where_coverage", "wcov%", 7, "{:.1f}", 100),
    ("where_lift", "wlift", 7, "{:.2f}", 1), ("where_n", "n", 4, "{:.0f}", 1),
)
# Issue 9's targets (held out): higher is better except the cluster error; None = no target.
SIM_TARGETS = {"map_spearman_long": 0.80, "map_spearman_short": 0.80, "grid_spearman_long": 0.80,
               "grid_spearman_short": 0.80, "largest_cluster_error_pct_long": 3.0,
               "largest_cluster_error_pct_short": 3.0, "lift": 2.0, "timing_spearman_long": 0.85,
               "timing_spearman_short": 0.85}
REAL_TARGETS = {"timing_spearman_long": 0.93, "timing_spearman_short": 0.88, "totals_ratio": (1 / 1.5, 1.5)}
LOWER_IS_BETTER = {"largest_cluster_error_pct_long", "largest_cluster_error_pct_short"}
NAME_WIDTH = 20


def _cell(value: Any, width: int, fmt: str, scale: float) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return f"{'-':>{width}}"
    return f"{fmt.format(value * scale):>{width}}"


def _block(title: str, rows: dict[str, dict[str, float]], cells, targets: dict[str, Any]) -> list[str]:
    lines = [title, f"{'predictor':{NAME_WIDTH}}" + "".join(f"{h:>{w}}" for _, h, w, _, _ in cells)]
    for name, row in rows.items():
        lines.append(f"{name[:NAME_WIDTH]:{NAME_WIDTH}}"
                     + "".join(_cell(row.get(k), w, f, s) for k, _, w, f, s in cells))
    target_cells = []
    for key, _, width, fmt, scale in cells:
        t = targets.get(key)
        if isinstance(t, tuple):
            target_cells.append(f"{f'{t[0]:.2f}-{t[1]:.2f}':>{width}}")
        else:
            text = "" if t is None else ("<=" if key in LOWER_IS_BETTER else ">=") + fmt.format(t * scale)
            target_cells.append(f"{text:>{width}}")
    lines.append((f"{'target':{NAME_WIDTH}}" + "".join(target_cells)).rstrip())
    return lines


def verdict(rows: dict[str, dict[str, float]], targets: dict[str, Any], name: str) -> dict[str, dict[str, bool]]:
    """Per target column: whether predictor ``name`` meets the target and beats both baselines."""
    out: dict[str, dict[str, bool]] = {}
    base = [rows[b] for b in PREDICTORS[2:] if b in rows]
    me = rows.get(name, {})
    for key, target in targets.items():
        v = me.get(key, float("nan"))
        if not isinstance(v, float) or not math.isfinite(v):
            out[key] = {"meets_target": False, "beats_baselines": False}
            continue
        if isinstance(target, tuple):
            meets = target[0] <= v <= target[1]
            beats = all(abs(np.log(v)) < abs(np.log(b[key])) for b in base if b.get(key, 0) > 0)
        elif key in LOWER_IS_BETTER:
            meets, beats = v <= target, all(v < b[key] for b in base if math.isfinite(b.get(key, math.nan)))
        else:
            meets, beats = v >= target, all(v > b[key] for b in base if math.isfinite(b.get(key, math.nan)))
        out[key] = {"meets_target": bool(meets), "beats_baselines": bool(beats)}
    return out


def _verdict_line(rows, targets, cells) -> list[str]:
    heads = {k: h for k, h, _, _, _ in cells}
    lines = []
    for name in PREDICTORS[:2]:
        if name not in rows:
            continue
        v = verdict(rows, targets, name)
        met = [heads[k] for k, r in v.items() if r["meets_target"]]
        beats = [heads[k] for k, r in v.items() if r["beats_baselines"]]
        lines.append(f"  {name}: targets met {len(met)}/{len(v)} ({' '.join(met) or 'none'}); "
                     f"beats both baselines on {len(beats)}/{len(v)} ({' '.join(beats) or 'none'})")
    return lines


def format_report(result: dict[str, Any]) -> str:
    """The whole table: the command, one block per sim regime, the real-data block, the column legend."""
    lines = [f"$ {result['command']}", ""]
    for regime, part in result["sim"].items():
        n = len(part["cases"])
        title = (f"sim regime {regime}: {', '.join(part['symbols'])} x windows of {part['window_bars']} 1h bars "
                 f"ending {', '.join(part['ends'])}\n  ({n} held-out case{'s' if n != 1 else ''}, medians)")
        rows = {k: part["medians"][k] for k in (*PREDICTORS, TRUTH) if k in part["medians"]}
        lines += _block(title, rows, SIM_CELLS, SIM_TARGETS) + _verdict_line(rows, SIM_TARGETS, SIM_CELLS) + [""]
    real = result.get("real")
    if real:
        held = real["held_out_days"]
        title = (f"real BTCUSDT: Binance 1h klines + OKX OI (market-scaled) {real['bars']['first']}.."
                 f"{real['bars']['last']}; timing and totals vs Coinglass daily,\n  held out {held[0]}..{held[1]}; "
                 f"where = Binance forceOrder BTC prints as of each recording's start")
        rows = {k: real["medians"][k] for k in (*PREDICTORS[:2], *real["medians"]) if k in real["medians"]}
        lines += _block(title, rows, REAL_CELLS, REAL_TARGETS) + _verdict_line(rows, REAL_TARGETS, REAL_CELLS)
        lines.append("")
    lines.append(LEGEND)
    return "\n".join(lines)


LEGEND = """\
mapL/mapS: Spearman of open USD per map bin vs the sim's true liquidation map (500 bins, close +-25 %), per side.
gridL/gridS: the same on the cluster grid's 0.5 % bins (~100 over the range), where clusters and max pain are stated.
errL%/errS%: largest cluster's peak vs the true largest cluster's peak, % of price (same cluster grid and rule).
capt%/cov%/lift: share of the true open USD inside the clusters / share of the range they cover / their ratio
  (0.05 % reference grid; a map covering everything has lift 1). timL/timS: Spearman of swept USD per day vs true
  (sim) or Coinglass (real) liquidations per day. ratio: modelled/real USD over the held-out days; medR: median
  daily ratio; in1.5x: share of days within 1.5x (baselines scaled by their in-sample ratio of totals).
wcapt%/wcov%/wlift/n: share of forceOrder print USD inside the clusters as of the recording's start / coverage /
  ratio / prints. truth (reference): the sim's own positions, the ceiling. '-': not defined for that case."""


def jsonable(value: Any) -> Any:
    """JSON-ready copy: NaN/inf become None, numpy scalars Python numbers."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value
