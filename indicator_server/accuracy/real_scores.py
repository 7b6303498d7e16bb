"""Scores of every predictor on real BTC data: timing and totals vs Coinglass daily, held out; where-check vs prints.

- Bars: Binance BTCUSDT 1h klines with OKX open interest scaled to the whole market (``data.load_real_bars``),
  ``BARS_START`` .. the last Coinglass day. Every predictor runs causally over them (the model's swept series at a
  bar uses bars up to it only).
- Calibrated model: ``calibrate_liquidations`` on the bars before 2025-05-01 with Coinglass's daily totals of
  those days as ``observed``; defaults: ``LiquidationParams()`` (their ``notional_scale`` was fitted on days
  before 2025-05-01 too). Baselines are not in liquidation USD: each gets the scale real / predicted over its
  tuning days (ratio of totals, days before 2025-05-01 with inputs after a week of warm-up), so its totals columns
  are comparable.
- Timing: Spearman of daily swept vs Coinglass daily long / short liquidations on the held-out days
  (2025-05-01 .. 2025-09-08). Totals: modelled / real on those days (``stats.ratio_stats``: ratio of totals,
  median daily ratio, share of days within 1.5x).
- Where-check: Binance forceOrder BTC prints (``data.load_force_orders``), grouped into recording periods; for each
  period every predictor's clusters as of the close of the last bar before its first print (``WHERE_BARS`` bars of
  history); capture = share of the prints' USD inside a cluster of the print's side, coverage = share of the
  +-map_range_pct range (0.05 % reference grid) the clusters cover (USD-weighted over periods), lift = capture /
  coverage, n = prints scored. Few prints exist (tens): a sanity check, not a measurement.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..overlays.liquidations import LiquidationParams
from ..overlays.liquidations.calibrate import Calibration, calibrate_liquidations
from . import data
from . import predictors as P
from .metrics import REFERENCE_BIN_PCT, cluster_masks, grid_of, prediction_clusters
from .predictors import Prediction
from .stats import SIDES, ratio_stats, spearman, to_daily, window

BARS_START = "2025-01-01"
WARMUP_DAYS = 7
WHERE_BARS = 2000
PERIOD_GAP_MS = 86_400_000
REAL_COLUMNS = ("timing_spearman_long", "timing_spearman_short", "totals_ratio", "median_daily_ratio",
                "days_within", "where_capture", "where_coverage", "where_lift", "where_n")


def _observed(real: pd.DataFrame, before: str) -> pd.DataFrame:
    days = real[real.index < pd.Timestamp(before)]
    return pd.DataFrame({"time": (days.index - pd.Timestamp("1970-01-01")) // pd.Timedelta(milliseconds=1),
                         "long_usd": days["long"].to_numpy(), "short_usd": days["short"].to_numpy()})


def _daily(pred: Prediction) -> pd.DataFrame:
    sw = pred.swept
    return to_daily(sw["time"].to_numpy(), sw["long_usd"].to_numpy(), sw["short_usd"].to_numpy())


def _tuning_scale(daily: pd.DataFrame, real: pd.DataFrame, first_input_ms: int) -> float:
    """real / predicted totals over the tuning days with inputs (after a warm-up week)."""
    start = pd.to_datetime(first_input_ms, unit="ms").normalize() + pd.Timedelta(days=WARMUP_DAYS)
    last = pd.Timestamp(data.TUNE_END) - pd.Timedelta(days=1)
    m, r = window(daily, str(start.date()), str(last.date())), window(real, str(start.date()), str(last.date()))
    both = pd.concat([m["total"], r["total"]], axis=1, keys=["m", "r"]).dropna()
    return float(both["r"].sum() / both["m"].sum()) if len(both) and both["m"].sum() > 0 else float("nan")


def calibrate_real(bars: pd.DataFrame, real: pd.DataFrame) -> Calibration:
    """The model calibrated on the bars before 2025-05-01 against Coinglass's daily totals of those days."""
    tuning_bars = bars[bars["time"] < data.ms(data.TUNE_END)].reset_index(drop=True)
    return calibrate_liquidations(tuning_bars, observed=_observed(real, data.TUNE_END))


OI_ONLY = "calibrated, OI only"
OI_ONLY_BARS = 720  # what the service fits on a venue without liquidation prints (calibration_bars_for)


def calibrate_oi_only(bars: pd.DataFrame) -> Calibration:
    """What the server answers on a venue without prints (Binance): the fit on open interest alone (its turnover
    chooses the half-life; weights and scale stay the prior's), on the last 720 bars before 2025-05-01."""
    tuning_bars = bars[bars["time"] < data.ms(data.TUNE_END)].reset_index(drop=True)
    return calibrate_liquidations(tuning_bars.iloc[-OI_ONLY_BARS:].reset_index(drop=True))


