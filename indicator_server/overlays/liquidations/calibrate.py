"""Per-market calibration of the liquidation model: fit its free parameters to what the market lets us observe.

Free parameters: tier weights over a rich tier grid (``GRID_TIERS``; zero-weight tiers are dropped), the holding
time (``volume_half_life_hours`` of the volume flow, ``decay_half_life_hours`` of the OI flows, with its leverage
exponent ``half_life_leverage_exponent`` set per kind of observation, ``ALPHAS``), the flow source
(volume / oi / blend where open interest exists), the side split (taker / candle / ratio where present) and
``notional_scale``. Observables, best first:
- "prints per bar": the bars' ``long_liquidated_usd`` / ``short_liquidated_usd`` (a venue's liquidation prints);
- "period totals": ``observed`` (time = period start ms, long_usd, short_usd), e.g. Coinglass daily totals, the
  model's swept series summed to those periods;
- open interest: the model's implied open notional should track it (constrains the holding time and flow);
- "open interest only": then only the volume flow's half-life (and split) is chosen: the one nearest the half-life
  implied by open interest's turnover (fit.turnover_half_life); weights stay the prior.

Method (basis.py, fit.py): the swept notional is linear in the tier weights, so each candidate (flow, holding time,
split) costs one re-weighting of levels swept once. Its weights are fitted by reweighted ridge NNLS on the first
``1 - VALIDATION_SHARE`` of the observations and it is scored on the rest: score = mean(Spearman long, short) -
``LOG_ERROR_WEIGHT`` x mean |log error| of the held-back rows. The correlation of the implied open notional with
open interest and the OI turnover half-life are reported (the latter chooses the half-life when no liquidations
are observed). A structure
other than the prior's must beat the prior's by ``PRIOR_MARGINS`` / sqrt(validation periods), about the noise of the
score: the defaults are the prior for the discrete choices too. The best candidate is refitted on every
observation, its level set by the ratio of totals (modelled USD sum = observed sum; the reweighted fit alone is
biased low on heavy tails). Pure maths, deterministic: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import flow
from .basis import Basis, Candidate, build_sweeps, candidate_basis, candidate_params
from .fit import Rows, fit_weights, side_scores, tracking, turnover_half_life
from .observe import MIN_CALIBRATION_BARS, Observed, data_info, observations
from .params import LiquidationParams

__all__ = ["CALIBRATION_BARS", "CALIBRATION_BARS_WITHOUT_PRINTS", "MIN_CALIBRATION_BARS", "Calibration",
           "calibrate_liquidations", "calibration_bars_for"]

GRID_TIERS = (2.0, 3.0, 5.0, 10.0, 20.0, 25.0, 50.0, 75.0, 100.0, 125.0)
HALF_LIVES = (4.0, 8.0, 12.0, 24.0, 48.0, 96.0, 168.0)  # hours, volume flow
OI_DECAYS = (None, 24.0, 72.0)  # hours, oi / blend flows
# half_life_leverage_exponent of the candidates per kind of observation (tier L holds half-life x (L / 10)^-alpha)
# unless the user fixes it; the prior's structure is compared at the first. Prints per bar: chosen on the sim's
# tuning seeds (1-3 of every regime, windows before 2025-05-01) among fixed 0 / 0.25 / 0.5 / 0.75 / 1 and fitted
# among (0, 0.5), (0.5, 0) or (0, 0.5, 1): fixed 0.5 had the best median largest-cluster errors (5.6 / 3.5 % vs
# 5.6 / 4.9 % at 0), lift (1.97 vs 1.83) and swept timing (0.91 / 0.93 vs 0.90 / 0.90). Period totals: daily
# totals do not tell it (real days before 2025-05-01, calibrated before 04-01 / 03-01, scored to 04-30: Spearman
# 0.943 / 0.939 at 0, 0.937 / 0.951 at 0.5), so the prior's stays; open interest alone says nothing of it. Kinds not
# listed keep the prior's exponent.
ALPHAS = {"prints per bar": (0.5,)}
SPLIT_CHOICES = ("taker", "candle", "ratio")
FITTED_FIELDS = ("flow_source", "volume_half_life_hours", "decay_half_life_hours", "half_life_leverage_exponent",
                 "split", "leverage_tiers", "leverage_weights", "notional_scale")
# Bars a calibration is fitted on (ending at the request's last bar). 1h: 180 days, chosen on the sim's tuning seeds
# (1-3 of every regime, windows ending before 2025-05-01) among 720 / 1080 / 1440 / 2160 / 4320 / 8760: low-leverage
# tiers sit 10-20 % from the price and are swept only by the window's largest moves, so a month of prints barely
# tells their weight (median largest-cluster error 5.6 / 3.5 %, lift 1.97 at 720 bars; 3.0 / 1.0 %, 2.09 at 4320;
# 2.5 / 1.0 %, 2.15 at 8760, whose fit takes ~3 s against ~0.4 s). Other timeframes: not tuned.
CALIBRATION_BARS: dict[str, int] = {"1m": 2880, "5m": 2016, "15m": 2016, "30m": 1440, "1h": 4320, "2h": 720,
                                    "4h": 540, "6h": 480, "12h": 365, "1d": 365}
# Without liquidation prints only open interest's turnover is fitted (weights stay the prior's), which a month tells
# as well as half a year; and a venue without prints (Binance) would otherwise fetch 180 days on a first request.
CALIBRATION_BARS_WITHOUT_PRINTS: dict[str, int] = {**CALIBRATION_BARS, "1h": 720}


def calibration_bars_for(timeframe: str, *, prints: bool) -> int:
    """Bars of history a calibration of ``timeframe`` wants (``prints``: the venue publishes liquidations)."""
    table = CALIBRATION_BARS if prints else CALIBRATION_BARS_WITHOUT_PRINTS
    return table.get(timeframe, max(table.values()))
VALIDATION_SHARE = 0.3
MIN_VALIDATION_ROWS = 8
LOG_ERROR_WEIGHT = 0.25  # score = Spearman - this x mean |log error|: ranks alone barely tell half-lives apart
# score -= this x |log2(half-life / OI turnover half-life)| for the volume flow when liquidations are observed: 0.02,
# 0.05, 0.2 moved no median of the where-scores beyond noise on 18 tuning cases, so it is off there; with open
# interest only, the candidate nearest the turnover half-life wins (fit.turnover_half_life).
TURNOVER_WEIGHT = 0.0
# (The correlation of implied open notional with OI, quality.validation.oi_tracking, is reported, not scored:
# weighted 0.5 into the score it chose the OI flows, whose open notional is built from OI and tracks it by design.)
# / sqrt(validation periods): what a structure other than the prior's must gain (about its noise), per kind of
# observation. Period totals: 0.3 of 0.1 / 0.3 / 1.0 tried on real days before 2025-05-01 (calibrate before 04-01
# / 03-01, score the days after, to 04-30). Prints per bar: 0.1 (0 / 0.1 / 0.3 alike on the sim's tuning seeds;
# 0.1 still lets exact observations move the prior's half-life, test_calibrate).
PRIOR_MARGINS = {"prints per bar": 0.1, "period totals": 0.3, "open interest only": 0.1}
# Ridge pull to the prior per kind of observation (fit.RIDGE's meaning): per-bar prints carry hundreds of rows
# (chosen on the sim's tuning seeds), period totals a few dozen (0.001 / 0.01 / 0.1 tried on the real days above).
RIDGES = {"prints per bar": 0.001, "period totals": 0.1}
DROP_SHARE = 1e-3  # tiers below this share of the fitted total are dropped


@dataclass(frozen=True)
class Calibration:
    """``params``: the prior with the fitted fields replaced; ``info``: JSON-ready, for meta.model["calibration"]:
    method ("fitted" | "prior"), fitted {field: value} (those that differ from the prior), prior {field: value},
    data {bars, first, last, observations (kind), observations_count, oi_turnover_half_life_hours,
    oi_open_share_of_volume}, quality {score, validation, in_sample, candidates, best}, warnings [...]."""

    params: LiquidationParams
    info: dict[str, Any]


def calibrate_liquidations(bars: pd.DataFrame, prior: LiquidationParams | None = None, *,
                           observed: pd.DataFrame | None = None, fix: Iterable[str] = ()) -> Calibration:
    """The prior with its free parameters fitted to ``bars`` (and ``observed`` period totals); ``fix`` names
    parameters the user set, never fitted. See the module docstring; ``info`` is JSON-ready."""
    prior = prior or LiquidationParams()
    fixed = set(fix)
    n = len(bars)
    obs = observations(bars, observed)
    info: dict[str, Any] = {"method": "prior", "fitted": {}, "prior": _echo(prior), "data": data_info(bars, obs),
                            "quality": {}, "warnings": []}
    if n < MIN_CALIBRATION_BARS:
        info["warnings"].append(f"only {n} bars: calibration needs {MIN_CALIBRATION_BARS}+, the prior is used")
        return Calibration(prior, info)
    oi = flow.open_interest_base(bars) * flow.column(bars, "close")
    has_oi = int(np.isfinite(oi).sum()) >= MIN_CALIBRATION_BARS
    if obs.kind == "none" and not has_oi:
        info["warnings"].append("no liquidation observations and no open interest: the prior is used")
        return Calibration(prior, info)
    if obs.kind == "none":
        obs.kind = "open interest only"
        info["data"]["observations"] = "open interest only"
    weights_fixed = bool({"leverage_tiers", "leverage_weights"} & fixed)
    tiers = prior.leverage_tiers if weights_fixed else tuple(sorted(set(GRID_TIERS) | set(prior.leverage_tiers)))
    prior_w = np.array([dict(zip(prior.leverage_tiers, flow.tier_weights(prior), strict=True)).get(t, 0.0)
                        for t in tiers])
    sweeps = build_sweeps(bars, prior, tiers)
    turnover = turnover_half_life(flow.open_interest_base(bars), flow.column(bars, "volume"), flow.bar_hours(bars)) \
        if has_oi else (float("nan"), float("nan"))
    info["data"]["oi_turnover_half_life_hours"], info["data"]["oi_open_share_of_volume"] = turnover
    results, cache = [], {}
    for cand, params in _candidates(bars, prior, fixed, has_oi, obs.kind):
        basis = candidate_basis(bars, sweeps, params, cand, cache)
        result = _score(basis, params, obs, prior_w, oi, weights_fixed, prior, np.isfinite(turnover[0]))
        if basis.used_flow == "volume" and np.isfinite(turnover[0]) and params.decay_half_life_hours is None:
            off = abs(np.log2(params.volume_half_life_hours / turnover[0]))
            result["validation"]["turnover_log2_error"] = off
            result["score"] = -off if obs.rows is None else result["score"] - TURNOVER_WEIGHT * off
        result["basis"] = basis
        results.append(result)
    for r in results:  # the prior's structure is kept unless another beats it by a margin
        if _structure(r["params"]) != _prior_structure(prior, fixed, obs.kind):
            r["score"] -= PRIOR_MARGINS[obs.kind] / np.sqrt(max(r.get("periods", 1), 1))
    results.sort(key=lambda r: -r["score"] if np.isfinite(r["score"]) else np.inf)
    best = results[0]
    if not np.isfinite(best["score"]):
        info["warnings"].append("the observations do not rank against any candidate (no liquidations, or no "
                                "modelled ones): the prior is used")
        return Calibration(prior, _jsonable(info))
    info["warnings"].extend(best["warnings"])
    w = best["w_all"] = _refit(best, prior_w, weights_fixed)
    if has_oi and "oi_tracking" not in best["validation"]:  # in sample, after the warm-up
        best["validation"]["oi_tracking"] = tracking(best["basis"].open[obs.first:] @ w, oi[obs.first:])
    fitted = _fitted_params(best["params"], tiers, w, prior, fixed, weights_fixed, obs.kind)
    info["method"] = "fitted"
    info["fitted"] = {k: v for k, v in _echo(fitted).items() if info["prior"].get(k) != v}
    info["quality"] = {"score": best["score"], "validation": best["validation"], "in_sample": best["in_sample"],
                       "candidates": len(results),
                       "best": [{"candidate": r["label"], "score": r["score"]} for r in results[:5]]}
    return Calibration(fitted, _jsonable(info))


def _candidates(bars: pd.DataFrame, prior: LiquidationParams, fixed: set[str], has_oi: bool, kind: str):
    """(candidate, params) pairs, deduplicated. Without liquidation observations only the volume flow is tried:
    an OI flow's open notional is built from open interest, so tracking it would choose the OI flows by
    construction."""
    liq = kind != "open interest only"
    ratio = np.isfinite(flow.column(bars, "long_short_ratio")).any() or np.isfinite(
        flow.column(bars, "long_account")).any()
    splits = (prior.split,) if "split" in fixed else tuple(s for s in SPLIT_CHOICES if s != "ratio" or ratio)
    flows = (prior.flow_source,) if "flow_source" in fixed else (("volume", "oi", "blend") if has_oi and liq else
                                                                  ("volume",))
    seen, out = set(), []
    for f in flows:
        if f == "volume":
            lives = (prior.volume_half_life_hours,) if "volume_half_life_hours" in fixed else HALF_LIVES
        else:
            lives = (prior.decay_half_life_hours,) if "decay_half_life_hours" in fixed else OI_DECAYS
        alphas = _alphas(prior, fixed, kind)
        for hl in lives:
            for s in splits:
                for alpha in alphas:
                    cand = Candidate(f, hl, s, alpha)
                    params = candidate_params(prior, cand, fixed)
                    key = _structure(params)
                    if key not in seen:
                        seen.add(key)
                        out.append((cand, params))
    return out


def _score(basis: Basis, params: LiquidationParams, obs: Observed, prior_w: np.ndarray, oi: np.ndarray,
           weights_fixed: bool, prior: LiquidationParams, has_turnover: bool) -> dict[str, Any]:
    """Validation score of one candidate (with open interest only: its OI tracking, used when OI gives no
    turnover half-life)."""
    warnings: list[str] = []
    if obs.rows is None:  # open interest only: weights stay the prior's
        w_all = prior_w * prior.notional_scale
        val = {} if has_turnover else {"oi_tracking": tracking(basis.open[obs.first:] @ w_all, oi[obs.first:])}
        return {"label": basis.candidate.label(), "params": params, "w_all": w_all,
                "score": val.get("oi_tracking", 0.0), "validation": val, "in_sample": {}, "warnings": warnings}
    rows: Rows = obs.rows(basis)
    order = np.unique(rows.order)
    cut = order[int(len(order) * (1 - VALIDATION_SHARE))] if len(order) else 0
    train, valid = rows.take(rows.order < cut), rows.take(rows.order >= cut)
    if len(valid) < 2 * MIN_VALIDATION_ROWS or len(train) < 2 * MIN_VALIDATION_ROWS:
        warnings.append(f"only {len(order)} observation periods: the candidate is chosen in sample")
        train = valid = rows
    ridge = RIDGES[obs.kind]
    w_train = _level(_fit(train, prior_w, weights_fixed, ridge), train)
    val = side_scores(valid, w_train)
    ranks = [v for v in (val["spearman_long"], val["spearman_short"]) if np.isfinite(v)]
    timing = float(np.mean(ranks)) - LOG_ERROR_WEIGHT * val["log_error"] if ranks else -np.inf
    score = timing if np.isfinite(timing) else -np.inf
    return {"label": basis.candidate.label(), "params": params, "rows": rows, "score": score, "validation": val,
            "in_sample": {}, "warnings": warnings, "periods": len(np.unique(valid.order)), "ridge": ridge}


def _refit(best: dict[str, Any], prior_w: np.ndarray, weights_fixed: bool) -> np.ndarray:
    """The chosen candidate's weights on every observation (and its in-sample scores)."""
    if "rows" not in best:
        return best["w_all"]
    rows = best["rows"]
    w = _level(_fit(rows, prior_w, weights_fixed, best["ridge"]), rows)
    best["in_sample"] = side_scores(rows, w)
    return w


