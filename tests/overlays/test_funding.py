"""Funding per interval, annualised and z-scored (DOMAIN.md section 5)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from indicator_server.overlays.funding import FUNDING_COLUMNS_OUT, annualize_funding, compute_funding
from tests.conftest import shared_data
from tests.overlays.overlay_frames import make_bars


@pytest.mark.parametrize(
    ("rate", "interval_hours", "annual"),
    [
        (0.0001, 8, 0.1095),  # the usual 0.01 % per 8h = 3 * 365 * 0.0001 = 10.95 % a year
        (0.0001, 4, 0.219),  # same rate paid twice as often
        (0.0001, 1, 0.876),
        (-0.0003, 8, -0.3285),  # shorts pay longs
        (0.000375, 8, 0.410625),
        (0.0, 8, 0.0),
        (0.0001, 0, np.nan),  # no interval -> undefined, never a division by zero
        (0.0001, np.nan, np.nan),
    ],
)
def test_annualization_table(rate, interval_hours, annual):
    got = annualize_funding(np.array([rate]), np.array([interval_hours]))[0]
    if np.isnan(annual):
        assert np.isnan(got)
    else:
        assert got == pytest.approx(annual, rel=1e-12)


def test_frame_columns_and_default_interval():
    bars = make_bars(
        [1.0, 1.0, 1.0, 1.0],
        funding_rate=[np.nan, 0.0001, 0.0001, 0.0002],
        funding_interval_hours=[np.nan, np.nan, 4.0, 8.0],
    )
    out = compute_funding(bars, zscore_window=2)
    assert list(out.columns) == FUNDING_COLUMNS_OUT
    # no rate: nothing filled; a rate without an interval: the documented 8h default
    assert np.isnan(out["funding_interval_hours"].iloc[0])
    assert out["funding_interval_hours"].iloc[1:].tolist() == [8.0, 4.0, 8.0]
    np.testing.assert_allclose(out["funding_annualized"].to_numpy(), [np.nan, 0.1095, 0.219, 0.219])
    # z of annualised rates: 0.1095 -> 0.219 is +1 (window 2); 0.219 -> 0.219 is flat, 0
    assert np.isnan(out["funding_zscore"].iloc[1])
    assert out["funding_zscore"].iloc[2] == pytest.approx(1.0)
    assert out["funding_zscore"].iloc[3] == 0.0


def test_no_default_interval_leaves_nan():
    bars = make_bars([1.0], funding_rate=0.0001)
    out = compute_funding(bars, default_interval_hours=None)
    assert np.isnan(out["funding_annualized"].iloc[0])


def test_interval_switch_is_not_a_rate_drop():
    """8h -> 4h funding at the same annual rate keeps the z-score at 0 (it is computed on annualised rates)."""
    bars = make_bars(
        np.ones(10), funding_rate=[0.0002] * 5 + [0.0001] * 5, funding_interval_hours=[8.0] * 5 + [4.0] * 5
    )
    out = compute_funding(bars, zscore_window=4)
    assert (out["funding_zscore"].iloc[3:] == 0.0).all()


def test_window_counts_bars_and_warms_up():
    rates = 0.0001 * (1 + np.sin(np.arange(300) / 7))
    out = compute_funding(make_bars(np.ones(300), funding_rate=rates, funding_interval_hours=8.0))
    assert out["funding_zscore"].iloc[:167].isna().all()
    assert out["funding_zscore"].iloc[167:].notna().all()
    window = out["funding_annualized"].iloc[300 - 168 :]
    expected = (window.iloc[-1] - window.mean()) / window.std(ddof=0)
    assert out["funding_zscore"].iloc[-1] == pytest.approx(expected)


def test_real_binance_funding():
    funding = pd.read_csv(shared_data("binance-btcusdt", "funding.csv"))
    bars = make_bars(
        np.ones(len(funding)),
        funding_rate=funding["fundingRate"],
        funding_interval_hours=funding["fundingIntervalHours"],
    )
    out = compute_funding(bars, zscore_window=90)
    expected = funding["fundingRate"] * 24 / funding["fundingIntervalHours"] * 365
    np.testing.assert_allclose(out["funding_annualized"].to_numpy(), expected.to_numpy(), rtol=1e-12)
    z = out["funding_zscore"].dropna()
    assert len(z) == len(funding) - 89
    assert z.abs().max() < np.sqrt(89)  # a z-score within n values cannot exceed sqrt(n - 1)
