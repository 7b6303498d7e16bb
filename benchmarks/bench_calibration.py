"""Per-market calibration of the liquidation model: speed, recovery on the sim, where-accuracy, real timing.

Run from the repo root: ``python -m benchmarks.bench_calibration`` (``--quick``: fewer sim cases; ``--part speed``
/ ``sim`` / ``real`` for one part).

- speed: ``calibrate_liquidations`` on 720 1h bars (sim BTCUSDT with per-bar prints; real BTCUSDT with daily
  totals), median of repeats.
- sim (held-out seeds <code>7-9 of every regime, windows ending after 2025-05-01; the calibration's constants were
  chosen on seeds <code>1-3 and TUNE* symbols, windows before it; ``--tuning`` shows those): each case's model is
  calibrated on the ``CALIBRATION_BARS["1h"]`` bars (``--calibration-bars N``: N) ending at the case's end (causal)
  against the sim's per-bar liquidations (prints, or ``true_liquidations(value="liquidation")``), then scored by
  ``accuracy_sim.evaluate_case`` (720-bar window) next to the defaults; the fitted leverage mix (low <= 10x,
  medium, high >= 50x) next to the true opened-notional mix of ``positions()``, and the fitted half-life (at 10x,
  with its leverage exponent ``a``: tier L holds it x (L / 10)^-a) next to the true median holding time.
- real: calibrated on Binance BTCUSDT 1h bars before 2025-05-01 against Coinglass daily totals; held-out
  (2025-05-01..2025-09-08) daily Spearman long/short and modelled/real totals.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np
import pandas as pd

from indicator_server.accuracy.sim_scores import observed_per_bar
from indicator_server.market.sim import SimSource
from indicator_server.overlays.liquidations import LEVERAGE_GROUPS, LiquidationParams, estimate_liquidations
from indicator_server.overlays.liquidations.calibrate import CALIBRATION_BARS, calibrate_liquidations

from . import _data
from .accuracy_sim import evaluate_case, sim_bars

CLOCK = pd.Timestamp("2026-01-01", tz="UTC").timestamp()
TIMEFRAME = "1h"
# Seeds as indicator_server.accuracy scores them: tune on <code>1-3 (windows ending before 2025-05-01), score on
# <code>7-9 (windows ending after it); codes are the sim's regimes (SIM = default; HOLD, SCALP, TREND, RANGE).
CODES = ("SIM", "HOLD", "SCALP", "TREND", "RANGE")
TUNING_SEEDS, SCORED_SEEDS = (1, 2, 3), (7, 8, 9)
TUNING_ENDS, SCORED_ENDS = ("2024-09-01", "2025-02-01"), ("2025-06-01", "2025-08-15", "2025-11-01")
KEYS = ("map_spearman_long", "map_spearman_short", "largest_cluster_error_pct_long",
        "largest_cluster_error_pct_short", "cluster_lift", "daily_swept_spearman_long",
        "daily_swept_spearman_short")
HEADS = ("mapL", "mapS", "errL%", "errS%", "lift", "swpL", "swpS")


def _ms(day: str) -> int:
    return int(pd.Timestamp(day, tz="UTC").value // 1_000_000)


def regime_codes() -> tuple[str, ...]:
    try:
        from indicator_server.market.sim.regimes import REGIMES  # noqa: F401  (lands with the regime sim)
    except ImportError:
        return ("SIM",)
    return CODES


def evaluate(source: SimSource, symbol: str, end: str, n: int, params: LiquidationParams) -> dict[str, Any]:
    out = evaluate_case(source, symbol, end, n, params)
    if "cluster_lift" not in out:  # the earlier accuracy_sim scored the difference, not the ratio
        cover = out["range_covered_by_clusters_pct"]
        out["cluster_lift"] = out["true_notional_in_clusters_pct"] / cover if cover else float("nan")
    return out


def sim_calibration_bars(source: SimSource, symbol: str, end_ms: int, n: int) -> pd.DataFrame:
    """The model's input bars ending at ``end_ms`` with the sim's per-bar liquidations (its prints summed per bar:
    ``indicator_server.accuracy.sim_scores.observed_per_bar``, as the accuracy command gives them)."""
    return observed_per_bar(source, symbol, sim_bars(source, symbol, end_ms, n))


def group_mix(tiers, weights) -> dict[str, float]:
    w = np.asarray(weights, dtype="float64")
    t = np.asarray(tiers, dtype="float64")
    return {g: float(w[(t >= lo) & (t <= hi)].sum() / w.sum()) for g, (lo, hi) in LEVERAGE_GROUPS.items()}


def true_mix(source: SimSource, symbol: str, start: int, end: int) -> tuple[dict[str, float], float]:
    """Opened-notional leverage mix of the sim's cohorts, their median holding time and ln 2 x their
    notional-weighted mean holding time (hours, closed ones: the half-life of an exponential with that mean)."""
    pos = source.positions(symbol, TIMEFRAME, start, end)
    mix = pos.groupby("leverage")["notional_usd"].sum()
    held = (pos["closed_at"] - pos["opened_at"]) / 3_600_000
    mean = float((held * pos["notional_usd"]).sum() / pos["notional_usd"][held.notna()].sum())
    return group_mix(mix.index, mix.to_numpy()), float(np.nanmedian(held)), float(np.log(2) * mean)


def speed(repeats: int = 7) -> dict[str, float]:
    source = SimSource(clock=lambda: CLOCK)
    bars = sim_calibration_bars(source, "SIM7USDT", _ms("2025-08-15"), 720)
    out = {"sim_prints_720_ms": _timed(lambda: calibrate_liquidations(bars), repeats)}
    if _data.available():
        real = _data.load_real_bars("2025-03-01", "2025-04-01").frame.iloc[-720:]
        obs = coinglass_observed()
        out["real_daily_720_ms"] = _timed(lambda: calibrate_liquidations(real, observed=obs), repeats)
    return out


def _timed(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times) * 1000)


def sim_cases(quick: bool = False, tuning: bool = False, window: int = 720,
              calibration_bars: int | None = None) -> dict[str, Any]:
    """Defaults vs calibrated on the scored seeds x ends (``tuning``: the tuning ones) of every regime; the
    calibration sees ``calibration_bars`` bars ending at the case's end (default ``CALIBRATION_BARS["1h"]``)."""
    source = SimSource(clock=lambda: CLOCK)
    seeds, ends = (TUNING_SEEDS, TUNING_ENDS) if tuning else (SCORED_SEEDS, SCORED_ENDS)
    if quick:
        seeds, ends = seeds[:1], ends[1:2]
    symbols = [f"{code}{seed}USDT" for code in regime_codes() for seed in seeds]
    rows = []
    for symbol in symbols:
        for end in ends:
            end_ms = _ms(end)
            bars = sim_calibration_bars(source, symbol, end_ms, calibration_bars or CALIBRATION_BARS["1h"])
            cal = calibrate_liquidations(bars)
            p = cal.params
            mix, hold, mean_hl = true_mix(source, symbol, int(bars["time"].iloc[0]), end_ms)
            row = {"symbol": symbol, "end": end, "fitted": cal.info["fitted"],
                   "fitted_mix": group_mix(p.leverage_tiers, p.leverage_weights), "true_mix": mix,
                   "fitted_half_life_h": p.volume_half_life_hours if p.flow_source == "volume"
                   else p.decay_half_life_hours, "fitted_alpha": p.half_life_leverage_exponent,
                   "flow": p.flow_source, "true_median_hold_h": hold,
                   "oi_turnover_half_life_h": cal.info["data"].get("oi_turnover_half_life_hours"),
                   "true_mean_hold_half_life_h": mean_hl}
            for name, params in (("default", LiquidationParams()), ("calibrated", p)):
                row[name] = evaluate(source, symbol, end, window, params)
            row["resolution"] = map_resolution(source, symbol, end, {"default": LiquidationParams(), "calibrated": p})
            rows.append(row)
    return {"cases": rows, "median": {name: {k: float(np.nanmedian([r[name][k] for r in rows])) for k in KEYS}
                                      for name in ("default", "calibrated")}}