def _level(w: np.ndarray, rows: Rows) -> np.ndarray:
    """The relative-error fit sets the shape; the level is the ratio of totals (modelled sum = observed sum)."""
    modelled = float((rows.x @ w).sum())
    return w * float(rows.y.sum()) / modelled if modelled > 0 else w


def _structure(p: LiquidationParams) -> tuple:
    return (p.flow_source, p.split, p.decay_half_life_hours, p.volume_half_life_hours if p.flow_source == "volume"
            else None, p.half_life_leverage_exponent)


def _alphas(prior: LiquidationParams, fixed: set[str], kind: str) -> tuple[float, ...]:
    """The leverage exponents tried: ``ALPHAS`` of the kind of observation, else the prior's; the prior's too when
    the user fixes it or a half-life (a half-life given is every tier's unless an exponent is given with it)."""
    own = (prior.half_life_leverage_exponent,)
    user = {"half_life_leverage_exponent", "volume_half_life_hours", "decay_half_life_hours"} & fixed
    return own if user else ALPHAS.get(kind, own)


def _prior_structure(prior: LiquidationParams, fixed: set[str], kind: str) -> tuple:
    """The prior's structure at the candidates' first exponent (``_alphas``)."""
    return _structure(prior.replace(half_life_leverage_exponent=_alphas(prior, fixed, kind)[0]))


