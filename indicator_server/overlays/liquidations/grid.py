"""Time x price grids of still-open notional (the heatmap), built from difference arrays with no per-bar loop.

A level opened in bar j, swept in bar s (n if never), with price bin b, is alive in the sampled rows r with
j <= rows[r] < s and holds notional x exp(L_rows[r] - L_j) there (flow.log_survival). Per block of rows:
+w at (first alive row, b), -w at (first dead row, b), w = notional x exp(L_ref - L_j); a cumulative sum down the
rows, then each row times exp(L_row - L_ref) (PERFORMANCE.md "Liquidation heatmap"). Blocks are cut so that L falls
by at most ``LOG_SPAN`` inside one, which keeps every exponent finite however long the history.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .levels import LevelArrays

LOG_SPAN = 300.0
ROW_BLOCK = 2048


def sample_rows(n: int, max_rows: int) -> np.ndarray:
    """Bar indices shown as rows: every bar, or every ``ceil(n / max_rows)``-th ending at the last bar."""
    if n <= 0:
        return np.zeros(0, dtype="int64")
    stride = max(1, -(-n // max_rows))
    return np.arange(n - 1, -1, -stride, dtype="int64")[::-1].copy()


def price_edges(low: float, high: float, bins: int) -> np.ndarray:
    if not (np.isfinite(low) and np.isfinite(high)) or high <= low:
        mid = low if np.isfinite(low) else 1.0
        low, high = mid * 0.99, mid * 1.01
    return np.linspace(low, high, bins + 1)


def bin_index(price: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin of each price, -1 outside the axis (the top edge belongs to the last bin)."""
    bins = len(edges) - 1
    width = (edges[-1] - edges[0]) / bins
    idx = np.floor((price - edges[0]) / width).astype("int64")
    idx[price == edges[-1]] = bins - 1
    idx[(idx < 0) | (idx >= bins) | ~np.isfinite(price)] = -1
    return idx


def _blocks(log_rows: np.ndarray, row_block: int) -> Iterator[tuple[int, int]]:
    m, a = len(log_rows), 0
    neg = -log_rows  # non-decreasing
    while a < m:
        z = int(np.searchsorted(neg, neg[a] + LOG_SPAN, side="right"))
        z = max(a + 1, min(z, a + row_block, m))
        yield a, z
        a = z


def iter_alive_grid(levels: LevelArrays, log_surv: np.ndarray, rows: np.ndarray, edges: np.ndarray,
                    row_block: int = ROW_BLOCK) -> Iterator[tuple[int, int, np.ndarray]]:
    """Yield (first row, end row, grid block) with the open notional of ``levels`` per (row, price bin).

    ``log_surv`` may hold one column per tier (n x K, flow.log_survival with a leverage exponent): each tier is
    summed with its own column, in blocks cut on the fastest-falling column (it bounds every tier's fall)."""
    bins = len(edges) - 1
    b = bin_index(levels.price, edges)
    rs = np.searchsorted(rows, levels.bar, side="left")
    re = np.searchsorted(rows, levels.swept, side="left")
    keep = (b >= 0) & (rs < re) & (levels.notional > 0)
    b, rs, re = b[keep], rs[keep], re[keep]
    cols = log_surv[:, None] if log_surv.ndim == 1 else log_surv
    group = np.zeros(int(keep.sum()), dtype="int64") if log_surv.ndim == 1 else levels.tier[keep].astype("int64")
    notional, log_open = levels.notional[keep], cols[levels.bar[keep], group]
    log_rows = cols[rows]
    cut = log_rows.min(axis=1)
    tol = 1e-10 * float(notional.max()) if len(notional) else 0.0
    for a, z in _blocks(cut, row_block):
        sel = np.flatnonzero((rs < z) & (re > a))
        block = np.zeros((z - a, bins))
        for g in np.unique(group[sel]):
            one = sel[group[sel] == g]
            ref = log_rows[a, g]
            w = notional[one] * np.exp(ref - log_open[one])
            start = (np.maximum(rs[one], a) - a) * bins + b[one]
            end = (np.minimum(re[one], z) - a) * bins + b[one]
            diff = np.bincount(np.concatenate([start, end]), weights=np.concatenate([w, -w]),
                               minlength=(z - a + 1) * bins).astype("float64", copy=False)
            part = np.cumsum(diff.reshape(z - a + 1, bins)[:-1], axis=0)
            part *= np.exp(log_rows[a:z, g] - ref)[:, None]
            block += part
        block[block < tol] = 0.0  # rounding of +w/-w pairs must leave neither dust nor negatives
        yield a, z, block


def alive_grid(levels: LevelArrays, log_surv: np.ndarray, rows: np.ndarray, edges: np.ndarray) -> np.ndarray:
    out = np.zeros((len(rows), len(edges) - 1))
    for a, z, block in iter_alive_grid(levels, log_surv, rows, edges):
        out[a:z] = block
    return out
