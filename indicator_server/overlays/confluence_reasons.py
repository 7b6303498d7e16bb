"""Short human explanations of each bar's confluence score, largest contribution first.

Every reason is true of the numbers it quotes: the payer follows the sign of the funding rate, "above/below its
norm" the sign of its z-score, "crowded longs/shorts" only when rate and z-score agree (``funding_crowding``),
and the risk named at the end of each reason is the direction of that component in the score (negative:
long-cascade risk, positive: short-squeeze risk; ``confluence.py``). tests/overlays/test_confluence_reasons.py
checks this over generated and recorded bars.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from indicator_server.overlays.confluence_params import ConfluenceParams


def funding_crowding(rate: float, z: float) -> str:
    """What the funding rate and its z-score say together about positioning, true of both numbers.

    A positive rate means longs pay shorts; ``z > 0`` means the rate is above its rolling mean. Only when both
    point the same way is a side crowded: a positive rate below its norm (the mean is higher still) means longs
    pay less than usual, i.e. long crowding is easing, not "crowded shorts" (issue 8, item 9).
    """
    if z > 0:
        return "crowded longs" if rate > 0 else "short crowding easing"
    if z < 0:
        return "crowded shorts" if rate < 0 else "long crowding easing"
    return "at its norm"


def _risk(component: float) -> str:
    return "long-cascade risk" if component < 0 else "short-squeeze risk"


def _funding(component: float, rate: float, hours: float, annual: float, z: float) -> str:
    rate, annual, z = rate + 0.0, annual + 0.0, z + 0.0  # no "-0.0000%" beside "nobody pays"
    payer = "longs pay shorts" if rate > 0 else "shorts pay longs" if rate < 0 else "nobody pays"
    norm = "above its norm" if z > 0 else "below its norm" if z < 0 else "at its norm"
    per = f"/{hours:g}h" if not math.isnan(hours) else ""
    return (f"funding {rate:+.4%}{per} ({annual:+.1%}/yr, {payer}) {norm} (z {z:+.2f}): "
            f"{funding_crowding(rate, z)}, {_risk(component)}")


def _oi(component: float, level_z: float, delta_z: float, rate: float, funding_z: float) -> str:
    parts = []
    if level_z > 0:
        parts.append(f"high (z {level_z:+.2f})")
    if delta_z > 0:
        parts.append(f"rising (change z {delta_z:+.2f})")
    return (f"open interest {' and '.join(parts)} amplifies the funding signal "
            f"({funding_crowding(rate, funding_z)}): {_risk(component)}")


def _rsi(component: float, rsi: float, params: ConfluenceParams) -> str:
    if rsi >= params.rsi_overbought:
        return f"RSI {rsi:.1f} overbought (>= {params.rsi_overbought:g}): {_risk(component)}"
    return f"RSI {rsi:.1f} oversold (<= {params.rsi_oversold:g}): {_risk(component)}"


def _long_short(component: float, ratio: float, neutral: float) -> str:
    side = "above" if component < 0 else "below"
    skew = "skewed long" if component < 0 else "skewed short"
    return f"long/short account ratio {ratio:.2f} {side} neutral {neutral:g}: {skew}, {_risk(component)}"


def _cluster(side: str, usd: float, distance_pct: float) -> str:
    where = "below" if side == "long" else "above"
    return f"{side}-liquidation cluster ${usd / 1e6:,.1f}M {abs(distance_pct):.2f}% {where} price"


def build_reasons(
    frame: pd.DataFrame,
    params: ConfluenceParams,
    clusters: pd.DataFrame | None = None,
    long_strength: np.ndarray | None = None,
    short_strength: np.ndarray | None = None,
) -> list[list[str]]:
    """One list of strings per row of ``compute_confluence``'s frame.

    ``clusters`` (reindexed to the frame) with the clusters' strengths in [0, 1], or None: nothing about
    clusters.
    """
    threshold = params.reason_min_points
    names = (
        "score",
        "component_funding",
        "component_oi",
        "component_rsi",
        "component_long_short",
        "funding_rate",
        "funding_interval_hours",
        "funding_annualized",
        "funding_zscore",
        "oi_level_zscore",
        "oi_zscore",
        "rsi",
        "long_short_ratio",
    )
    # Plain Python floats: indexing numpy arrays element by element costs several times more.
    columns = [frame[name].to_numpy(dtype="float64").tolist() for name in names]
    n = len(frame)
    if clusters is not None:
        cluster_columns = [
            (np.nan_to_num(np.asarray(long_strength, dtype="float64")) * params.weight_clusters).tolist(),
            clusters["long_cluster_usd"].to_numpy(dtype="float64").tolist(),
            clusters["long_cluster_distance_pct"].to_numpy(dtype="float64").tolist(),
            (np.nan_to_num(np.asarray(short_strength, dtype="float64")) * params.weight_clusters).tolist(),
            clusters["short_cluster_usd"].to_numpy(dtype="float64").tolist(),
            clusters["short_cluster_distance_pct"].to_numpy(dtype="float64").tolist(),
        ]
    else:
        cluster_columns = [[0.0] * n, [math.nan] * n, [math.nan] * n] * 2
    undefined = [f"funding z-score undefined: needs {params.funding_zscore_window} bars of funding"]
    no_rsi = f"RSI undefined: needs {params.rsi_length + 1} closes"
    isnan = math.isnan
    reasons: list[list[str]] = []
    for row, cluster_row in zip(zip(*columns, strict=True), zip(*cluster_columns, strict=True), strict=True):
        score, c_funding, c_oi, c_rsi, c_ls, rate, hours, annual, funding_z, level_z, delta_z, rsi, ratio = row
        if isnan(score):
            reasons.append(list(undefined))
            continue
        found: list[tuple[float, str]] = []
        if abs(c_funding) >= threshold:
            found.append((abs(c_funding), _funding(c_funding, rate, hours, annual, funding_z)))
        if abs(c_oi) >= threshold:
            found.append((abs(c_oi), _oi(c_oi, level_z, delta_z, rate, funding_z)))
        if abs(c_rsi) >= threshold:
            found.append((abs(c_rsi), _rsi(c_rsi, rsi, params)))
        if abs(c_ls) >= threshold:
            found.append((abs(c_ls), _long_short(c_ls, ratio, params.long_short_neutral)))
        long_points, long_usd, long_dist, short_points, short_usd, short_dist = cluster_row
        if long_points >= threshold:
            found.append((long_points, _cluster("long", long_usd, long_dist)))
        if short_points >= threshold:
            found.append((short_points, _cluster("short", short_usd, short_dist)))
        if len(found) > 1:
            found.sort(key=lambda item: -item[0])
        texts = [text for _, text in found]
        if isnan(c_oi):
            texts.append("no open-interest data: OI not counted")
        if isnan(c_rsi):
            texts.append(no_rsi)
        if isnan(c_ls):
            texts.append("no long/short ratio: not counted")
        reasons.append(texts)
    return reasons
