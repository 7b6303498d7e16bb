"""The entry points: ``estimate_liquidations`` (the whole product for one symbol) and ``clusters_per_bar`` (the
cluster input of the confluence overlay). Pure maths: frames in (``BAR_COLUMNS``), frames/arrays out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import flow
from .cascade import bars_activity, cascade_view
from .grid import ROW_BLOCK, alive_grid, iter_alive_grid, price_edges, sample_rows
from .levels import LONG, SHORT, LevelArrays, build_levels, open_notional, sweep_levels, swept_per_bar
from .params import MODEL_NAME, MODEL_VERSION, LiquidationParams
from .product import (
    cluster_map,
    find_runs,
    grid_edges,
    grid_position,
    grid_span,
    liquidation_map,
    map_clusters,
    max_pain,
    nearest_clusters,
)

PARTS = ("levels", "map", "clusters", "heatmap", "swept", "cascade")
DEFAULT_INCLUDE = ("levels", "map", "clusters", "swept")
DEFAULT_BINS = 500
CLUSTER_MAX_ROWS = 20_000
GRID_CELLS = 4_000_000  # cells of one block of clusters_per_bar's time x cluster-grid array (32 MB)


@dataclass
class LiquidationResult:
    """The model's product for the bars given. Absent parts (not in ``include``) are None."""

    price: float | None
    time: int | None
    levels: pd.DataFrame | None
    map: dict[str, Any] | None
    clusters: list[dict[str, Any]] | None
    max_pain: dict[str, Any] | None
    heatmap: dict[str, Any] | None
    swept: pd.DataFrame | None
    warnings: list[str] = field(default_factory=list)
    model: dict[str, Any] = field(default_factory=dict)
    cluster_grid: dict[str, Any] | None = None  # the open notional on the cluster grid (product.cluster_map)
    cascade: dict[str, Any] | None = None  # forced notional per move, exhaustion, share of hourly volume (cascade.py)


@dataclass
class ModelCore:
    """Levels with their sweeps, plus what the products need."""

    levels: LevelArrays
    log_surv: np.ndarray
    times: np.ndarray
    low: np.ndarray
    high: np.ndarray
    close: np.ndarray
    tiers: tuple[float, ...]
    flow: str
    warnings: list[str]

    @property
    def n(self) -> int:
        return len(self.times)


def model_info(params: LiquidationParams) -> dict[str, Any]:
    return {"name": MODEL_NAME, "version": MODEL_VERSION, "params": params.to_dict()}


def run_model(bars: pd.DataFrame, params: LiquidationParams, leverage: Sequence[float] | None = None) -> ModelCore:
    """Levels of every bar (only the tiers in ``leverage``, if given), with their sweeping bars."""
    missing = [c for c in ("time", "open", "high", "low", "close") if c not in bars]
    if missing:
        raise ValueError(f"bars lack columns {missing}")
    used_flow, warnings = flow.effective_flow(bars, params)
    entry = flow.entry_prices(bars, params.entry_price)
    share = flow.long_shares(bars, params)
    notional = flow.new_notional(bars, params, entry, used_flow)
    log_surv = flow.log_survival(bars, params, used_flow)
    long_f, short_f = flow.liquidation_factors(params)
    tiers = params.leverage_tiers
    keep = None if leverage is None else [i for i, t in enumerate(tiers) if t in set(leverage)]
    levels = build_levels(entry, share, notional, long_f, short_f, flow.tier_weights(params), keep)
    low, high = flow.column(bars, "low"), flow.column(bars, "high")
    sweep_levels(levels, low, high)
    return ModelCore(levels, log_surv, bars["time"].to_numpy(dtype="int64"), low, high, flow.column(bars, "close"),
                     tiers, used_flow, warnings)


def levels_frame(core: ModelCore, open_usd: np.ndarray) -> pd.DataFrame:
    lv, n = core.levels, core.n
    swept = lv.swept < n
    return pd.DataFrame({
        "opened_at": core.times[lv.bar],
        "bar": lv.bar,
        "side": pd.Categorical.from_codes(lv.side, categories=["long", "short"]),
        "leverage": np.asarray(core.tiers, dtype="float64")[lv.tier],
        "price": lv.price,
        "notional_usd": lv.notional,
        "open_usd": open_usd,
        "swept_bar": np.where(swept, lv.swept, -1),
        "swept_at": np.where(swept, core.times[np.minimum(lv.swept, n - 1)], -1),
    })


