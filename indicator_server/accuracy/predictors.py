"""The predictors the accuracy table scores, behind one shape: a map on any price edges and a swept series.

- "model defaults": ``estimate_liquidations`` with ``LiquidationParams()``;
- "model calibrated": the same with the parameters ``calibrate_liquidations`` fits on the bars given (causal: the
  caller passes only bars up to the scoring point, with whatever observations they carry);
- "volume at price" and "excursion x OI": the baselines of ``baselines.py``;
- "truth" (sim only, the reference ceiling): the sim's own open positions and liquidations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..overlays.liquidations import LiquidationParams, estimate_liquidations
from ..overlays.liquidations.calibrate import calibrate_liquidations
from . import baselines

MapFn = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
MODEL, CALIBRATED, VOLUME, EXCURSION, TRUTH = ("model defaults", "model calibrated", "volume at price",
                                               "excursion x OI", "truth (reference)")
PREDICTORS = (MODEL, CALIBRATED, VOLUME, EXCURSION)


@dataclass
class Prediction:
    """One predictor's answer as of the last bar: ``map_on(edges)`` = open (long, short) USD per bin of
    ``edges``; ``swept`` = time, long_usd, short_usd per bar; ``clusters`` = the predictor's own clusters when it
    reports them (the model), else None (found with the model's rule on ``params``' cluster grid)."""

    name: str
    price: float
    map_on: MapFn
    swept: pd.DataFrame
    params: LiquidationParams
    clusters: list[dict[str, Any]] | None = None
    info: dict[str, Any] = field(default_factory=dict)


def _levels_map(levels: pd.DataFrame) -> MapFn:
    sides = {s: levels[levels["side"] == s] for s in ("long", "short")}
    prices = {s: f["price"].to_numpy(dtype="float64") for s, f in sides.items()}
    usd = {s: f["open_usd"].to_numpy(dtype="float64") for s, f in sides.items()}

    def map_on(edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = []
        for s in ("long", "short"):
            live = usd[s] > 0
            out.append(np.histogram(prices[s][live], bins=np.asarray(edges, dtype="float64"),
                                    weights=usd[s][live])[0].astype("float64"))
        return out[0], out[1]

    return map_on


def model_prediction(bars: pd.DataFrame, params: LiquidationParams, name: str = MODEL,
                     info: dict[str, Any] | None = None) -> Prediction:
    """The model on ``bars``: its open levels binned on any edges, its clusters and its swept series."""
    result = estimate_liquidations(bars, params, include=("levels", "clusters", "swept"))
    return Prediction(name, float(result.price), _levels_map(result.levels), result.swept, params,
                      result.clusters, info or {})


def calibrated_prediction(bars: pd.DataFrame, observed: pd.DataFrame | None = None,
                          calibration_bars: pd.DataFrame | None = None) -> Prediction:
    """The model with parameters fitted by ``calibrate_liquidations`` on ``calibration_bars`` (default: ``bars``;
    bars may carry per-bar ``long_liquidated_usd`` / ``short_liquidated_usd``) and ``observed`` period totals,
    run on ``bars``."""
    fitted = calibrate_liquidations(bars if calibration_bars is None else calibration_bars, observed=observed)
    return model_prediction(bars, fitted.params, CALIBRATED, fitted.info)


def volume_prediction(bars: pd.DataFrame, params: LiquidationParams | None = None) -> Prediction:
    return Prediction(VOLUME, float(bars["close"].iloc[-1]), lambda e: baselines.volume_at_price_map(bars, e),
                      baselines.volume_at_price_swept(bars), params or LiquidationParams())


def excursion_prediction(bars: pd.DataFrame, params: LiquidationParams | None = None) -> Prediction:
    return Prediction(EXCURSION, float(bars["close"].iloc[-1]), lambda e: baselines.excursion_oi_map(bars, e),
                      baselines.excursion_oi_swept(bars), params or LiquidationParams())


def drop_observations(bars: pd.DataFrame) -> pd.DataFrame:
    """The bars without observed-liquidation columns (what the predictors other than the calibration see)."""
    return bars.drop(columns=[c for c in ("long_liquidated_usd", "short_liquidated_usd") if c in bars])
