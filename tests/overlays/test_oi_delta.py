"""OI delta, price/OI quadrants (DOMAIN.md section 4) and the rolling z-score."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indicator_server.overlays.oi_delta import OI_DELTA_COLUMNS, QUADRANTS, classify_quadrant, compute_oi_delta
from indicator_server.overlays.zscore import rolling_zscore
from tests.overlays.overlay_frames import load_okx_sol_bars, make_bars


@pytest.mark.parametrize(
    ("prev_close", "close", "prev_oi", "oi", "expected"),
    [
        (100, 101, 1000, 1010, "longs_opening"),  # price up + OI up = new longs
        (100, 99, 1000, 1010, "shorts_opening"),  # price down + OI up = new shorts
        (100, 101, 1000, 990, "short_covering"),  # price up + OI down
        (100, 99, 1000, 990, "long_closing"),  # price down + OI down = long liquidation / closing
        (100, 100, 1000, 1010, None),  # flat price
        (100, 101, 1000, 1000, None),  # flat OI
        (100, 101, np.nan, 1000, None),  # no OI before
        (100, 101, 1000, np.nan, None),  # no OI now
    ],
)
def test_quadrant_table(prev_close, close, prev_oi, oi, expected):
    out = compute_oi_delta(make_bars([prev_close, close], open_interest=[prev_oi, oi]), zscore_window=2)
    assert out["quadrant"].iloc[0] is None
    assert out["quadrant"].iloc[1] == expected


def test_quadrants_are_the_documented_labels():
    labels = classify_quadrant(np.array([1, -1, 1, -1.0]), np.array([1, 1, -1, -1.0]))
    assert tuple(labels) == QUADRANTS


def test_hand_computed_deltas():
    bars = make_bars(
        [60_000.0, 61_000.0, 59_000.0],
        open_interest=[80_000.0, 80_400.0, 79_396.0],
        open_interest_usd=[4.8e9, 4.9044e9, 4.684364e9],
    )
    out = compute_oi_delta(bars, zscore_window=2)
    assert list(out.columns) == OI_DELTA_COLUMNS
    assert np.isnan(out["delta"].iloc[0])
    assert out["delta"].iloc[1:].tolist() == pytest.approx([400.0, -1004.0])
    # USD notional of the positions opened/closed, priced at the bar's close (not the change of OI value)
    assert out["delta_usd"].iloc[1:].tolist() == pytest.approx([400.0 * 61_000, -1004.0 * 59_000])
    assert out["delta_pct"].iloc[1:].tolist() == pytest.approx([0.5, -1004.0 / 80_400 * 100])
    assert out["quadrant"].tolist() == [None, "longs_opening", "long_closing"]
    # window 2, population std: z of the later of two values is +1 (or -1)
    assert np.isnan(out["zscore"].iloc[1])
    assert out["zscore"].iloc[2] == pytest.approx(-1.0)
    assert out["open_interest_usd"].tolist() == bars["open_interest_usd"].tolist()


def test_oi_gaps_stay_gaps():
    oi = [np.nan, np.nan, 100.0, 110.0, np.nan, 120.0, 125.0, 130.0]
    bars = make_bars(np.arange(1.0, 9.0), open_interest=oi)
    out = compute_oi_delta(bars, zscore_window=2)
    expected = [np.nan, np.nan, np.nan, 10.0, np.nan, np.nan, 5.0, 5.0]
    np.testing.assert_array_equal(out["delta"].to_numpy(), expected)
    assert out["quadrant"].tolist() == [None, None, None, "longs_opening", None, None, "longs_opening", "longs_opening"]
    # z-score needs two deltas in the window: only the last bar has them, and they are equal -> 0
    assert out["zscore"].isna().sum() == 7
    assert out["zscore"].iloc[-1] == 0.0


def test_no_open_interest_at_all():
    out = compute_oi_delta(make_bars([1.0, 2.0, 3.0]))
    assert out[["delta", "delta_usd", "delta_pct", "zscore"]].isna().all().all()
    assert out["quadrant"].tolist() == [None, None, None]


def test_keeps_the_index():
    bars = make_bars([1.0, 2.0, 1.5], open_interest=[5.0, 6.0, 7.0])
    bars.index = [7, 8, 9]
    out = compute_oi_delta(bars, zscore_window=2)
    assert list(out.index) == [7, 8, 9]
    assert out["quadrant"].tolist() == [None, "longs_opening", "shorts_opening"]


def test_real_okx_open_interest():
    bars = load_okx_sol_bars()
    out = compute_oi_delta(bars)
    oi = bars["open_interest"]
    assert out["delta"].sum() == pytest.approx(oi.iloc[-1] - oi.iloc[0], rel=1e-9)
    assert set(out["quadrant"].dropna()) == set(QUADRANTS)
    assert out["zscore"].iloc[:50].isna().all()
    assert out["zscore"].iloc[50:].notna().all()


# ---- rolling z-score -------------------------------------------------------------------------------------------


def test_zscore_hand_computed():
    # window 3 over [1, 2, 3, 10]: [1,2,3] mean 2, std sqrt(2/3); [2,3,10] mean 5, std sqrt(38/3)
    z = rolling_zscore(pd.Series([1.0, 2.0, 3.0, 10.0]), 3)
    assert z.iloc[:2].isna().all()
    assert z.iloc[2] == pytest.approx(1 / np.sqrt(2 / 3))
    assert z.iloc[3] == pytest.approx(5 / np.sqrt(38 / 3))


def test_zscore_of_a_flat_window_is_zero():
    values = pd.Series([0.3, 0.1, 0.0001, 0.0001, 0.0001, 0.0001])
    z = rolling_zscore(values, 4)
    assert z.iloc[-1] == 0.0
    assert rolling_zscore(pd.Series(np.zeros(5)), 3).iloc[2:].tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("window", [1, 0, 2.5])
def test_zscore_rejects_bad_window(window):
    with pytest.raises(ValueError):
        rolling_zscore(pd.Series([1.0, 2.0]), window)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), st.just(float("nan"))),
        min_size=1,
        max_size=80,
    ),
    st.integers(min_value=2, max_value=12),
)
def test_zscore_matches_a_direct_window_computation(values, window):
    z = rolling_zscore(pd.Series(values), window).to_numpy()
    x = np.asarray(values)
    for i in range(len(x)):
        win = x[max(0, i - window + 1) : i + 1]
        win = win[~np.isnan(win)]
        if np.isnan(x[i]) or len(win) < window:
            assert np.isnan(z[i])
            continue
        std = win.std()
        if std <= 1e-9 * np.abs(win).max():
            assert z[i] == 0.0
        elif std > 1e-6 * max(np.abs(win).max(), 1.0):  # away from the flat cut-off, where rounding decides
            assert z[i] == pytest.approx((x[i] - win.mean()) / std, rel=1e-6, abs=1e-6)
