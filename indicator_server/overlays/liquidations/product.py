"""What users read off the open levels (DOMAIN.md section 3 "Outputs users know"): the liquidation map, dense
clusters and "max pain".

Definitions (this product's; the public tools do not publish theirs):
- map: ``bins`` bins over last close x (1 +/- map_range_pct %); long_usd / short_usd = open notional of the long /
  short levels in the bin; long_cum_usd = long notional liquidated if price falls from the close to the bin (sum
  from the close's bin down to it, 0 above the close's bin), short_cum_usd likewise upwards; per-leverage amounts.
  The map is the picture: ``bins`` changes its resolution and nothing else.
- cluster grid: a grid fixed in price terms, independent of ``bins`` and of the window: bin k holds the prices
  [g^k, g^(k+1)), g = 1 + cluster_bin_pct / 100 (every bin is cluster_bin_pct % wide wherever the price is, and
  its edges do not move when a new bar closes). The grid bins touching close x (1 +/- map_range_pct %) count; they
  carry the same open notional per side as the map, and the same cumulative curves from the close's grid bin.
- cluster: a run of adjacent dense grid bins of one side, a bin being dense when it holds at least
  ``cluster_density`` times the mean of that side's non-empty grid bins; price_peak = middle of its largest bin;
  distance_pct = |peak - close| / close x 100. Long clusters are those peaking at or below the close, short ones
  at or above it. Counting notional per price interval of fixed relative width is a histogram estimate of the
  density of liquidation prices (Silverman, "Density Estimation for Statistics and Data Analysis", 1986, ch. 2):
  its bin width is a smoothing parameter of the model, not of the drawing.
- max pain (per side): the grid bin holding the most notional of that side; notional_usd = the cumulative notional
  liquidated on the way there (the grid's cum curve at that bin).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .grid import bin_index
from .levels import LONG, SHORT, LevelArrays


def find_runs(grid: np.ndarray, density: float) -> dict[str, np.ndarray]:
    """Runs of adjacent dense bins in every row of ``grid`` (rows x bins), in (row, start) order.

    Returns row, start, end (inclusive bins), usd (sum) and peak (bin of the run's largest value)."""
    grid = np.atleast_2d(grid)
    rows, bins = grid.shape
    nonzero = grid > 0
    count = nonzero.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = grid.sum(axis=1) / count
    dense = nonzero & (grid >= density * mean[:, None])
    flat = np.flatnonzero(dense.ravel())
    empty = np.zeros(0, dtype="int64")
    if not len(flat):
        return {"row": empty, "start": empty, "end": empty, "usd": np.zeros(0), "peak": empty}
    values = grid.ravel()[flat]
    # a new run starts where the previous dense cell is not the left neighbour in the same row
    new = np.ones(len(flat), dtype=bool)
    new[1:] = (np.diff(flat) != 1) | (flat[1:] % bins == 0)
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], len(flat)) - 1
    usd = np.add.reduceat(values, starts)
    peak_value = np.maximum.reduceat(values, starts)
    run_of = np.cumsum(new) - 1
    at_peak = np.flatnonzero(values == peak_value[run_of])
    first_peak = at_peak[np.unique(run_of[at_peak], return_index=True)[1]]
    return {"row": flat[starts] // bins, "start": flat[starts] % bins, "end": flat[ends] % bins, "usd": usd,
            "peak": flat[first_peak] % bins}


def liquidation_map(levels: LevelArrays, open_usd: np.ndarray, price: float, tiers: tuple[float, ...],
                    bins: int, range_pct: float, shown: tuple[float, ...] | None = None) -> dict[str, Any]:
    """The map of the open levels (``tiers``: all the model's tiers; ``shown``: those a leverage filter keeps)."""
    edges = np.linspace(price * (1 - range_pct / 100), price * (1 + range_pct / 100), bins + 1)
    b = bin_index(levels.price, edges)
    inside = (b >= 0) & (open_usd > 0)
    ntiers = len(tiers)
    out: dict[str, Any] = {"price_low": edges[:-1], "price_high": edges[1:], "price": (edges[:-1] + edges[1:]) / 2}
    by_tier = {}
    close_bin = int(min(max(np.floor((price - edges[0]) / (edges[1] - edges[0])), 0), bins - 1))
    for side, name in ((LONG, "long"), (SHORT, "short")):
        sel = inside & (levels.side == side)
        hist = np.bincount(levels.tier[sel].astype("int64") * bins + b[sel], weights=open_usd[sel],
                           minlength=ntiers * bins).reshape(ntiers, bins).astype("float64", copy=False)
        by_tier[name] = hist
        total = hist.sum(axis=0)
        out[f"{name}_usd"] = total
        cum = np.zeros(bins)
        if side == LONG:
            cum[: close_bin + 1] = np.cumsum(total[: close_bin + 1][::-1])[::-1]
        else:
            cum[close_bin:] = np.cumsum(total[close_bin:])
        out[f"{name}_cum_usd"] = cum
        out[f"{name}_outside_usd"] = float(open_usd[(b < 0) & (levels.side == side)].sum())
    out["by_leverage"] = {f"{t:g}": {"long_usd": by_tier["long"][i], "short_usd": by_tier["short"][i]}
                          for i, t in enumerate(tiers) if shown is None or t in shown}
    out["close_bin"] = close_bin
    return out


def grid_log_ratio(bin_pct: float) -> float:
    """ln g of the cluster grid (g = 1 + bin_pct / 100)."""
    return float(np.log(1.0 + bin_pct / 100))  # as pine/liquidation_levels.pine computes it (no log1p there)


