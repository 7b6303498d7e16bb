"""How well the liquidation model's swept notional tracks real daily BTC liquidations (Coinglass).

Run from the repo root: ``python -m benchmarks.accuracy_real`` (``--quick`` for a short grid). This is the study that
chose the model's defaults on days before 2025-05-01; the scores users reproduce (calibrated model and baselines
included) are ``indicator-server accuracy`` (``indicator_server.accuracy.real_scores``). Data loaders: ``_data``
(a wrapper of ``indicator_server.accuracy.data``).

Inputs: Binance BTCUSDT 1h klines + OKX hourly BTC open interest scaled to the whole market (benchmarks/_data.py).
The model runs causally over 2025-01-01..2025-09-08; its per-bar ``swept`` long/short USD is summed per UTC day and
compared with Coinglass's daily long/short liquidations by Spearman rank correlation.

Calibration rule: parameters are chosen on days before 2025-05-01 only; 2025-05-01..2025-09-08 is held out.
- Stage 1 picks the flow source ("oi", "volume", "blend") by its best in-sample score on the days every variant can
  be scored (2025-04-01..2025-04-30: OKX OI starts 2025-03-25, a week of warm-up).
- Stage 2 picks the chosen flow's other parameters on its longest in-sample window (the volume flow needs no OI:
  2025-01-08..2025-04-30).
Score = mean of the long and short Spearman. ``notional_scale`` = sum of real / sum of modelled liquidations over
the stage-2 window (ratio of totals), reported with the median ratio of daily totals.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from indicator_server.overlays.liquidations import LiquidationParams, estimate_liquidations

from . import _data

COMMON_IS = ("2025-04-01", "2025-04-30")  # every variant has inputs here
LONG_IS = {"volume": ("2025-01-08", "2025-04-30"), "oi": COMMON_IS, "blend": COMMON_IS}
LEVERAGE_MIXES = {
    "default": (0.15, 0.3, 0.25, 0.2, 0.1),
    "low-heavy": (0.3, 0.3, 0.2, 0.15, 0.05),
    "high-heavy": (0.05, 0.15, 0.25, 0.3, 0.25),
}
TARGETS = {"long": 0.90, "short": 0.85}
MARGIN_OVER_BASELINE = 0.08


@dataclass
class Variant:
    name: str
    overrides: dict[str, Any]

    def params(self, **extra: Any) -> LiquidationParams:
        return LiquidationParams.from_dict({**self.overrides, **extra})


def grid(quick: bool = False) -> list[Variant]:
    """Variants of the flow source and the assumptions that matter for it."""
    half_lives = (48, 72) if quick else (24, 48, 72, 120, 168, 336)
    decays = (None, 168) if quick else (None, 72, 168, 336)
    splits = ("taker",) if quick else ("taker", "candle")
    mixes = ("default",) if quick else tuple(LEVERAGE_MIXES)
    weights = (0.5,) if quick else (0.25, 0.5, 0.75)
    out: list[Variant] = []
    for split, mix in itertools.product(splits, mixes):
        common = {"split": split, "leverage_weights": LEVERAGE_MIXES[mix]}
        tag = f"split={split} lev={mix}"
        for hl in half_lives:
            out.append(Variant(f"volume hl={hl}h {tag}", {"flow_source": "volume", "volume_half_life_hours": hl,
                                                           **common}))
        for decay in decays:
            out.append(Variant(f"oi decay={decay} {tag}", {"flow_source": "oi", "decay_half_life_hours": decay,
                                                           **common}))
            for w in weights:
                out.append(Variant(f"blend w={w} decay={decay} {tag}",
                                   {"flow_source": "blend", "oi_weight": w, "decay_half_life_hours": decay,
                                    **common}))
    return out


def model_daily(bars: pd.DataFrame, params: LiquidationParams) -> pd.DataFrame:
    swept = estimate_liquidations(bars, params, include=("swept",)).swept
    return _data.to_daily(swept["time"].to_numpy(), swept["long_usd"].to_numpy(), swept["short_usd"].to_numpy())


def score_in(pred: pd.DataFrame, real: pd.DataFrame, days: tuple[str, str]) -> dict[str, float]:
    return _data.scores(_data.window(pred, *days), _data.window(real, *days))


def mean_ls(s: dict[str, float]) -> float:
    return (s["long"] + s["short"]) / 2


def tune(bars: pd.DataFrame, real: pd.DataFrame, variants: list[Variant]) -> tuple[list[dict], Variant]:
    rows = []
    for v in variants:
        daily = model_daily(bars, v.params())
        flow = v.overrides["flow_source"]
        common, longer = score_in(daily, real, COMMON_IS), score_in(daily, real, LONG_IS[flow])
        rows.append({"variant": v, "flow": flow, "common": common, "long_window": longer})
    best_by_flow = {}
    for row in rows:
        key = row["flow"]
        if key not in best_by_flow or mean_ls(row["common"]) > mean_ls(best_by_flow[key]["common"]):
            best_by_flow[key] = row
    flow = max(best_by_flow, key=lambda k: mean_ls(best_by_flow[k]["common"]))
    chosen = max((r for r in rows if r["flow"] == flow), key=lambda r: mean_ls(r["long_window"]))
    return rows, chosen["variant"]


def calibrate(bars: pd.DataFrame, real: pd.DataFrame, variant: Variant) -> dict[str, float]:
    """notional_scale from the in-sample ratio of totals; held-out ratios with that scale applied."""
    days = LONG_IS[variant.overrides["flow_source"]]
    unit = model_daily(bars, variant.params(notional_scale=1.0))
    m_in, r_in = _data.window(unit, *days), _data.window(real, *days)
    scale = float(r_in["total"].sum() / m_in["total"].sum())
    both = pd.concat([m_in["total"], r_in["total"]], axis=1, keys=["m", "r"]).dropna()
    both = both[both["m"] > 0]
    median_daily = float((both["r"] / both["m"]).median())
    scaled = model_daily(bars, variant.params(notional_scale=scale))
    m_out, r_out = _data.window(scaled, *_data.HELD_OUT), _data.window(real, *_data.HELD_OUT)
    out = {"notional_scale": scale, "median_daily_ratio_in_sample": median_daily, "calibration_days": list(days)}
    for side in ("long", "short", "total"):
        out[f"held_out_ratio_{side}"] = float(m_out[side].sum() / r_out[side].sum())
    out["held_out_real_total_usd"] = float(r_out["total"].sum())
    out["held_out_model_total_usd"] = float(m_out["total"].sum())
    return out


def held_out_table(bars, real, named: dict[str, LiquidationParams]) -> dict[str, dict[str, float]]:
    table = {}
    for name, params in named.items():
        table[name] = score_in(model_daily(bars, params), real, _data.HELD_OUT)
    for name, frame in _data.daily_baselines(bars).items():
        table[f"baseline: {name}"] = score_in(frame, real, _data.HELD_OUT)
    return table


def verdict(table: dict[str, dict[str, float]], model_name: str) -> dict[str, Any]:
    base = {k: v for k, v in table.items() if k.startswith("baseline")}
    out = {}
    for side, target in TARGETS.items():
        best = max(v[side] for v in base.values())
        got = table[model_name][side]
        out[side] = {"spearman": got, "target": target, "best_baseline": best,
                     "meets_target": got >= target, "beats_baseline_by_0.08": got >= best + MARGIN_OVER_BASELINE}
    return out


def fmt_table(rows: dict[str, dict[str, float]], title: str) -> str:
    width = max(len(k) for k in rows) + 2
    lines = [title, f"{'':{width}}{'long':>8}{'short':>8}{'total':>8}"]
    for name, s in rows.items():
        lines.append(f"{name:{width}}{s['long']:8.3f}{s['short']:8.3f}{s['total']:8.3f}")
    return "\n".join(lines)


def run(quick: bool = False, start: str = "2025-01-01", end: str = "2025-09-09") -> dict[str, Any]:
    loaded = _data.load_real_bars(start, end)
    bars, real = loaded.frame, _data.daily_real()
    rows, chosen = tune(bars, real, grid(quick))
    calibration = calibrate(bars, real, chosen)
    final = chosen.params(notional_scale=calibration["notional_scale"])
    base = {"split": "taker", "leverage_weights": LEVERAGE_MIXES["default"], "decay_half_life_hours": None}
    named = {
        "model oi (prototype settings)": LiquidationParams.from_dict({**base, "flow_source": "oi"}),
        "model volume 72h (prototype settings)": LiquidationParams.from_dict(
            {**base, "flow_source": "volume", "volume_half_life_hours": 72}),
        "model blend w=0.5": LiquidationParams.from_dict({**base, "flow_source": "blend", "oi_weight": 0.5}),
        f"model chosen: {chosen.name}": final,
    }
    table = held_out_table(bars, real, named)
    chosen_key = f"model chosen: {chosen.name}"
    top = sorted(rows, key=lambda r: -mean_ls(r["common"]))[:10]
    near = [score_in(model_daily(bars, r["variant"].params()), real, _data.HELD_OUT) for r in top]
    sensitivity = {side: [min(x[side] for x in near), float(np.median([x[side] for x in near])),
                          max(x[side] for x in near)] for side in ("long", "short", "total")}
    return {
        "notes": loaded.notes,
        "market_factor": loaded.market_factor,
        "oi_hours_forward_filled": loaded.filled_hours,
        "in_sample": [{"variant": r["variant"].name, "flow": r["flow"], "common_window": r["common"],
                       "long_window": r["long_window"]} for r in rows],
        "chosen": {"name": chosen.name, "overrides": _jsonable(chosen.overrides)},
        "calibration": calibration,
        "held_out": table,
        "held_out_days": list(_data.HELD_OUT),
        "verdict": verdict(table, chosen_key),
        "held_out_of_top10_in_sample": sensitivity,
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value


def report(summary: dict[str, Any], top: int = 15) -> str:
    ins = sorted(summary["in_sample"], key=lambda r: -mean_ls(r["common_window"]))
    rows = {f"{r['variant']}": r["common_window"] for r in ins[:top]}
    title = f"In-sample {COMMON_IS[0]}..{COMMON_IS[1]} (all variants), top {top} by mean(long, short)"
    parts = ["\n".join(summary["notes"]), fmt_table(rows, title)]
    best = {}
    for r in ins:
        best.setdefault(r["flow"], r)
    parts.append(fmt_table({f"best {k}: {r['variant']}": r["common_window"] for k, r in best.items()},
                           f"In-sample {COMMON_IS[0]}..{COMMON_IS[1]}, best variant of each flow source"))
    best_vol = sorted((r for r in ins if r["flow"] == "volume"), key=lambda r: -mean_ls(r["long_window"]))[:5]
    parts.append(fmt_table({r["variant"]: r["long_window"] for r in best_vol},
                           f"In-sample {LONG_IS['volume'][0]}..{LONG_IS['volume'][1]} (volume flow), top 5"))
    parts.append(f"Chosen: {summary['chosen']['name']}")
    cal = summary["calibration"]
    parts.append(
        f"Calibration ({cal['calibration_days'][0]}..{cal['calibration_days'][1]}, ratio of totals): notional_scale = "
        f"{cal['notional_scale']:.4g} (median daily ratio {cal['median_daily_ratio_in_sample']:.4g}); held-out "
        f"model/real totals: long {cal['held_out_ratio_long']:.2f}, short {cal['held_out_ratio_short']:.2f}, "
        f"total {cal['held_out_ratio_total']:.2f}")
    parts.append(fmt_table(summary["held_out"], f"Held-out {_data.HELD_OUT[0]}..{_data.HELD_OUT[1]} Spearman"))
    sens = summary["held_out_of_top10_in_sample"]
    parts.append("Sensitivity (not used for choosing): held-out Spearman of the 10 best in-sample variants, "
                 "min / median / max: "
                 + "; ".join(f"{k} {a:.3f} / {b:.3f} / {c:.3f}" for k, (a, b, c) in sens.items()))
    for side, v in summary["verdict"].items():
        parts.append(f"{side}: {v['spearman']:.3f} (target {v['target']}: {'met' if v['meets_target'] else 'NOT met'}; "
                     f"best baseline {v['best_baseline']:.3f} + 0.08: "
                     f"{'met' if v['beats_baseline_by_0.08'] else 'NOT met'})")
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small grid")
    args = parser.parse_args(argv)
    if not _data.available():
        print(f"data not found under {_data.DATA}", file=sys.stderr)
        return 2
    summary = run(quick=args.quick)
    print(report(summary))
    summary["in_sample"] = sorted(summary["in_sample"], key=lambda r: -mean_ls(r["common_window"]))[:20]
    print(json.dumps(_jsonable(summary), default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
