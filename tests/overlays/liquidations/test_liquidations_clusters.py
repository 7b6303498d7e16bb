"""Clusters and max pain: on a grid fixed in price terms (``cluster_bin_pct``), so the drawing resolution ``bins``
changes the map only; ``clusters_per_bar`` (the confluence input) gives, bar by bar, the clusters the whole product
gives on the bars up to that one; both checked against a naive scan."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from indicator_server.errors import InvalidArgument
from indicator_server.market.assemble import assemble_bars
from indicator_server.market.sim import GENESIS_MS, SimSource
from indicator_server.overlays.liquidations import (
    CLUSTER_COLUMNS,
    MODEL_VERSION,
    LiquidationParams,
    clusters_per_bar,
    estimate_liquidations,
)
from indicator_server.overlays.liquidations.grid import ROW_BLOCK, sample_rows
from indicator_server.timeframes import HOUR_MS
from tests.conftest import shared_data
from tests.overlays.liquidations.reference_loop import binance_bars, reference_model
from tests.overlays.overlay_frames import load_okx_sol_bars

BINS = (200, 500, 1000, 2000)
SIM_SYMBOLS = ("BTCUSDT", "ETHUSDT", "DOGEUSDT")
SIM_CLOCK = pd.Timestamp("2026-01-01", tz="UTC").timestamp()


@pytest.fixture(scope="module")
def sol_bars() -> pd.DataFrame:
    return load_okx_sol_bars()


@pytest.fixture(scope="module")
def per_bar(sol_bars) -> pd.DataFrame:
    return clusters_per_bar(sol_bars)


def sim_bars(symbol: str, end: str, n: int) -> pd.DataFrame:
    """``n`` 1h bars of the simulated exchange (klines, OI, funding, long/short ratio), as the API assembles them."""
    source = SimSource(clock=lambda: SIM_CLOCK, symbols=SIM_SYMBOLS)
    end_ms = int(pd.Timestamp(end, tz="UTC").value // 1_000_000)
    start = max(GENESIS_MS, end_ms - (n - 1) * HOUR_MS)
    parts = (source.fetch_klines(symbol, "1h", start, end_ms), source.fetch_open_interest(symbol, "1h", start, end_ms),
             source.fetch_funding(symbol, start, end_ms + HOUR_MS),
             source.fetch_long_short_ratio(symbol, "1h", start, end_ms))
    return assemble_bars(*(p.frame for p in parts), HOUR_MS, sample_tolerance=HOUR_MS)


@pytest.fixture(scope="module", params=[(s, e) for s in SIM_SYMBOLS for e in ("2024-06-01", "2025-09-01")],
                ids=lambda p: f"{p[0]}-{p[1]}")
def sim_case(request) -> pd.DataFrame:
    return sim_bars(*request.param, 600)


def _naive_nearest(levels: pd.DataFrame, close: float, params: LiquidationParams, long: bool):
    """Bin every open level of one side on the grid [g^k, g^(k+1)) one by one (math.log, a dict of bins), keep the
    bins touching close x (1 +/- range), then scan for dense runs and the nearest one peaking on the right side."""
    lng = math.log(1 + params.cluster_bin_pct / 100)
    r = params.map_range_pct / 100
    k_lo, k_hi = math.floor(math.log(close * (1 - r)) / lng), math.floor(math.log(close * (1 + r)) / lng)
    hist = {k: 0.0 for k in range(k_lo, k_hi + 1)}
    for price, usd in levels.itertuples(index=False):
        k = math.floor(math.log(price) / lng)
        if k in hist:
            hist[k] += usd
    nonzero = [v for v in hist.values() if v > 0]
    if not nonzero:
        return math.nan, math.nan
    threshold = params.cluster_density * sum(nonzero) / len(nonzero)
    runs, current = [], []
    for k in range(k_lo, k_hi + 1):
        if hist[k] > 0 and hist[k] >= threshold:
            current.append(k)
        elif current:
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    best = None
    for run in runs:
        peak = max(run, key=lambda k: (hist[k], -k))
        mid = (math.exp(peak * lng) + math.exp((peak + 1) * lng)) / 2
        ok = mid <= close if long else mid >= close
        if ok and (best is None or abs(mid - close) < abs(best[0] - close)):
            best = (mid, sum(hist[k] for k in run))
    return (math.nan, math.nan) if best is None else best


@pytest.mark.parametrize("t", [60, 200, 359])
def test_nearest_clusters_match_a_naive_scan(sol_bars, per_bar, t):
    params = LiquidationParams()
    ref = reference_model(sol_bars.iloc[: t + 1], params).levels
    close = float(sol_bars["close"].iloc[t])
    for side, name in ((0, "long"), (1, "short")):
        open_ = ref.loc[(ref["side"] == side) & (ref["open_usd"] > 0), ["price", "open_usd"]]
        price, usd = _naive_nearest(open_, close, params, long=side == 0)
        got = per_bar.iloc[t]
        if math.isnan(price):
            assert math.isnan(got[f"{name}_cluster_price"])
            continue
        assert got[f"{name}_cluster_price"] == pytest.approx(price, rel=1e-12)
        assert got[f"{name}_cluster_usd"] == pytest.approx(usd, rel=1e-9)
        assert got[f"{name}_cluster_distance_pct"] == pytest.approx(abs(price - close) / close * 100, rel=1e-9)


def _answer(result) -> tuple:
    clusters = [(c["side"], c["price_low"], c["price_high"], c["price_peak"], c["notional_usd"]) for c in
                result.clusters]
    pains = [(s, p["price"], p["notional_usd"], p["bin_usd"]) for s, p in sorted(result.max_pain.items()) if p]
    return clusters, pains


def _assert_same(a: tuple, b: tuple, rel: float) -> None:
    for got, expected in zip(a, b, strict=True):
        assert len(got) == len(expected)
        for g, e in zip(got, expected, strict=True):
            assert g[0] == e[0]
            np.testing.assert_allclose(g[1:], e[1:], rtol=rel)


def test_bins_change_the_map_not_the_clusters_or_max_pain(sol_bars):
    """The issue's case (nearest cluster 1.38% / 0.25% / 0.07% away with 200 / 500 / 1,000 bins): the same bars
    with any ``bins`` give the same clusters and max pain (asserted to 1e-12 relative: the grid does not use
    ``bins`` at all), while the map has ``bins`` bins."""
    results = {b: estimate_liquidations(sol_bars, bins=b) for b in BINS}
    for b, result in results.items():
        assert len(result.map["price"]) == b
        assert result.clusters and result.max_pain["long"] and result.max_pain["short"]
        _assert_same(_answer(result), _answer(results[500]), rel=1e-12)


def test_on_sim_symbols_clusters_ignore_bins_and_per_bar_equals_the_product(sim_case):
    """Property across symbols (BTC ~ 1e4-1e5, DOGE < 1) and bars: at every sampled bar t, the product on
    bars[: t + 1] with any ``bins`` has the same clusters and max pain, its nearest long / short cluster is
    ``clusters_per_bar``'s row t, and every cluster's bounds are edges g^k of the grid."""
    params = LiquidationParams()
    lng = math.log1p(params.cluster_bin_pct / 100)
    per_bar = clusters_per_bar(sim_case, params)
    checked = 0
    for t in (100, 250, 420, len(sim_case) - 1):
        head = sim_case.iloc[: t + 1]
        results = [estimate_liquidations(head, params, bins=b, include=("clusters",)) for b in (BINS[0], BINS[-1])]
        _assert_same(_answer(results[0]), _answer(results[1]), rel=1e-12)
        for c in results[0].clusters:
            for edge in (c["price_low"], c["price_high"]):
                assert math.log(edge) / lng == pytest.approx(round(math.log(edge) / lng), abs=1e-6)
        for side in ("long", "short"):
            nearest = next((c for c in results[0].clusters if c["side"] == side), None)
            row = per_bar.iloc[t]
            if nearest is None:
                assert math.isnan(row[f"{side}_cluster_price"])
                continue
            checked += 1
            assert row[f"{side}_cluster_price"] == pytest.approx(nearest["price_peak"], rel=1e-12)
            assert row[f"{side}_cluster_usd"] == pytest.approx(nearest["notional_usd"], rel=1e-9)
            assert row[f"{side}_cluster_distance_pct"] == pytest.approx(nearest["distance_pct"], rel=1e-9)
    assert checked >= 6


def test_cluster_grid_is_a_model_parameter(sol_bars):
    """``cluster_bin_pct`` is echoed in meta.model, validated, and (unlike ``bins``) changes the clusters."""
    result = estimate_liquidations(sol_bars)
    assert result.model["version"] == MODEL_VERSION == "1.2"
    assert result.model["params"]["cluster_bin_pct"] == 0.5
    coarse = estimate_liquidations(sol_bars, LiquidationParams(cluster_bin_pct=2.0))
    assert _answer(coarse)[0] != _answer(result)[0]
    grid = result.cluster_grid
    np.testing.assert_allclose(grid["price_high"] / grid["price_low"], 1.005, rtol=1e-12)
    for bad in (0, -1, 50):
        with pytest.raises(InvalidArgument):
            LiquidationParams(cluster_bin_pct=bad)


def test_columns_and_coverage(sol_bars, per_bar):
    assert list(per_bar.columns) == CLUSTER_COLUMNS
    assert per_bar.index.equals(sol_bars.index)
    assert (per_bar["long_cluster_distance_pct"].dropna() >= 0).all()
    assert per_bar["long_cluster_usd"].notna().mean() > 0.8
    assert per_bar["short_cluster_usd"].notna().mean() > 0.8


def test_stride_holds_the_last_computed_row(sol_bars, per_bar):
    strided = clusters_per_bar(sol_bars, max_rows=50)
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


def test_per_bar_equals_the_product_across_row_chunks():
    """More rows than one chunk of ``clusters_per_bar`` (ROW_BLOCK, each chunk on the grid bins its rows span):
    rows on both sides of a chunk edge still equal the product on the bars up to them (recorded Binance BTC)."""
    bars = binance_bars(shared_data("binance-btcusdt", "klines-1h.csv"), n=ROW_BLOCK + 300)
    per_bar = clusters_per_bar(bars)
    for t in (ROW_BLOCK - 1, ROW_BLOCK, len(bars) - 1):
        result = estimate_liquidations(bars.iloc[: t + 1], include=("clusters",))
        for side in ("long", "short"):
            nearest = next(c for c in result.clusters if c["side"] == side)
            assert per_bar[f"{side}_cluster_price"].iloc[t] == pytest.approx(nearest["price_peak"], rel=1e-12)
            assert per_bar[f"{side}_cluster_usd"].iloc[t] == pytest.approx(nearest["notional_usd"], rel=1e-9)
