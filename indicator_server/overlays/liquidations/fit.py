"""Fitting tier weights to observed liquidations: weighted non-negative least squares with a pull to the prior.

- Observation rows: per-bar prints, or period totals (the basis rows of the bars in a period summed), long and short
  rows stacked; both sides share one weight per tier.
- Heavy tails: liquidations span orders of magnitude (cascades), so plain least squares would fit a handful of bars.
  Rows are weighted as in a Tweedie quasi-likelihood with variance proportional to mu^p (McCullagh & Nelder,
  "Generalized Linear Models", 2nd ed. 1989, ch. 9, iteratively reweighted least squares): each iteration solves
  NNLS (Lawson & Hanson, "Solving Least Squares Problems", 1974, ch. 23; scipy.optimize.nnls) with row weights
  mu^(-p/2), mu the previous fit floored at ``FLOOR_SHARE`` x the mean observation. p = ``POWER`` = 1 (quasi-
  Poisson): chosen over 1.5 and 2 (Gamma, a relative-error fit that lets near-empty bars steer) on the sim's
  tuning seeds SIM1-3 (windows ending before 2025-05-01; ``python -m benchmarks.bench_calibration --tuning``) and
  on the synthetic recovery test. ``RIDGE`` is the default pull (calibrate.RIDGES sets it per kind of data).
- Prior pull (ridge, Tikhonov): augmented rows sqrt(lambda) (w - s x w_prior), s the weighted least-squares scale
  of the prior's own shape (so a few cascade days cannot inflate the target), and
  lambda = ``RIDGE`` x the mean diagonal of the weighted normal matrix, so the pull does not depend on units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import nnls
from scipy.stats import rankdata

POWER = 1.0
FLOOR_SHARE = 0.05
RIDGE = 0.001
ITERATIONS = 3


@dataclass
class Rows:
    """Observation rows: X (rows x K, liquidation-print units) and y (observed USD)."""

    x: np.ndarray
    y: np.ndarray
    side: np.ndarray  # 0 long, 1 short
    order: np.ndarray  # time order of the row (bar or period index), for the time split

    def take(self, mask: np.ndarray) -> Rows:
        return Rows(self.x[mask], self.y[mask], self.side[mask], self.order[mask])

    def __len__(self) -> int:
        return len(self.y)


def per_bar_rows(long_x: np.ndarray, short_x: np.ndarray, long_y: np.ndarray, short_y: np.ndarray,
                 first: int) -> Rows:
    """Rows for every bar from ``first`` with a finite observation, per side."""
    parts = []
    for side, x, y in ((0, long_x, long_y), (1, short_x, short_y)):
        t = np.flatnonzero(np.isfinite(y) & (np.arange(len(y)) >= first))
        parts.append((x[t], y[t], np.full(len(t), side), t))
    return Rows(*(np.concatenate([p[i] for p in parts]) for i in range(4)))


def period_rows(long_x: np.ndarray, short_x: np.ndarray, period: np.ndarray, long_y: np.ndarray,
                short_y: np.ndarray) -> Rows:
    """Rows of period totals: ``period[t]`` is bar t's period (-1: in none); y per period."""
    m, k = len(long_y), long_x.shape[1]
    ok = period >= 0
    parts = []
    for side, x, y in ((0, long_x, long_y), (1, short_x, short_y)):
        agg = np.zeros((m, k))
        np.add.at(agg, period[ok], x[ok])
        p = np.flatnonzero(np.isfinite(y))
        parts.append((agg[p], y[p], np.full(len(p), side), p))
    return Rows(*(np.concatenate([p[i] for p in parts]) for i in range(4)))


