"""RSI / funding / OI confluence: a per-bar crowding-risk score with its components and reasons (DOMAIN.md
s. 7).

Sign convention: negative = downside risk (crowded longs, long-liquidation cascade), positive = upside risk
(crowded shorts, short squeeze). Each component is a signal in [-1, 1] times its weight
(``ConfluenceParams``), and ``score = clip(sum of components, -100, 100)``; with the default weights
(summing to 100) the clip never binds.

- funding:  ``-w_f * F``, ``F = clip(funding_zscore / zscore_cap, -1, 1)``. Funding above its norm means
  longs pay to stay long (crowded longs); below it, shorts pay (crowded shorts).
- oi:       ``-w_oi * F * O``, ``O = (clip(oi_level_z / cap, 0, 1) + clip(oi_delta_z / cap, 0, 1)) / 2``:
  high OI and rising OI amplify whatever crowding funding shows, and say nothing on their own (DOMAIN: "high
  positive funding + high OI", "rising OI ... a bigger cascade"). ``oi_level_z`` is the z-score of the OI
  level and ``oi_delta_z`` the z-score of its per-bar change (``compute_oi_delta``), both over
  ``oi_zscore_window``.
- rsi:      ``-w_rsi * R``, ``R = clip((rsi - ob) / (100 - ob), 0, 1) - clip((os - rsi) / os, 0, 1)``:
  overbought strengthens long-cascade risk, oversold strengthens squeeze risk.
- long_short: ``-w_ls * clip(ln(ratio / long_short_neutral) / ln(long_short_cap), -1, 1)``: more long
  accounts confirm crowded longs. The log makes a ratio r and 1/r mirror images (neutral 1).
- clusters: ``w_c * (S - L)`` with ``L = proximity * size`` of the long-liquidation cluster below price and
  ``S`` the same for the short cluster above:
  ``proximity = clip(1 - |distance_pct| / cluster_near_pct, 0, 1)``,
  ``size`` = the cluster's percentile among that side's nearest clusters of the last ``cluster_rank_window``
  bars (1 = the largest seen). Ranking instead of a share of OI keeps the component independent of the
  liquidation model's notional calibration. 0 when no clusters are given.

Every component is monotone: the score falls as funding, OI (when funding is positive), RSI, the long/short
ratio or the long cluster grows, and rises with the short cluster. Flipping funding, mirroring RSI (100 -
rsi), inverting the ratio and swapping the clusters flips the score. Missing inputs contribute 0 (and say so
in ``reasons``), except funding: crowding is defined from funding, so the score is NaN (regime ``None``)
until the funding z-score is defined. Regime: ``long_cascade_risk`` at score <= -regime_threshold,
``short_squeeze_risk`` at >= +threshold, else ``neutral``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from indicator_server.overlays.confluence_params import ConfluenceParams
from indicator_server.overlays.confluence_reasons import build_reasons
from indicator_server.overlays.funding import compute_funding
from indicator_server.overlays.oi_delta import compute_oi_delta
from indicator_server.overlays.rsi import compute_rsi
from indicator_server.overlays.zscore import rolling_zscore

CLUSTER_COLUMNS = [
    "long_cluster_distance_pct",
    "long_cluster_usd",
    "short_cluster_distance_pct",
    "short_cluster_usd",
]
COMPONENTS = [
    "component_funding",
    "component_oi",
    "component_rsi",
    "component_long_short",
    "component_clusters",
]
CONFLUENCE_COLUMNS = [
    "time",
    "close",
    "rsi",
    "funding_rate",
    "funding_interval_hours",
    "funding_annualized",
    "funding_zscore",
    "open_interest",
    "oi_zscore",
    "oi_level_zscore",
    "long_short_ratio",
    *COMPONENTS,
    "score",
    "regime",
    "reasons",
]


def _unit(x: np.ndarray) -> np.ndarray:
    return np.clip(x, 0.0, 1.0)


def cluster_size(cluster_usd: pd.Series, window: int) -> np.ndarray:
    """Percentile of each bar's cluster among the last ``window`` bars' clusters (ties count as the largest),
    in (0, 1]; NaN where there is no cluster."""
    usd = pd.Series(np.asarray(cluster_usd, dtype="float64"))
    return usd.rolling(window, min_periods=1).rank(pct=True, method="max").to_numpy()


def cluster_strength(distance_pct, size, params: ConfluenceParams) -> np.ndarray:
    """Proximity times size (a percentile from ``cluster_size``), in [0, 1]; NaN where any input is missing."""
    distance = np.abs(np.asarray(distance_pct, dtype="float64"))
    return _unit(1.0 - distance / params.cluster_near_pct) * _unit(np.asarray(size, dtype="float64"))


def score_components(
    *,
    funding_zscore,
    oi_level_zscore,
    oi_delta_zscore,
    rsi,
    long_short_ratio,
    long_cluster_strength,
    short_cluster_strength,
    params: ConfluenceParams,
) -> dict[str, np.ndarray]:
    """The weighted components (NaN where their inputs are missing) and the score, as numpy arrays."""
    p = params
    cap = p.zscore_cap
    f = np.clip(np.asarray(funding_zscore, dtype="float64") / cap, -1.0, 1.0)
    level = _unit(np.asarray(oi_level_zscore, dtype="float64") / cap)
    rising = _unit(np.asarray(oi_delta_zscore, dtype="float64") / cap)
    oi = np.where(np.isnan(level) & np.isnan(rising), np.nan, (np.nan_to_num(level) + np.nan_to_num(rising)) / 2)
    rsi = np.asarray(rsi, dtype="float64")
    r = _unit((rsi - p.rsi_overbought) / (100.0 - p.rsi_overbought)) - _unit((p.rsi_oversold - rsi) / p.rsi_oversold)
    ratio = np.asarray(long_short_ratio, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        ls = np.log(np.where(ratio > 0, ratio, np.nan) / p.long_short_neutral) / np.log(p.long_short_cap)
    ls = np.clip(ls, -1.0, 1.0)
    clusters = np.nan_to_num(np.asarray(short_cluster_strength, dtype="float64")) - np.nan_to_num(
        np.asarray(long_cluster_strength, dtype="float64")
    )
    components = {
        "component_funding": -p.weight_funding * f,
        "component_oi": -p.weight_oi * f * oi,
        "component_rsi": -p.weight_rsi * r,
        "component_long_short": -p.weight_long_short * ls,
        "component_clusters": p.weight_clusters * clusters,
    }
    total = sum(np.nan_to_num(c) for c in components.values())
    score = np.where(np.isnan(f), np.nan, np.clip(total, -100.0, 100.0))
    # -0.0 reads badly in JSON and in the symmetry property; normalise it.
    components = {k: v + 0.0 for k, v in components.items()}
    return {**components, "score": score + 0.0}


def classify_regime(score: np.ndarray, threshold: float) -> np.ndarray:
    """``long_cascade_risk`` / ``short_squeeze_risk`` / ``neutral`` per bar; ``None`` where score is NaN."""
    score = np.asarray(score, dtype="float64")
    labels = np.full(score.shape, None, dtype=object)
    labels[np.abs(score) < threshold] = "neutral"
    labels[score <= -threshold] = "long_cascade_risk"
    labels[score >= threshold] = "short_squeeze_risk"
    return labels


def compute_confluence(
    bars: pd.DataFrame,
    params: ConfluenceParams | None = None,
    clusters: pd.DataFrame | None = None,
    *,
    with_reasons: bool = True,
) -> pd.DataFrame:
    """Confluence overlay for a ``BAR_COLUMNS`` frame; one row per bar on ``bars.index`` (module docstring).

    ``clusters``: optional frame on the same index with ``CLUSTER_COLUMNS`` (NaN where there is no cluster),
    from the liquidation engine. ``with_reasons=False`` leaves ``reasons`` None: formatting the strings is about
    90 % of the cost at 100,000 bars (benchmarks/bench_overlays_math.py), for callers that only need numbers.
    """
    params = params or ConfluenceParams()
    funding = compute_funding(bars, zscore_window=params.funding_zscore_window)
    oi = compute_oi_delta(bars, zscore_window=params.oi_zscore_window)
    oi_level_z = rolling_zscore(oi["open_interest"], params.oi_zscore_window)
    rsi = compute_rsi(bars["close"], params.rsi_length)
    n = len(bars)
    if clusters is None:
        long_strength = short_strength = np.zeros(n)
    else:
        missing = [c for c in CLUSTER_COLUMNS if c not in clusters]
        if missing:
            raise ValueError(f"clusters frame lacks columns {missing}")
        clusters = clusters.reindex(bars.index)
        window = params.cluster_rank_window
        long_strength = cluster_strength(
            clusters["long_cluster_distance_pct"], cluster_size(clusters["long_cluster_usd"], window), params
        )
        short_strength = cluster_strength(
            clusters["short_cluster_distance_pct"], cluster_size(clusters["short_cluster_usd"], window), params
        )
    ratio = bars["long_short_ratio"].astype("float64")
    parts = score_components(
        funding_zscore=funding["funding_zscore"].to_numpy(),
        oi_level_zscore=oi_level_z.to_numpy(),
        oi_delta_zscore=oi["zscore"].to_numpy(),
        rsi=rsi.to_numpy(),
        long_short_ratio=ratio.to_numpy(),
        long_cluster_strength=long_strength,
        short_cluster_strength=short_strength,
        params=params,
    )
    out = pd.DataFrame(
        {
            "time": bars["time"],
            "close": bars["close"].astype("float64"),
            "rsi": rsi,
            "funding_rate": funding["funding_rate"],
            "funding_interval_hours": funding["funding_interval_hours"],
            "funding_annualized": funding["funding_annualized"],
            "funding_zscore": funding["funding_zscore"],
            "open_interest": oi["open_interest"],
            "oi_zscore": oi["zscore"],
            "oi_level_zscore": oi_level_z,
            "long_short_ratio": ratio,
            **{name: parts[name] for name in COMPONENTS},
            "score": parts["score"],
        },
        index=bars.index,
    )
    out["regime"] = pd.Series(classify_regime(parts["score"], params.regime_threshold), index=bars.index, dtype=object)
    reasons = build_reasons(out, params, clusters, long_strength, short_strength) if with_reasons else None
    out["reasons"] = pd.Series(reasons, index=bars.index, dtype=object)
    return out
