"""Build overlay payloads: fetch bars with enough warm-up, run the pure maths, shape the JSON.

Kept apart from the views so the webhook context snapshot and the benchmarks build exactly the same overlays.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd

from ..overlays.confluence import ConfluenceParams, compute_confluence
from ..overlays.oi_delta import OI_DELTA_COLUMNS, compute_oi_delta
from ..overlays.precision import round_frame_columns

# RSI's Wilder average forgets its seed slowly: 300 earlier bars bring it within 1e-6 of TradingView's value
# (DOMAIN.md section 6) whatever the requested range.
RSI_WARMUP = 300


def records(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    """Rows as dicts, each float rounded once by its column's rule (``overlays.precision``); NaN and None both
    become null in JSON."""
    sub = round_frame_columns(frame, columns)
    out = sub.astype(object).where(sub.notna(), None)
    return out.to_dict(orient="records")


def fetch_bars(market, args: dict[str, Any], *, warmup: int):
    """The request's bars from the market service, with ``warmup`` earlier bars for the indicators."""
    return market.bars(args.get("exchange"), args["symbol"], args["timeframe"], limit=args["limit"],
                       start=args.get("start"), end=args.get("end"), warmup=warmup)


CANDLE_COLUMNS = ["time", "open", "high", "low", "close", "volume", "quote_volume", "taker_buy_volume", "trades"]


def build_candles(market, args: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """Closed OHLCV bars as the exchange reported them (no warm-up: nothing is computed on them)."""
    bars = fetch_bars(market, args, warmup=0)
    meta = dict(bars.meta, parameters=params)
    return {"meta": meta, "series": records(bars.requested, CANDLE_COLUMNS)}


def build_oi_delta(market, args: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    window = params["zscore_window"]
    bars = fetch_bars(market, args, warmup=window + 1)
    out = compute_oi_delta(bars.frame, zscore_window=window).iloc[bars.first :]
    meta = dict(bars.meta, parameters=params)
    return {"meta": meta, "series": records(out, OI_DELTA_COLUMNS)}


def confluence_params(params: dict[str, Any]) -> ConfluenceParams:
    overrides = {}
    if params.get("rsi_length"):
        overrides["rsi_length"] = params["rsi_length"]
    if params.get("zscore_window"):
        overrides["funding_zscore_window"] = params["zscore_window"]
        overrides["oi_zscore_window"] = params["zscore_window"]
    return ConfluenceParams.from_dict(overrides)


def cluster_frame(bars_frame: pd.DataFrame):
    """Nearest liquidation clusters per bar from the liquidation engine, when it is installed."""
    try:
        from ..overlays.liquidations import clusters_per_bar
    except ImportError:
        return None
    return clusters_per_bar(bars_frame)


def build_confluence(market, args: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    cparams = confluence_params(params)
    bars = fetch_bars(market, args, warmup=max(RSI_WARMUP, cparams.warmup_bars))
    clusters = cluster_frame(bars.frame) if params.get("clusters", True) else None
    out = compute_confluence(bars.frame, cparams, clusters=clusters)
    if clusters is not None:
        out = out.join(clusters[[c for c in _CLUSTER_COLUMNS if c not in out.columns]])
    out = out.iloc[bars.first :]
    meta = dict(bars.meta, parameters=dict(asdict(cparams), clusters=clusters is not None))
    return {"meta": meta, "series": confluence_records(out)}


_CLUSTER_COLUMNS = [
    "long_cluster_distance_pct",
    "long_cluster_usd",
    "short_cluster_distance_pct",
    "short_cluster_usd",
]
_POINT_COLUMNS = [
    "time",
    "close",
    "rsi",
    "funding_rate",
    "funding_annualized",
    "funding_zscore",
    "oi_zscore",
    "long_short_ratio",
    "score",
    "regime",
]


def confluence_records(out: pd.DataFrame) -> list[dict[str, Any]]:
    component_columns = [c for c in out.columns if c.startswith("component_")]
    cluster_columns = [c for c in _CLUSTER_COLUMNS if c in out.columns]
    rows = records(out, [c for c in _POINT_COLUMNS if c in out.columns])
    comps = records(out, component_columns) if component_columns else [{} for _ in rows]
    clus = records(out, cluster_columns) if cluster_columns else None
    reasons = out["reasons"].tolist() if "reasons" in out else [[] for _ in rows]
    for i, row in enumerate(rows):
        row["components"] = {k.removeprefix("component_"): v for k, v in comps[i].items()}
        if clus is not None and any(v is not None for v in clus[i].values()):
            row["clusters"] = clus[i]
        else:
            row["clusters"] = None
        row["reasons"] = list(reasons[i]) if isinstance(reasons[i], list | tuple | np.ndarray) else []
    return rows