def fit_weights(rows: Rows, prior: np.ndarray, ridge: float = RIDGE, power: float = POWER) -> np.ndarray:
    """Tier weights w >= 0 (not normalised: their sum is the notional scale) by reweighted ridge NNLS."""
    x, y = rows.x, np.maximum(rows.y, 0.0)
    k = x.shape[1]
    if not len(y) or not np.any(y > 0) or not np.any(x > 0):
        return np.zeros(k)
    floor = FLOOR_SHARE * max(float(y.mean()), 1e-12)
    prior = prior / prior.sum() if prior.sum() > 0 else np.full(k, 1.0 / k)
    mu = np.maximum(y, floor)
    w = np.zeros(k)
    for _ in range(ITERATIONS):
        rw = mu ** (-power / 2)
        xw, yw = x * rw[:, None], y * rw
        shaped = xw @ prior
        scale = float(shaped @ yw / (shaped @ shaped)) if shaped @ shaped > 0 else 0.0
        lam = ridge * float(np.mean(np.einsum("ij,ij->j", xw, xw)))
        aug_x = np.vstack([xw, np.sqrt(lam) * np.eye(k)])
        aug_y = np.concatenate([yw, np.sqrt(lam) * scale * prior])
        w, _ = nnls(aug_x, aug_y, maxiter=50 * k)
        mu = np.maximum(x @ w, floor)
    return w


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Rank correlation (average ranks for ties), NaN below 3 points or for a constant series."""
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3:
        return float("nan")
    ra, rb = rankdata(a[ok]), rankdata(b[ok])
    if ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def side_scores(rows: Rows, w: np.ndarray) -> dict[str, float]:
    """Spearman per side of the fitted X @ w against the observations, modelled/observed totals, and the mean
    absolute log error |ln((pred + f) / (obs + f))| (f = FLOOR_SHARE x the mean observation)."""
    pred = rows.x @ w
    out = {}
    for side, name in ((0, "long"), (1, "short")):
        sel = rows.side == side
        out[f"spearman_{name}"] = spearman(pred[sel], rows.y[sel])
        obs = float(rows.y[sel].sum())
        out[f"ratio_{name}"] = float(pred[sel].sum()) / obs if obs > 0 else float("nan")
    floor = FLOOR_SHARE * max(float(rows.y.mean()), 1e-12) if len(rows) else 1.0
    out["log_error"] = float(np.mean(np.abs(np.log((pred + floor) / (np.maximum(rows.y, 0) + floor))))) \
        if len(rows) else float("nan")
    return out


def tracking(open_usd: np.ndarray, oi_usd: np.ndarray) -> float:
    """Pearson correlation of the model's implied open notional with open interest (NaN without both)."""
    ok = np.isfinite(open_usd) & np.isfinite(oi_usd)
    if ok.sum() < 3 or open_usd[ok].std() == 0 or oi_usd[ok].std() == 0:
        return float("nan")
    return float(np.corrcoef(open_usd[ok], oi_usd[ok])[0, 1])


def turnover_half_life(oi: np.ndarray, volume: np.ndarray, hours_per_bar: float) -> tuple[float, float]:
    """Half-life (hours) of open interest implied by its turnover, and the share of volume that opens positions.

    Stock-flow (partial adjustment) model of open interest in base units: OI_t - OI_(t-1) = a x volume_t -
    lambda x OI_(t-1) + c + e_t (new positions are a share a of volume, open ones close at rate lambda per bar, c
    the drain of a constant unleveraged part), fitted by ordinary least squares; half-life = ln 2 / lambda bars,
    i.e. ln 2 x the mean holding time for exponential survival. NaN with fewer than 24 bars, or when the half-life
    is not below half the window (lambda <= 0 or too small to be told from noise)."""
    d = np.diff(oi)
    prev, vol = oi[:-1], volume[1:]
    ok = np.isfinite(d) & np.isfinite(prev) & np.isfinite(vol)
    if ok.sum() < 24:
        return float("nan"), float("nan")
    design = np.column_stack([vol[ok], -prev[ok], np.ones(ok.sum())])
    (share, lam, _), *_ = np.linalg.lstsq(design, d[ok], rcond=None)
    half_life = np.log(2.0) / lam if lam > 0 else np.inf
    if not half_life <= ok.sum() / 2:  # a half-life beyond half the window is not identified by it
        return float("nan"), float(share)
    return float(half_life * hours_per_bar), float(share)