def _fit(rows: Rows, prior_w: np.ndarray, weights_fixed: bool, ridge: float) -> np.ndarray:
    if weights_fixed:
        shape = prior_w / prior_w.sum()
        scale = fit_weights(Rows((rows.x @ shape)[:, None], rows.y, rows.side, rows.order), np.ones(1))
        return shape * float(scale[0])
    return fit_weights(rows, prior_w, ridge=ridge)


def _fitted_params(params: LiquidationParams, tiers: tuple[float, ...], w: np.ndarray, prior: LiquidationParams,
                   fixed: set[str], weights_fixed: bool, kind: str) -> LiquidationParams:
    changes: dict[str, Any] = {}
    total = float(w.sum())
    if total > 0 and kind != "open interest only":
        if not weights_fixed:
            keep = w >= DROP_SHARE * total
            changes["leverage_tiers"] = tuple(float(t) for t, k in zip(tiers, keep, strict=True) if k)
            kept = w[keep] / w[keep].sum()
            changes["leverage_weights"] = tuple(round(float(x), 6) for x in kept)
            total = float(w[keep].sum())
        if "notional_scale" not in fixed:
            changes["notional_scale"] = float(f"{total:.6g}")
    return params.replace(**changes)


def _echo(params: LiquidationParams) -> dict[str, Any]:
    full = params.to_dict()
    return {k: full[k] for k in FITTED_FIELDS}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value
