"""The one place the context filler reaches the overlay maths, guarded so that a missing or failing overlay
only marks its fields as missing in the context (the receiver and the filler never crash because of it).

Uses ``indicator_server.overlays`` (compute_rsi, compute_oi_delta, compute_confluence) and, when the
liquidation engine provides it, ``indicator_server.overlays.liquidations.clusters_per_bar(bars)`` returning a
frame on the bars' index with ``CLUSTER_COLUMNS`` (and optionally ``long_cluster_price``/``short_cluster_price``).
"""

from __future__ import annotations

import importlib
import logging
import math
from collections.abc import Callable
from typing import Any

import pandas as pd

log = logging.getLogger(__name__)


def _optional(module: str, name: str) -> Callable | None:
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _last(frame: pd.DataFrame, column: str) -> Any:
    if column not in frame or frame.empty:
        return None
    return frame[column].iloc[-1]


def overlay_fields(bars: pd.DataFrame) -> tuple[dict[str, Any], dict[str, str]]:
    """Fields of the last bar (named as in the overlays) and, for each one that could not be computed, why."""
    values: dict[str, Any] = {}
    missing: dict[str, str] = {}

    compute_rsi = _optional("indicator_server.overlays", "compute_rsi")
    compute_oi_delta = _optional("indicator_server.overlays", "compute_oi_delta")
    compute_confluence = _optional("indicator_server.overlays", "compute_confluence")
    clusters_per_bar = _optional("indicator_server.overlays.liquidations", "clusters_per_bar")

    def attempt(names: tuple[str, ...], fn: Callable | None, use: Callable[[Any], None]) -> None:
        if fn is None:
            missing.update(dict.fromkeys(names, "overlay not available"))
            return
        try:
            use(fn)
        except Exception as exc:  # an overlay bug must not lose the signal's context
            log.warning("context: %s failed: %s", names[0], exc)
            missing.update(dict.fromkeys(names, f"error: {type(exc).__name__}"))

    def rsi(fn):
        values["rsi"] = _number(_last(fn(bars["close"]).to_frame("rsi"), "rsi"))

    def oi(fn):
        frame = fn(bars)
        values["oi_delta"] = _number(_last(frame, "delta"))
        values["oi_delta_usd"] = _number(_last(frame, "delta_usd"))
        values["oi_delta_pct"] = _number(_last(frame, "delta_pct"))
        values["oi_zscore"] = _number(_last(frame, "zscore"))
        quadrant = _last(frame, "quadrant")
        values["quadrant"] = quadrant if isinstance(quadrant, str) else None

    clusters: dict[str, pd.DataFrame] = {}

    def liquidation(fn):
        frame = fn(bars)
        clusters["frame"] = frame
        close = _number(_last(bars, "close"))
        for side in ("long", "short"):
            distance = _number(_last(frame, f"{side}_cluster_distance_pct"))
            price = _number(_last(frame, f"{side}_cluster_price"))
            if price is None and distance is not None and close is not None:
                price = close * (1 - distance / 100) if side == "long" else close * (1 + distance / 100)
            values[f"{side}_cluster_price"] = price
            values[f"{side}_cluster_usd"] = _number(_last(frame, f"{side}_cluster_usd"))
            values[f"{side}_cluster_distance_pct"] = distance

    def confluence(fn):
        frame = fn(bars, clusters=clusters.get("frame"))
        values["score"] = _number(_last(frame, "score"))
        regime = _last(frame, "regime")
        values["regime"] = regime if isinstance(regime, str) else None
        values["funding_annualized"] = _number(_last(frame, "funding_annualized"))
        values["funding_zscore"] = _number(_last(frame, "funding_zscore"))
        reasons = _last(frame, "reasons")
        values["reasons"] = list(reasons) if isinstance(reasons, list | tuple) else reasons

    attempt(("rsi",), compute_rsi, rsi)
    attempt(("oi_delta", "oi_delta_usd", "oi_delta_pct", "oi_zscore", "quadrant"), compute_oi_delta, oi)
    attempt(("long_cluster_price", "long_cluster_usd", "long_cluster_distance_pct", "short_cluster_price",
             "short_cluster_usd", "short_cluster_distance_pct"), clusters_per_bar, liquidation)
    attempt(("score", "regime", "funding_annualized", "funding_zscore", "reasons"), compute_confluence, confluence)
    return values, missing
