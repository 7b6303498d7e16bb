"""The two baselines on tiny hand-made bars: profile masses, the split at the close, excursion bands, swept."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from indicator_server.accuracy import baselines


def _bars(rows: list[tuple[float, float, float, float, float, float]]) -> pd.DataFrame:
    """(open, high, low, close, quote_volume, open_interest_usd) per 1h bar."""
    frame = pd.DataFrame(rows, columns=["open", "high", "low", "close", "quote_volume", "open_interest_usd"])
    frame.insert(0, "time", np.arange(len(rows), dtype="int64") * 3_600_000)
    return frame


def test_volume_profile_spreads_each_bar_evenly_over_its_range():
    bars = _bars([(100, 110, 100, 105, 10.0, 0), (110, 115, 105, 112, 20.0, 0)])
    profile = baselines.volume_profile(bars, np.array([100.0, 105.0, 110.0, 115.0]))
    # bar 1: 5 + 5 over [100,105),[105,110); bar 2: 10 + 10 over [105,110),[110,115)
    assert profile == pytest.approx([5.0, 15.0, 10.0])


def test_a_bar_without_range_puts_its_volume_in_one_bin():
    bars = _bars([(102, 102, 102, 102, 7.0, 0)])
    assert baselines.volume_profile(bars, np.array([100.0, 101.0, 103.0, 104.0])) == pytest.approx([0, 7.0, 0])


def test_volume_at_price_map_is_the_profile_below_and_above_the_close():
    bars = _bars([(100, 110, 100, 105, 10.0, 0), (110, 115, 105, 107.5, 20.0, 0)])
    long_usd, short_usd = baselines.volume_at_price_map(bars, np.array([100.0, 105.0, 110.0, 115.0]))
    # close 107.5 halves the middle bin: 15 -> 7.5 below, 7.5 above
    assert long_usd == pytest.approx([5.0, 7.5, 0.0])
    assert short_usd == pytest.approx([0.0, 7.5, 10.0])
    swept = baselines.volume_at_price_swept(bars)
    assert swept["long_usd"].tolist() == [10.0, 20.0] == swept["short_usd"].tolist()


def test_median_excursions_look_one_day_ahead():
    bars = _bars([(100, 100, 100, 100, 1.0, 1.0)] * 30)
    bars.loc[10, "low"] = 90.0  # one deep wick
    down, up = baselines.median_excursions(bars)
    # only bars 0..5 have a full day (24 bars) after them, and each sees the wick at bar 10 -> 10 % each
    assert down == pytest.approx(0.10)
    assert up == 0.0


def test_excursion_x_oi_map_bands_below_lows_and_above_highs_minus_what_was_traded_through():
    # 26 flat bars at 100 (range 99-101), then a last bar that dips to 98: e_down = e_up = 1 % (next-day extremes)
    rows = [(100, 101, 99, 100, 1.0, 100.0)] * 26 + [(100, 101, 98, 100, 1.0, 100.0)]
    bars = _bars(rows)
    e_down, e_up = baselines.median_excursions(bars)
    assert e_down == pytest.approx(0.01) and e_up == pytest.approx(0.01)
    edges = np.array([90.0, 98.01, 99.0, 101.0, 102.01, 110.0])
    long_usd, short_usd = baselines.excursion_oi_map(bars, edges)
    # longs: the first 26 bands [98.01, 99] were all traded through by the last low 98 -> gone; the last bar's band
    # [97.02, 98] stays (in the first bin)
    assert long_usd.sum() == pytest.approx(100.0)
    assert long_usd[0] == pytest.approx(100.0)
    # shorts: every band [101, 102.01] stays (no later high above 101): 27 bars x 100 USD in bin [101, 102.01]
    assert short_usd[3] == pytest.approx(2700.0)
    assert short_usd.sum() == pytest.approx(2700.0)


def test_excursion_x_oi_swept_is_the_move_times_open_interest():
    bars = _bars([(100, 104, 98, 101, 1.0, 1_000.0), (101, 101, 101, 101, 1.0, float("nan"))])
    swept = baselines.excursion_oi_swept(bars)
    assert swept["long_usd"].tolist() == pytest.approx([20.0, 0.0])
    assert swept["short_usd"].tolist() == pytest.approx([40.0, 0.0])
