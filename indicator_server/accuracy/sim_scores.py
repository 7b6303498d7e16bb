"""Where- and when-scores of every predictor on the simulator's named regimes, held out.

A regime is chosen by symbol name (``market.sim.regimes``: HOLD* long-hold, SCALP* scalping, TREND* crowded-trend,
RANGE* range, any other symbol default) and each symbol is its own random seed. Held-out rule: calibration and
tuning may use the TUNING seeds (``<code>1USDT``..``<code>3USDT``) and windows ending before 2025-05-01; the table
scores the SCORED seeds (``<code>7USDT``..``<code>9USDT``) on windows ending on or after 2025-05-01. A case = one
symbol x one window of ``WINDOW_BARS`` 1h bars ending at one date; every predictor sees the window's bars
(klines, OI, long/short ratio, funding, as a user's request would) and the calibrated one also the window's
observed liquidation prints (``SimSource.fetch_liquidations`` per bar, or the true per-bar liquidations valued at
the liquidation price where the sim has no prints) of the ``calibration_bars_for(timeframe, prints=True)`` bars
ending at the scoring bar (what the service fits on; they may reach before the window), nothing after it: causal.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from ..market.assemble import assemble_bars
from ..market.sim import GENESIS_MS, SimSource
from ..overlays.liquidations import LiquidationParams
from ..overlays.liquidations.calibrate import calibration_bars_for
from ..timeframes import HOUR_MS
from . import predictors as P
from .metrics import score_map, score_timing
from .predictors import Prediction

TIMEFRAME = "1h"
CLOCK = pd.Timestamp("2026-01-01", tz="UTC").timestamp()
CODES = {"default": "SIM", "long-hold": "HOLD", "scalping": "SCALP", "crowded-trend": "TREND", "range": "RANGE"}
TUNING_SEEDS = (1, 2, 3)
SCORED_SEEDS = (7, 8, 9)
TUNE_END = "2025-05-01"
TUNING_ENDS = ("2024-09-01", "2025-02-01")
SCORED_ENDS = ("2025-06-01", "2025-08-15", "2025-11-01")
WINDOW_BARS = 2000
QUICK = {"seeds": SCORED_SEEDS[:1], "ends": SCORED_ENDS[1:2], "window": 720}
SIM_COLUMNS = ("map_spearman_long", "map_spearman_short", "grid_spearman_long", "grid_spearman_short",
               "largest_cluster_error_pct_long", "largest_cluster_error_pct_short", "capture", "coverage", "lift",
               "timing_spearman_long", "timing_spearman_short")


def regime_names() -> tuple[str, ...]:
    """The regimes the sim knows (only ``default`` before ``market.sim.regimes`` exists)."""
    try:
        from ..market.sim.regimes import REGIMES
    except ImportError:
        return ("default",)
    return tuple(name for name in CODES if name in REGIMES)


def symbol(regime: str, seed: int) -> str:
    return f"{CODES[regime]}{seed}USDT"


def ms(day: str) -> int:
    return int(pd.Timestamp(day, tz="UTC").value // 1_000_000)


def sim_bars(source: SimSource, sym: str, end_ms: int, n: int) -> pd.DataFrame:
    """The ``n`` 1h bars ending at the bar opening at ``end_ms``, assembled as the service does."""
    start = max(GENESIS_MS, end_ms - (n - 1) * HOUR_MS)
    kl = source.fetch_klines(sym, TIMEFRAME, start, end_ms).frame
    oi = source.fetch_open_interest(sym, TIMEFRAME, start, end_ms).frame
    ls = source.fetch_long_short_ratio(sym, TIMEFRAME, start, end_ms).frame
    fr = source.fetch_funding(sym, start, end_ms + HOUR_MS).frame
    return assemble_bars(kl, oi, fr, ls, HOUR_MS, sample_tolerance=HOUR_MS)


def observed_per_bar(source: SimSource, sym: str, bars: pd.DataFrame) -> pd.DataFrame:
    """The bars with ``long_liquidated_usd`` / ``short_liquidated_usd``: the sim's liquidation prints summed per
    bar (by print time), or its true per-bar liquidations at the liquidation price if it has no prints."""
    first, last = int(bars["time"].iloc[0]), int(bars["time"].iloc[-1])
    out = bars.copy()
    if hasattr(source, "fetch_liquidations"):
        prints = source.fetch_liquidations(sym, first, last + HOUR_MS - 1).frame
        idx = np.searchsorted(out["time"].to_numpy(), prints["time"].to_numpy(dtype="int64"), side="right") - 1
        for side in ("long", "short"):
            sel = (prints["side"].to_numpy() == side) & (idx >= 0)
            out[f"{side}_liquidated_usd"] = np.bincount(idx[sel], prints["usd"].to_numpy(dtype="float64")[sel],
                                                        minlength=len(out))[: len(out)]
        return out
    true = source.true_liquidations(sym, TIMEFRAME, first, last, value="liquidation")
    for side in ("long", "short"):
        out[f"{side}_liquidated_usd"] = true[f"{side}_liquidated_usd"].to_numpy()
    return out


def truth_prediction(source: SimSource, sym: str, bars: pd.DataFrame) -> tuple[Prediction, pd.DataFrame]:
    """The sim's own open positions (map) and liquidations (swept), valued at entry, as a predictor."""
    first, last = int(bars["time"].iloc[0]), int(bars["time"].iloc[-1])

    def true_map(edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        frame = source.true_liquidation_map(sym, TIMEFRAME, last, edges)
        return frame["long_usd"].to_numpy(dtype="float64"), frame["short_usd"].to_numpy(dtype="float64")

    liq = source.true_liquidations(sym, TIMEFRAME, first, last)
    swept = pd.DataFrame({"time": liq["time"], "long_usd": liq["long_liquidated_usd"],
                          "short_usd": liq["short_liquidated_usd"]})
    return Prediction(P.TRUTH, float(bars["close"].iloc[-1]), true_map, swept, LiquidationParams()), liq


def case_predictions(source: SimSource, sym: str, bars: pd.DataFrame,
                     params: LiquidationParams | None = None) -> list[Prediction]:
    """Every predictor of the table on one window (the calibration sees the prints of the calibration bars ending
    at the window's last bar)."""
    params = params or LiquidationParams()
    wanted = calibration_bars_for(TIMEFRAME, prints=True)
    history = sim_bars(source, sym, int(bars["time"].iloc[-1]), wanted) if wanted > len(bars) else bars
    recent = observed_per_bar(source, sym, history.iloc[-wanted:].reset_index(drop=True))
    return [P.model_prediction(bars, params), P.calibrated_prediction(bars, calibration_bars=recent),
            P.volume_prediction(bars, params), P.excursion_prediction(bars, params)]


def score_case(source: SimSource, sym: str, end: str, n: int, *, with_truth: bool = True) -> dict[str, Any]:
    """Scores of every predictor (and the truth as a reference) on one case."""
    bars = sim_bars(source, sym, ms(end), n)
    truth, true_liq = truth_prediction(source, sym, bars)
    preds = case_predictions(source, sym, bars) + ([truth] if with_truth else [])
    scores = {p.name: {**score_map(p, truth.map_on), **score_timing(p, true_liq)} for p in preds}
    calibrated = next(p for p in preds if p.name == P.CALIBRATED)
    return {"symbol": sym, "end": end, "bars": len(bars), "scores": scores,
            "calibration": {"params": calibrated.info.get("fitted", {}), "data": calibrated.info.get("data", {})}}


def medians(cases: list[dict[str, Any]], columns: Iterable[str] = SIM_COLUMNS,
            q: float = 50) -> dict[str, dict[str, float]]:
    """Per predictor, the ``q``-th percentile (default the median) of each column over the cases (NaN cases
    skipped; NaN if all are)."""
    names = list(dict.fromkeys(name for c in cases for name in c["scores"]))
    out: dict[str, dict[str, float]] = {}
    for name in names:
        out[name] = {}
        for col in columns:
            values = np.array([c["scores"][name].get(col, np.nan) for c in cases if name in c["scores"]], dtype=float)
            out[name][col] = float(np.nanpercentile(values, q)) if np.isfinite(values).any() else float("nan")
    return out


def run_regimes(regimes: Iterable[str] | None = None, quick: bool = False) -> dict[str, Any]:
    """Per regime: the scored symbols, ends, window, every case, the medians and quartiles per predictor."""
    source = SimSource(clock=lambda: CLOCK)
    seeds, ends, window = ((QUICK["seeds"], QUICK["ends"], QUICK["window"]) if quick
                           else (SCORED_SEEDS, SCORED_ENDS, WINDOW_BARS))
    out: dict[str, Any] = {}
    for regime in regimes or regime_names():
        symbols = [symbol(regime, s) for s in seeds]
        cases = [score_case(source, sym, end, window) for sym in symbols for end in ends]
        out[regime] = {"symbols": symbols, "ends": list(ends), "window_bars": window, "cases": cases,
                       "medians": medians(cases), "quartiles": {"q25": medians(cases, q=25),
                                                                "q75": medians(cases, q=75)}}
    return out
