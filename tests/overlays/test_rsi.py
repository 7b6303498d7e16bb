"""RSI equals TradingView's ta.rsi (DOMAIN.md section 6)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ta.momentum import RSIIndicator

from indicator_server.overlays.rsi import compute_rma, compute_rsi
from tests.conftest import shared_data
from tests.overlays.overlay_frames import load_binance_closes

# Wilder's RSI worked example as published by StockCharts ChartSchool, "Relative Strength Index (RSI)",
# spreadsheet cs-rsi.xls (https://school.stockcharts.com/doku.php?id=technical_indicators:relative_strength_index_rsi):
# closes of 14-Dec-09 .. 01-Feb-10 and the RSI(14) it publishes, to two decimals, from the 15th close on.
# (bukosabino/ta's test/data/cs-rsi.csv holds the same closes but with RSI recomputed by ta's own seeding:
# 71.86 where StockCharts and TradingView give 70.53, so it is not used here.)
STOCKCHARTS_CLOSES = [
    44.3389, 44.0902, 44.1497, 43.6124, 44.3278, 44.8264, 45.0955, 45.4245, 45.8433, 46.0826, 45.8931,
    46.0328, 45.6140, 46.2820, 46.2820, 46.0028, 46.0328, 46.4116, 46.2222, 45.6439, 46.2122, 46.2521,
    45.7137, 46.4515, 45.7835, 45.3548, 44.0288, 44.1783, 44.2181, 44.5672, 43.4205, 42.6628, 43.1314,
]  # fmt: skip
STOCKCHARTS_RSI = [
    70.53, 66.32, 66.55, 69.41, 66.36, 57.97, 62.93, 63.26, 56.06, 62.38,
    54.71, 50.42, 39.99, 41.46, 41.87, 45.46, 37.30, 33.08, 37.77,
]  # fmt: skip
# The table's first averages (14 changes): average gain 0.24, average loss 0.10 (to two decimals).
STOCKCHARTS_FIRST_AVG_GAIN = 0.2384
STOCKCHARTS_FIRST_AVG_LOSS = 0.0996

# TradingView computed its RSI from a longer history than the export holds, so our seed (the first 14 changes of
# the file) differs from TradingView's; the gap shrinks by 13/14 per bar. Measured: max |diff| is 1.9e-8 (1h) and
# 1.7e-7 (1D) after 250 bars, and 3.6e-14, float rounding, after 500.
TV_WARMUP = 250
TV_TOLERANCE = 1e-6
TV_EXACT_AFTER = 500
TV_EXACT_TOLERANCE = 1e-10


@pytest.mark.parametrize("name", ["CME_MINI_DL_NQ1_60_with_rsi.csv", "CME_MINI_DL_NQ1_1D_with_rsi.csv"])
def test_equals_tradingview_export(name):
    export = pd.read_csv(shared_data("tradingview-exports", name), usecols=["time", "close", "RSI"])
    rsi = compute_rsi(export["close"])
    assert rsi.iloc[:14].isna().all()
    assert rsi.iloc[14:].notna().all()
    diff = (rsi - export["RSI"]).abs()
    assert diff.iloc[TV_WARMUP:].max() < TV_TOLERANCE
    assert diff.iloc[TV_EXACT_AFTER:].max() < TV_EXACT_TOLERANCE
    # The warm-up is needed: at the start the seeds really differ.
    assert diff.iloc[14:30].max() > 0.01


def test_stockcharts_worked_example():
    rsi = compute_rsi(pd.Series(STOCKCHARTS_CLOSES))
    assert rsi.iloc[:14].isna().all()
    assert rsi.iloc[14:].round(2).tolist() == STOCKCHARTS_RSI


def test_stockcharts_seed_is_the_simple_average():
    change = pd.Series(STOCKCHARTS_CLOSES).diff().iloc[1:]
    avg_gain = compute_rma(change.clip(lower=0), 14)
    avg_loss = compute_rma((-change).clip(lower=0), 14)
    assert avg_gain.iloc[:13].isna().all()
    assert avg_gain.iloc[13] == pytest.approx(STOCKCHARTS_FIRST_AVG_GAIN, abs=5e-5)
    assert avg_loss.iloc[13] == pytest.approx(STOCKCHARTS_FIRST_AVG_LOSS, abs=5e-5)
    # then Wilder's smoothing: (previous * 13 + current) / 14
    expected = (avg_gain.iloc[13] * 13 + change.clip(lower=0).iloc[14]) / 14
    assert avg_gain.iloc[14] == pytest.approx(expected, rel=1e-12)


def test_rma_skips_leading_nans():
    values = pd.Series([np.nan, np.nan, 1.0, 2.0, 3.0, 4.0])
    rma = compute_rma(values, 3)
    assert rma.iloc[:4].isna().all()
    assert rma.iloc[4] == pytest.approx(2.0)
    assert rma.iloc[5] == pytest.approx((2.0 * 2 + 4.0) / 3)


@pytest.mark.parametrize(
    ("closes", "expected"),
    [
        (np.arange(1.0, 31.0), 100.0),  # only gains: average loss 0 -> 100
        (np.arange(30.0, 0.0, -1.0), 0.0),  # only losses: average gain 0 -> 0
        (np.full(30, 7.0), 100.0),  # flat: average loss 0 -> 100, as TradingView's RSI indicator
    ],
    ids=["all-up", "all-down", "flat"],
)
def test_edge_cases(closes, expected):
    rsi = compute_rsi(pd.Series(closes))
    assert rsi.iloc[:14].isna().all()
    assert (rsi.iloc[14:] == expected).all()


def test_gain_after_only_losses_leaves_zero():
    closes = list(np.arange(30.0, 14.0, -1.0)) + [20.0]
    rsi = compute_rsi(pd.Series(closes))
    assert rsi.iloc[14] == 0.0
    assert 0.0 < rsi.iloc[-1] < 100.0


def test_too_short_is_all_nan_and_keeps_index():
    close = pd.Series([1.0, 2.0, 3.0], index=[10, 20, 30])
    rsi = compute_rsi(close)
    assert rsi.name == "rsi"
    assert list(rsi.index) == [10, 20, 30]
    assert rsi.isna().all()
    assert compute_rsi(pd.Series([], dtype="float64")).empty


def test_nan_closes_are_skipped_not_filled():
    closes = pd.Series(STOCKCHARTS_CLOSES)
    with_gaps = closes.copy()
    with_gaps.index = range(100, 100 + len(closes))
    with_gaps = pd.concat([with_gaps.iloc[:20], pd.Series([np.nan], index=[999]), with_gaps.iloc[20:]])
    rsi = compute_rsi(with_gaps)
    assert np.isnan(rsi.loc[999])
    np.testing.assert_allclose(rsi.drop(999).to_numpy(), compute_rsi(closes).to_numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("length", [0, -3, 2.5])
def test_rejects_bad_length(length):
    with pytest.raises(ValueError):
        compute_rsi(pd.Series(STOCKCHARTS_CLOSES), length)


def test_ta_library_converges_to_it():
    """``ta`` runs the same recursion with another seed: 12+ points apart at first, equal after warm-up."""
    close = load_binance_closes().iloc[:2000]
    ours = compute_rsi(close)
    theirs = RSIIndicator(close, window=14).rsi()
    diff = (ours - theirs).abs()
    assert diff.iloc[14] > 1.0
    assert diff.iloc[400:].max() < 1e-9


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(min_value=1.0, max_value=1e6, allow_nan=False), min_size=2, max_size=120),
    st.integers(min_value=1, max_value=30),
)
def test_bounded_and_mirror_symmetric(closes, length):
    close = pd.Series(closes)
    rsi = compute_rsi(close, length)
    assert rsi.iloc[: min(length, len(close))].isna().all()
    defined = rsi.dropna()
    assert ((defined >= 0) & (defined <= 100)).all()
    # Mirroring prices swaps gains and losses: RSI -> 100 - RSI, wherever both averages are non-zero.
    change = close.diff().iloc[1:]
    up = compute_rma(change.clip(lower=0), length).to_numpy()
    down = compute_rma((-change).clip(lower=0), length).to_numpy()
    both = np.concatenate([[False], (up > 0) & (down > 0)])
    mirrored = compute_rsi(2e6 - close, length)
    np.testing.assert_allclose(mirrored[both], 100.0 - rsi[both], atol=1e-8)
