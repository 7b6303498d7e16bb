"""``clusters_per_bar``: the nearest dense cluster on each side as of each bar, checked against a naive scan."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from indicator_server.overlays.liquidations import CLUSTER_COLUMNS, LiquidationParams, clusters_per_bar
from indicator_server.overlays.liquidations.grid import price_edges, sample_rows
from tests.overlays.liquidations.reference_loop import reference_model
from tests.overlays.overlay_frames import load_okx_sol_bars

BINS = 200


@pytest.fixture(scope="module")
def sol_bars() -> pd.DataFrame:
    return load_okx_sol_bars()


@pytest.fixture(scope="module")
def per_bar(sol_bars) -> pd.DataFrame:
    return clusters_per_bar(sol_bars, bins=BINS)


def _naive_nearest(hist: list[float], mids: np.ndarray, close: float, density: float, long: bool):
    """Scan bins one by one: dense runs, then the nearest one peaking on the right side of the close."""
    nonzero = [v for v in hist if v > 0]
    if not nonzero:
        return math.nan, math.nan
    threshold = density * sum(nonzero) / len(nonzero)
    runs, current = [], []
    for i, v in enumerate(hist):
        if v > 0 and v >= threshold:
            current.append(i)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    best = None
    for run in runs:
        peak = max(run, key=lambda i: (hist[i], -i))
        ok = mids[peak] <= close if long else mids[peak] >= close
        if ok and (best is None or abs(mids[peak] - close) < abs(mids[best[0]] - close)):
            best = (peak, sum(hist[i] for i in run))
    return (math.nan, math.nan) if best is None else (float(mids[best[0]]), best[1])


@pytest.mark.parametrize("t", [60, 200, 359])
def test_nearest_clusters_match_a_naive_scan(sol_bars, per_bar, t):
    params = LiquidationParams()
    pad = params.heatmap_pad_pct / 100
    edges = price_edges(sol_bars["low"].min() * (1 - pad), sol_bars["high"].max() * (1 + pad), BINS)
    mids = (edges[:-1] + edges[1:]) / 2
    width = (edges[-1] - edges[0]) / BINS
    ref = reference_model(sol_bars.iloc[: t + 1], params).levels
    close = float(sol_bars["close"].iloc[t])
    for side, name in ((0, "long"), (1, "short")):
        hist = [0.0] * BINS
        for price, usd in ref.loc[(ref["side"] == side) & (ref["open_usd"] > 0), ["price", "open_usd"]].itertuples(
                index=False):
            b = int(math.floor((price - edges[0]) / width))
            if 0 <= b < BINS:
                hist[b] += usd
        price, usd = _naive_nearest(hist, mids, close, params.cluster_density, long=side == 0)
        got = per_bar.iloc[t]
        if math.isnan(price):
            assert math.isnan(got[f"{name}_cluster_price"])
            continue
        assert got[f"{name}_cluster_price"] == pytest.approx(price, rel=1e-12)
        assert got[f"{name}_cluster_usd"] == pytest.approx(usd, rel=1e-9)
        assert got[f"{name}_cluster_distance_pct"] == pytest.approx(abs(price - close) / close * 100, rel=1e-9)


def test_columns_and_coverage(sol_bars, per_bar):
    assert list(per_bar.columns) == CLUSTER_COLUMNS
    assert per_bar.index.equals(sol_bars.index)
    assert (per_bar["long_cluster_distance_pct"].dropna() >= 0).all()
    assert per_bar["long_cluster_usd"].notna().mean() > 0.8
    assert per_bar["short_cluster_usd"].notna().mean() > 0.8


def test_stride_holds_the_last_computed_row(sol_bars, per_bar):
    strided = clusters_per_bar(sol_bars, bins=BINS, max_rows=50)
    rows = sample_rows(len(sol_bars), 50)
    assert rows[-1] == len(sol_bars) - 1 and rows[1] - rows[0] == 8
    for t in range(len(sol_bars)):
        src = rows[rows <= t]
        expected = per_bar.iloc[src[-1]] if len(src) else None
        for col in CLUSTER_COLUMNS[1:]:
            if expected is None:
                assert math.isnan(strided[col].iloc[t])
            else:
                np.testing.assert_allclose(strided[col].iloc[t], expected[col], rtol=1e-9, equal_nan=True)