def grid_position(price: np.ndarray, bin_pct: float) -> np.ndarray:
    """ln(price) / ln g: the grid bin of a price is its floor."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.log(np.asarray(price, dtype="float64")) / grid_log_ratio(bin_pct)


def grid_span(price: np.ndarray | float, bin_pct: float, range_pct: float) -> tuple[np.ndarray, np.ndarray]:
    """First and last grid bin (integers as floats, NaN for a price that is not > 0) touching
    price x (1 +/- range_pct %)."""
    price = np.asarray(price, dtype="float64")
    with np.errstate(invalid="ignore"):
        price = np.where(price > 0, price, np.nan)
    r = range_pct / 100
    return np.floor(grid_position(price * (1 - r), bin_pct)), np.floor(grid_position(price * (1 + r), bin_pct))


def grid_edges(first: int, last: int, bin_pct: float) -> np.ndarray:
    """Edges g^k of grid bins first..last (last + 2 - first values)."""
    return np.exp(np.arange(first, last + 2, dtype="float64") * grid_log_ratio(bin_pct))


def cluster_map(levels: LevelArrays, open_usd: np.ndarray, price: float, bin_pct: float,
                range_pct: float) -> dict[str, Any]:
    """The open notional per side on the cluster grid around ``price`` (map-like keys, see the module doc)."""
    k_lo, k_hi = (float(k) for k in grid_span(price, bin_pct, range_pct))
    if not (np.isfinite(k_lo) and np.isfinite(k_hi)):
        k_lo = k_hi = 0.0
    first, nbins = int(k_lo), int(k_hi - k_lo) + 1
    edges = grid_edges(first, int(k_hi), bin_pct)
    b = np.floor(grid_position(levels.price, bin_pct)) - first
    inside = np.isfinite(b) & (b >= 0) & (b < nbins) & (open_usd > 0)
    b = np.where(inside, b, 0).astype("int64")
    close_bin = int(min(max(np.floor(grid_position(price, bin_pct)) - first, 0), nbins - 1)) if price > 0 else 0
    out: dict[str, Any] = {"price_low": edges[:-1], "price_high": edges[1:], "price": (edges[:-1] + edges[1:]) / 2,
                           "close_bin": close_bin, "first_bin": first}
    for side, name in ((LONG, "long"), (SHORT, "short")):
        sel = inside & (levels.side == side)
        total = np.bincount(b[sel], weights=open_usd[sel], minlength=nbins).astype("float64", copy=False)
        out[f"{name}_usd"] = total
        cum = np.zeros(nbins)
        if side == LONG:
            cum[: close_bin + 1] = np.cumsum(total[: close_bin + 1][::-1])[::-1]
        else:
            cum[close_bin:] = np.cumsum(total[close_bin:])
        out[f"{name}_cum_usd"] = cum
    return out


def map_clusters(lmap: dict[str, Any], price: float, density: float) -> list[dict[str, Any]]:
    """Dense zones of a binned map (the cluster grid, ``cluster_map``), both sides, sorted by distance from
    ``price``."""
    low, high, mid = lmap["price_low"], lmap["price_high"], lmap["price"]
    zones = []
    for name in ("long", "short"):
        runs = find_runs(lmap[f"{name}_usd"], density)
        for start, end, usd, peak in zip(runs["start"], runs["end"], runs["usd"], runs["peak"], strict=True):
            peak_price = float(mid[peak])
            if (name == "long" and peak_price > price) or (name == "short" and peak_price < price):
                continue
            zones.append({"side": name, "price_low": float(low[start]), "price_high": float(high[end]),
                          "price_peak": peak_price, "notional_usd": float(usd),
                          "distance_pct": abs(peak_price - price) / price * 100})
    zones.sort(key=lambda z: z["distance_pct"])
    return zones


def max_pain(lmap: dict[str, Any], price: float) -> dict[str, Any]:
    """Per side, the bin of ``lmap`` (the cluster grid) holding the most notional of that side."""
    out: dict[str, Any] = {}
    for name in ("long", "short"):
        usd = lmap[f"{name}_usd"]
        if not usd.any():
            out[name] = None
            continue
        peak = int(np.argmax(usd))
        at = float(lmap["price"][peak])
        out[name] = {"price": at, "notional_usd": float(lmap[f"{name}_cum_usd"][peak]),
                     "bin_usd": float(usd[peak]), "distance_pct": abs(at - price) / price * 100}
    return out


def nearest_clusters(runs: dict[str, np.ndarray], mids: np.ndarray, close: np.ndarray, side: int,
                     m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: peak price, USD and distance % of the nearest run peaking at/below (long) or at/above (short)
    that row's close; NaN where there is none."""
    peak_price = mids[runs["peak"]]
    row = runs["row"]
    ok = peak_price <= close[row] if side == LONG else peak_price >= close[row]
    idx = np.flatnonzero(ok)
    price, usd = np.full(m, np.nan), np.full(m, np.nan)
    if len(idx):
        r = row[idx]
        # runs are in (row, bin) order: the nearest long run is the last qualifying one, the nearest short the first
        last = np.append(r[1:] != r[:-1], True) if side == LONG else np.insert(r[1:] != r[:-1], 0, True)
        pick = idx[last]
        price[row[pick]] = peak_price[pick]
        usd[row[pick]] = runs["usd"][pick]
    distance = np.abs(price - close) / close * 100
    return price, usd, distance