RESOLUTIONS = (500, 100, 50)


def map_resolution(source: SimSource, symbol: str, end: str, named: dict[str, LiquidationParams],
                   n: int = 720) -> dict[str, dict[int, tuple[float, float]]]:
    """Map Spearman (long, short) at several bin counts over +-map_range_pct, for each params and for an oracle
    that knows every open cohort but places it at its bar's VWAP (the model's entry), not its own entry price."""
    bars = sim_bars(source, symbol, _ms(end), n)
    at = int(bars["time"].iloc[-1])
    pos = source.positions(symbol, TIMEFRAME, at - 15 * 86_400_000, at)
    pos = pos[pos["closed_at"].isna() | (pos["closed_at"] > at)]
    vwap = dict(zip(bars["time"], bars["quote_volume"] / bars["volume"], strict=True))
    entry, lev = pos["opened_at"].map(vwap).to_numpy(), pos["leverage"].to_numpy()
    is_long = (pos["side"] == "long").to_numpy()
    liq = np.where(is_long, entry * (1 - 1 / lev) / 0.996, entry * (1 + 1 / lev) / 1.004)  # sim's MMR 0.4 %
    out: dict[str, dict[int, tuple[float, float]]] = {name: {} for name in [*named, "oracle (VWAP entry)"]}
    for bins in RESOLUTIONS:
        for name, params in named.items():
            m = estimate_liquidations(bars, params, bins=bins, include=("map",)).map
            edges = np.append(m["price_low"], m["price_high"][-1])
            truth = source.true_liquidation_map(symbol, TIMEFRAME, at, edges)
            out[name][bins] = tuple(_data.spearman(pd.Series(m[f"{s}_usd"]), truth[f"{s}_usd"])
                                    for s in ("long", "short"))
        oracle = [np.histogram(liq[side], bins=edges, weights=pos["notional_usd"].to_numpy()[side])[0]
                  for side in (is_long, ~is_long)]
        out["oracle (VWAP entry)"][bins] = tuple(_data.spearman(pd.Series(o), truth[f"{s}_usd"])
                                                 for o, s in zip(oracle, ("long", "short"), strict=True))
    return out