def heatmap_edges(core: ModelCore, params: LiquidationParams, bins: int) -> np.ndarray:
    """The heatmap's price axis: the window's lowest low to highest high, padded by ``heatmap_pad_pct``
    (closes stand in for missing lows/highs)."""
    pad = params.heatmap_pad_pct / 100
    prices = np.concatenate([core.low, core.high, core.close])
    prices = prices[np.isfinite(prices)]
    if not len(prices):
        return price_edges(np.nan, np.nan, bins)
    return price_edges(prices.min() * (1 - pad), prices.max() * (1 + pad), bins)


def heatmap(core: ModelCore, params: LiquidationParams, bins: int) -> dict[str, Any]:
    """Open notional per (time row, price bin), long + short; rows sample the bars at display resolution
    (``max_heatmap_rows``) and hold the notional open at that bar's close."""
    rows = sample_rows(core.n, params.max_heatmap_rows)
    edges = heatmap_edges(core, params, bins)
    grid = alive_grid(core.levels, core.log_surv, rows, edges)
    return {"time": core.times[rows], "price_low": edges[:-1], "price_high": edges[1:],
            "price": (edges[:-1] + edges[1:]) / 2, "values": grid, "stride": int(rows[1] - rows[0]) if
            len(rows) > 1 else 1}


def estimate_liquidations(bars: pd.DataFrame, params: LiquidationParams | None = None, *, bins: int = DEFAULT_BINS,
                          include: Iterable[str] = DEFAULT_INCLUDE,
                          leverage: Sequence[float] | None = None) -> LiquidationResult:
    """Estimated liquidation levels and their products for ``bars`` (``BAR_COLUMNS``, oldest first).

    ``include`` picks the parts to build (PARTS); ``leverage`` keeps only those tiers (their share of the flow
    is kept, not renormalised). Too little data gives warnings, never an exception.
    """
    params = params or LiquidationParams()
    include = set(include)
    unknown = include - set(PARTS)
    if unknown:
        raise ValueError(f"unknown parts {sorted(unknown)}; choose from {PARTS}")
    info = model_info(params)
    n = len(bars)
    if n == 0:
        return LiquidationResult(None, None, None, None, [] if "clusters" in include else None, None, None, None,
                                 ["no bars: nothing to estimate"], info)
    core = run_model(bars, params, leverage)
    warnings = list(core.warnings)
    if n < params.min_bars:
        warnings.append(f"only {n} bars: too little data for a meaningful map (the model wants {params.min_bars}+)")
    open_usd = open_notional(core.levels, core.log_surv, n)
    if not (open_usd > 0).any():
        warnings.append("no open liquidation levels: open interest did not rise or every level was swept")
    price = float(core.close[-1])
    shown = None if leverage is None else tuple(t for t in core.tiers if t in set(leverage))
    lmap = liquidation_map(core.levels, open_usd, price, core.tiers, bins, params.map_range_pct, shown)
    cmap = cluster_map(core.levels, open_usd, price, params.cluster_bin_pct, params.map_range_pct)
    swept = None
    if "swept" in include:
        long_usd, short_usd = swept_per_bar(core.levels, core.log_surv, n)
        swept = pd.DataFrame({"time": core.times, "long_usd": long_usd, "short_usd": short_usd})
    return LiquidationResult(
        price=price,
        time=int(core.times[-1]),
        levels=levels_frame(core, open_usd) if "levels" in include else None,
        map=lmap if "map" in include else None,
        clusters=map_clusters(cmap, price, params.cluster_density) if "clusters" in include else None,
        max_pain=max_pain(cmap, price),
        heatmap=heatmap(core, params, bins) if "heatmap" in include else None,
        swept=swept,
        warnings=warnings,
        model=info,
        cluster_grid=cmap,
        cascade=cascade_view(cmap, price, bars_activity(bars)) if "cascade" in include else None,
    )