def timing_and_totals(bars: pd.DataFrame, real: pd.DataFrame, fitted: Calibration) -> dict[str, dict[str, float]]:
    """Per predictor: held-out Spearman per side and the totals columns (plus the OI-only fit's row)."""
    oi_only = calibrate_oi_only(bars)
    preds = [P.model_prediction(bars, LiquidationParams()),
             P.model_prediction(bars, fitted.params, P.CALIBRATED, fitted.info),
             P.model_prediction(bars, oi_only.params, OI_ONLY, oi_only.info),
             P.volume_prediction(bars), P.excursion_prediction(bars)]
    oi_first = int(bars.loc[np.isfinite(bars["open_interest_usd"]), "time"].iloc[0])
    out: dict[str, dict[str, float]] = {}
    for pred in preds:
        daily = _daily(pred)
        if pred.name in (P.VOLUME, P.EXCURSION):
            first = oi_first if pred.name == P.EXCURSION else int(bars["time"].iloc[0])
            daily = daily * _tuning_scale(daily, real, first)
        m, r = window(daily, *data.HELD_OUT), window(real, *data.HELD_OUT)
        row = {f"timing_spearman_{s}": spearman(m[s], r[s]) for s in SIDES}
        row.update({k: v for k, v in ratio_stats(m["total"], r["total"]).items() if k != "days"})
        out[pred.name] = row
    return out


def print_periods(prints: pd.DataFrame) -> list[pd.DataFrame]:
    """The prints split where more than a day passes between two of them (one recording each)."""
    if prints.empty:
        return []
    bounds = [0, *(np.flatnonzero(np.diff(prints["time"].to_numpy()) > PERIOD_GAP_MS) + 1), len(prints)]
    return [prints.iloc[a:z].reset_index(drop=True) for a, z in zip(bounds[:-1], bounds[1:], strict=True)]


def where_check(data_dir: Path | str | None, params: dict[str, LiquidationParams]) -> dict[str, dict[str, float]]:
    """Per predictor: capture / coverage / lift of the forceOrder prints (module doc) and n."""
    prints = data.load_force_orders("BTC", data_dir)
    names = [*params, P.VOLUME, P.EXCURSION]
    acc = {name: {"inside": 0.0, "usd": 0.0, "cover_usd": 0.0, "n": 0} for name in names}
    for period in print_periods(prints):
        first = int(period["time"].iloc[0])
        start = pd.to_datetime(first - (WHERE_BARS + 1) * 3_600_000, unit="ms").strftime("%Y-%m-%d %H:%M")
        end = pd.to_datetime(first, unit="ms").floor("h").strftime("%Y-%m-%d %H:%M")
        bars = data.load_real_bars(start, end, data_dir).frame
        if len(bars) < 2:
            continue
        preds = [*(P.model_prediction(bars, p, name) for name, p in params.items()),
                 P.volume_prediction(bars), P.excursion_prediction(bars)]
        for pred in preds:
            if pred.name == P.EXCURSION and not np.isfinite(bars["open_interest_usd"]).any():
                continue  # no open interest before OKX's file starts: the baseline has no map here
            clusters = prediction_clusters(pred)
            edges = grid_of(pred.price, REFERENCE_BIN_PCT, pred.params.map_range_pct)
            masks = cluster_masks(clusters, (edges[:-1] + edges[1:]) / 2)
            coverage = float((masks["long"] | masks["short"]).mean())
            side_masks = cluster_masks(clusters, period["price"].to_numpy())
            inside = np.where(period["side"] == "long", side_masks["long"], side_masks["short"])
            usd = period["usd"].to_numpy()
            a = acc[pred.name]
            a["inside"] += float(usd[inside].sum())
            a["usd"] += float(usd.sum())
            a["cover_usd"] += coverage * float(usd.sum())
            a["n"] += len(period)
    out = {}
    for name, a in acc.items():
        capture = a["inside"] / a["usd"] if a["usd"] else float("nan")
        coverage = a["cover_usd"] / a["usd"] if a["usd"] else float("nan")
        out[name] = {"where_capture": capture, "where_coverage": coverage,
                     "where_lift": capture / coverage if coverage and coverage > 0 else float("nan"),
                     "where_n": float(a["n"])}
    return out


def run_real(data_dir: Path | str | None = None) -> dict[str, Any]:
    """The real-data block: per predictor every REAL_COLUMNS value, with the data notes and the calibration."""
    real = data.daily_real(data_dir)
    last_day = real.index.max() + pd.Timedelta(days=1)
    loaded = data.load_real_bars(BARS_START, str(last_day.date()), data_dir)
    fitted = calibrate_real(loaded.frame, real)
    rows = timing_and_totals(loaded.frame, real, fitted)
    where = where_check(data_dir, {P.MODEL: LiquidationParams(), P.CALIBRATED: fitted.params,
                                   OI_ONLY: calibrate_oi_only(loaded.frame).params})
    for name in rows:
        rows[name].update(where.get(name, {}))
    return {"bars": {"first": BARS_START, "last": str(real.index.max().date()), "count": len(loaded.frame)},
            "held_out_days": list(data.HELD_OUT), "notes": loaded.notes,
            "calibration": {k: fitted.info.get(k, {}) for k in ("fitted", "quality", "data")},
            "medians": rows}