def coinglass_observed() -> pd.DataFrame:
    real = _data.daily_real()
    times = (real.index - pd.Timestamp("1970-01-01")) // pd.Timedelta(milliseconds=1)
    return pd.DataFrame({"time": times.astype("int64"), "long_usd": real["long"].to_numpy(),
                         "short_usd": real["short"].to_numpy()})


def real_case() -> dict[str, Any]:
    """Calibrate on bars before 2025-05-01 (all of 2025 up to then), score the held-out days."""
    loaded = _data.load_real_bars("2025-01-01", "2025-09-09")
    bars, real = loaded.frame, _data.daily_real()
    tune_ms = _ms(_data.TUNE_END)
    history = bars[bars["time"] < tune_ms].reset_index(drop=True)
    obs = coinglass_observed()
    obs = obs[obs["time"] < tune_ms]
    out = {}
    for name, hist in (("last 720 bars", history.iloc[-720:]), ("2025-01-01..04-30", history)):
        cal = calibrate_liquidations(hist, observed=obs)
        swept = _model_daily(bars, cal.params)
        held = _data.window(swept, *_data.HELD_OUT), _data.window(real, *_data.HELD_OUT)
        out[name] = {"fitted": cal.info["fitted"], "quality": cal.info["quality"],
                     **{f"spearman_{s}": _data.spearman(held[0][s], held[1][s]) for s in ("long", "short", "total")},
                     **{f"ratio_{s}": float(held[0][s].sum() / held[1][s].sum()) for s in ("long", "short", "total")}}
    default = _model_daily(bars, LiquidationParams())
    held = _data.window(default, *_data.HELD_OUT), _data.window(real, *_data.HELD_OUT)
    out["defaults"] = {**{f"spearman_{s}": _data.spearman(held[0][s], held[1][s]) for s in ("long", "short")},
                       **{f"ratio_{s}": float(held[0][s].sum() / held[1][s].sum()) for s in ("long", "short")}}
    return out


def _model_daily(bars: pd.DataFrame, params: LiquidationParams) -> pd.DataFrame:
    from .accuracy_real import model_daily

    return model_daily(bars, params)


def _hours(value: float | None) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.0f}h"


def print_sim(result: dict[str, Any]) -> None:
    print(f"{'symbol':10}{'end':12}{'params':11}" + "".join(f"{h:>7}" for h in HEADS)
          + "   mix low/med/high fitted | true    half-life fitted | OI turnover | true ln2 x mean hold")
    for r in result["cases"]:
        for name in ("default", "calibrated"):
            cells = "".join(f"{r[name][k]:7.2f}" for k in KEYS)
            extra = ""
            if name == "calibrated":
                f, t = r["fitted_mix"], r["true_mix"]
                extra = (f"   {f['low']:.2f}/{f['medium']:.2f}/{f['high']:.2f} | {t['low']:.2f}/{t['medium']:.2f}/"
                         f"{t['high']:.2f}   {r['flow']} {r['fitted_half_life_h']} a{r['fitted_alpha']:g} | "
                         f"{_hours(r['oi_turnover_half_life_h'])} | {_hours(r['true_mean_hold_half_life_h'])}")
            print(f"{r['symbol']:10}{r['end']:12}{name:11}{cells}{extra}")
    for name, med in result["median"].items():
        print(f"{'median':22}{name:11}" + "".join(f"{med[k]:7.2f}" for k in KEYS))
    print("map Spearman long/short by resolution (bins over +-25 %), medians:")
    for name in result["cases"][0]["resolution"]:
        cells = [f"{b} bins {np.nanmedian([r['resolution'][name][b][0] for r in result['cases']]):.2f}/"
                 f"{np.nanmedian([r['resolution'][name][b][1] for r in result['cases']]):.2f}" for b in RESOLUTIONS]
        print(f"  {name:22}" + "   ".join(cells))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--part", choices=("speed", "sim", "real", "all"), default="all")
    parser.add_argument("--tuning", action="store_true", help="the sim part on the tuning seeds and ends")
    parser.add_argument("--calibration-bars", type=int, default=None,
                        help="bars the sim part's calibrations see (default: CALIBRATION_BARS['1h'])")
    args = parser.parse_args(argv)
    summary: dict[str, Any] = {}
    if args.part in ("speed", "all"):
        summary["speed"] = speed()
        print("calibration time (median ms):", json.dumps(summary["speed"]))
    if args.part in ("sim", "all"):
        summary["sim"] = sim_cases(args.quick, args.tuning, calibration_bars=args.calibration_bars)
        print_sim(summary["sim"])
    if args.part in ("real", "all") and _data.available():
        summary["real"] = real_case()
        for name, r in summary["real"].items():
            print(f"real held-out {name:20} Spearman long {r['spearman_long']:.3f} short {r['spearman_short']:.3f}"
                  f"  model/real totals long {r['ratio_long']:.2f} short {r['ratio_short']:.2f}"
                  + (f"  fitted {json.dumps(r['fitted'])}" if "fitted" in r else ""))
    print(json.dumps(summary, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