CLUSTER_COLUMNS = ["time", "long_cluster_price", "long_cluster_distance_pct", "long_cluster_usd",
                   "short_cluster_price", "short_cluster_distance_pct", "short_cluster_usd"]


def clusters_per_bar(bars: pd.DataFrame, params: LiquidationParams | None = None, *,
                     max_rows: int = CLUSTER_MAX_ROWS) -> pd.DataFrame:
    """As of each bar's close: the nearest dense long cluster at/below the close and short cluster at/above it,
    their peak price, distance (% of close, positive) and open notional (USD); NaN when there is none.

    Clusters are those of ``estimate_liquidations`` on the bars up to that one: the same cluster grid (fixed in
    price terms, ``cluster_bin_pct``; product.py), the grid bins touching that bar's close x (1 +/- map_range_pct
    %), the same runs (``product.find_runs``); there is no drawing resolution here. With more than ``max_rows``
    bars they are computed every ``ceil(n / max_rows)`` bars and forward-filled (documented stride; the last bar
    is always computed). Same index as ``bars``.
    """
    params = params or LiquidationParams()
    n = len(bars)
    out = pd.DataFrame({c: np.full(n, np.nan) for c in CLUSTER_COLUMNS}, index=bars.index)
    out["time"] = bars["time"].to_numpy() if "time" in bars else np.arange(n)
    if n == 0:
        return out
    core = run_model(bars, params)
    rows = sample_rows(n, max_rows)
    close = core.close[rows]
    k_lo, k_hi = grid_span(close, params.cluster_bin_pct, params.map_range_pct)
    if not np.isfinite(k_lo).any():
        return out
    positions = grid_position(core.levels.price, params.cluster_bin_pct)
    found = {name: np.full(len(rows), np.nan) for name in CLUSTER_COLUMNS[1:]}
    for side, name in ((LONG, "long"), (SHORT, "short")):
        levels = core.levels.take(core.levels.side == side)
        levels.price = positions[core.levels.side == side]  # the grid's own axis: bin k covers [k, k + 1)
        for a in range(0, len(rows), ROW_BLOCK):
            z = min(a + ROW_BLOCK, len(rows))
            price, usd, distance = _nearest_on_grid(levels, core.log_surv, rows[a:z], close[a:z], k_lo[a:z],
                                                    k_hi[a:z], params, side)
            found[f"{name}_cluster_price"][a:z] = price
            found[f"{name}_cluster_usd"][a:z] = usd
            found[f"{name}_cluster_distance_pct"][a:z] = distance
    # the stride: each bar holds the last computed row at or before it (NaN before the first one)
    last_row = np.searchsorted(rows, np.arange(n), side="right") - 1
    for name, values in found.items():
        out[name] = np.where(last_row >= 0, values[np.maximum(last_row, 0)], np.nan)
    return out


def _nearest_on_grid(levels: LevelArrays, log_surv: np.ndarray, rows: np.ndarray, close: np.ndarray,
                     k_lo: np.ndarray, k_hi: np.ndarray, params: LiquidationParams,
                     side: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest cluster of one side per row for a run of rows, on the grid bins their ranges span (``levels.price``
    holds grid positions ln p / ln g)."""
    m = len(rows)
    price, usd, distance = np.full(m, np.nan), np.full(m, np.nan), np.full(m, np.nan)
    if not np.isfinite(k_lo).any():
        return price, usd, distance
    first, last = int(np.nanmin(k_lo)), int(np.nanmax(k_hi))
    edges = grid_edges(first, last, params.cluster_bin_pct)
    mids = (edges[:-1] + edges[1:]) / 2
    cols = np.arange(first, last + 1, dtype="float64")[None, :]
    row_block = max(1, min(ROW_BLOCK, GRID_CELLS // cols.shape[1]))
    axis = np.arange(first, last + 2, dtype="float64")
    for a, z, block in iter_alive_grid(levels, log_surv, rows, axis, row_block):
        inside = (cols >= k_lo[a:z, None]) & (cols <= k_hi[a:z, None])
        block[~inside] = 0.0  # outside this row's range (all of a row with no close)
        runs = find_runs(block, params.cluster_density)
        price[a:z], usd[a:z], distance[a:z] = nearest_clusters(runs, mids, close[a:z], side, z - a)
    return price, usd, distance
