"""pine/oi_delta.pine against the server's compute_oi_delta on the same recorded bars (OKX SOL-USDT-SWAP 1h).

The delta, its USD value and percentage are the same arithmetic on the same numbers: exact. The z-score sums in
a different order (Pine: two passes over the window; pandas: a rolling online update), so it agrees to float
rounding (measured 3e-15; asserted 1e-9). OI reaches Pine through the "OI source" input (harness docstring).
"""

from __future__ import annotations

import numpy as np
import pytest

from indicator_server.overlays.oi_delta import QUADRANTS, compute_oi_delta
from tests.pine.harness import max_abs_diff, oi_inputs, plot_array, require_pyne, run_pine

QUADRANT_CODES = {name: code for code, name in enumerate(QUADRANTS, start=1)}
Z_TOLERANCE = 1e-9


@pytest.fixture(scope="module")
def runs(sol_bars):
    require_pyne()
    gap = sol_bars.copy()
    gap.loc[200:203, "open_interest"] = np.nan  # four hours without OI: nothing may be interpolated across
    out = {}
    for key, bars in (("full", sol_bars), ("gap", gap)):
        out[key] = (run_pine("oi_delta.pine", bars, oi_inputs(bars)), compute_oi_delta(bars))
    return out


@pytest.mark.parametrize("key", ["full", "gap"])
@pytest.mark.parametrize(("plot", "column"), [("Delta", "delta"), ("Delta USD", "delta_usd"), ("Delta %", "delta_pct"),
                                              ("Open interest", "open_interest")])
def test_delta_is_exact(runs, key, plot, column):
    pine, server = runs[key]
    np.testing.assert_array_equal(plot_array(pine, plot), server[column].to_numpy(dtype="float64"))


@pytest.mark.parametrize("key", ["full", "gap"])
def test_zscore_matches(runs, key):
    pine, server = runs[key]
    z, expected = plot_array(pine, "Z-score"), server["zscore"].to_numpy(dtype="float64")
    np.testing.assert_array_equal(np.isnan(z), np.isnan(expected))
    diff, bars = max_abs_diff(z, expected)
    assert diff < Z_TOLERANCE
    assert bars == (310 if key == "full" else 310 - 54)  # the gap hides 4 deltas + 50 bars of window after it


@pytest.mark.parametrize("key", ["full", "gap"])
def test_quadrant_matches(runs, key):
    pine, server = runs[key]
    codes = np.array([QUADRANT_CODES.get(q, 0) for q in server["quadrant"]])
    np.testing.assert_array_equal(plot_array(pine, "Quadrant"), codes)
    assert set(codes) == {0, 1, 2, 3, 4}


def test_histogram_shows_the_chosen_unit(sol_bars):
    require_pyne()
    bars = sol_bars.iloc[:80].reset_index(drop=True)
    pine = run_pine("oi_delta.pine", bars, oi_inputs(bars) | {"Histogram": "Delta USD", "Z-score window": 20})
    server = compute_oi_delta(bars, zscore_window=20)
    np.testing.assert_array_equal(plot_array(pine, "Histogram"), server["delta_usd"].to_numpy(dtype="float64"))
    assert max_abs_diff(plot_array(pine, "Z-score"), server["zscore"].to_numpy())[0] < Z_TOLERANCE
