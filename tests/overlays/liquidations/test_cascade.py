"""The cascade view on hand-made cluster grids: known cumulative curves give known forced notional, the run stops at
the known thin bin (or is carried past it by the square-root impact), the share is against a known volume; and
properties on random grids (forced notional non-decreasing in the move, exhaustion at or beyond the target)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indicator_server.overlays.liquidations import estimate_liquidations
from indicator_server.overlays.liquidations.cascade import (
    DEFAULT_MOVES_PCT,
    Activity,
    activity,
    bars_activity,
    cascade_view,
    hourly_volume_at,
    side_walk,
)
from indicator_server.overlays.liquidations.payload import result_payload
from indicator_server.overlays.liquidations.product import grid_edges
from tests.conftest import shared_data
from tests.overlays.liquidations.reference_loop import binance_bars

BIN_PCT = 1.0
FIRST, LAST = 440, 485  # 1% bins around 100 (ln 100 / ln 1.01 = 462.8)
NBINS = LAST - FIRST + 1
C = 463 - FIRST  # the close's bin
LN_G = math.log(1 + BIN_PCT / 100)


def make_grid(long_usd: dict[int, float], short_usd: dict[int, float], close: float | None = None):
    """A cluster grid (product.cluster_map's keys) with the given USD per bin offset from the close's bin
    (long offsets <= 0, short offsets >= 0); the close in the geometric middle of its bin unless given."""
    edges = grid_edges(FIRST, LAST, BIN_PCT)
    close = close if close is not None else math.sqrt(edges[C] * edges[C + 1])
    grid = {"price_low": edges[:-1], "price_high": edges[1:], "price": (edges[:-1] + edges[1:]) / 2,
            "close_bin": C, "first_bin": FIRST}
    for name, amounts in (("long", long_usd), ("short", short_usd)):
        usd = np.zeros(NBINS)
        for offset, value in amounts.items():
            usd[C + offset] = value
        grid[f"{name}_usd"] = usd
        cum = np.zeros(NBINS)
        if name == "long":
            cum[: C + 1] = np.cumsum(usd[: C + 1][::-1])[::-1]
        else:
            cum[C:] = np.cumsum(usd[C:])
        grid[f"{name}_cum_usd"] = cum
    return grid, close


def no_impact(volume: float = 1e6) -> Activity:
    """One wide bar holding every price, ``volume`` per hour, no volatility (so no impact)."""
    return activity(np.array([1.0]), np.array([1e9]), np.array([100.0]), np.array([volume]), 1.0)


def row(part: dict, direction: str, move: float) -> dict:
    return next(r for r in part[direction] if r["move_pct"] == move)


# a dense band right under the close, a thin bin at -3, a dense band again, then nothing
LONGS = {0: 40.0, -1: 100.0, -2: 120.0, -3: 1.0, -4: 150.0, -5: 110.0, -6: 0.0, -7: 90.0}
SHORTS = {0: 20.0, 1: 60.0, 2: 5.0, 3: 80.0}


def test_forced_notional_is_the_cum_curve_at_bin_edges_and_linear_in_log_price_between():
    grid, close = make_grid(LONGS, SHORTS)
    edges = np.append(grid["price_low"], grid["price_high"][-1])
    walk = side_walk(grid, close, "long", 0.5)
    for offset in range(0, 8):
        b = C - offset  # the low edge of bin b: everything from the close's bin down to b is force-sold
        assert walk.forced(walk.distance(close, np.array([edges[b]])))[0] == pytest.approx(grid["long_cum_usd"][b])
    middle = math.sqrt(edges[C - 1] * edges[C])  # halfway (in log price) through bin C - 1
    assert walk.forced(walk.distance(close, np.array([middle])))[0] == pytest.approx(40.0 + 50.0)
    up = side_walk(grid, close, "short", 0.5)
    assert up.forced(up.distance(close, np.array([edges[C + 2]])))[0] == pytest.approx(20.0 + 60.0)
    assert up.forced(np.array([0.0]))[0] == 0.0 and walk.forced(np.array([0.0]))[0] == 0.0


def test_a_move_forces_the_notional_between_the_close_and_its_target():
    grid, close = make_grid(LONGS, SHORTS)
    part = cascade_view(grid, close, no_impact(), moves=(1.0, 2.0))
    # the close sits half a bin (ln g / 2) above its bin's low edge; a 1% move goes ln(1/0.99) down
    u = -math.log(0.99)
    frac = (u - LN_G / 2) / LN_G
    assert row(part, "down", 1.0)["forced_usd"] == pytest.approx(40.0 + frac * 100.0)
    assert row(part, "down", 1.0)["price"] == pytest.approx(close * 0.99)
    u = math.log(1.02)
    frac = (u - LN_G / 2 - LN_G) / LN_G
    assert row(part, "up", 2.0)["forced_usd"] == pytest.approx(20.0 + 60.0 + frac * 5.0)
    assert row(part, "up", 2.0)["price"] == pytest.approx(close * 1.02)


def test_with_a_thin_threshold_and_no_impact_the_run_stops_at_the_near_edge_of_the_next_thin_bin():
    grid, close = make_grid(LONGS, SHORTS)
    part = cascade_view(grid, close, no_impact(), moves=(1.0, 3.0, 5.0, 9.0), thin_fraction=0.5)
    mean_long = np.mean([v for v in LONGS.values() if v > 0])
    assert part["rule"]["thin_threshold_usd"]["long"] == pytest.approx(0.5 * mean_long)
    # 1% lands in bin C-1 (dense): the run goes on through C-2 and stops where thin bin C-3 begins
    one = row(part, "down", 1.0)
    assert one["exhaustion_price"] == pytest.approx(grid["price_high"][C - 3])
    assert one["run_forced_usd"] == pytest.approx(grid["long_cum_usd"][C - 2])
    assert one["exhaustion_pct"] == pytest.approx((1 - grid["price_high"][C - 3] / close) * 100)
    assert not one["beyond_map"]
    # 3% lands in the thin bin itself: nothing carries it further
    three = row(part, "down", 3.0)
    assert close * 0.97 < grid["price_high"][C - 3] and close * 0.97 > grid["price_low"][C - 3]
    assert three["exhaustion_price"] == pytest.approx(close * 0.97)
    # 5% lands in C-5 (dense): the next thin bin is the empty C-6
    assert row(part, "down", 5.0)["exhaustion_price"] == pytest.approx(grid["price_high"][C - 6])
    # 9% lands in C-9: empty, thin
    assert row(part, "down", 9.0)["exhaustion_price"] == pytest.approx(close * 0.91)
    # up: 1% lands in C+1 (dense, 60): the run stops where the thin C+2 (5 < 0.5 x mean 53.3) begins
    assert row(part, "up", 1.0)["exhaustion_price"] == pytest.approx(grid["price_low"][C + 2])


def test_impact_carries_the_run_across_a_thin_bin_into_the_next_dense_zone():
    grid, close = make_grid(LONGS, SHORTS)
    forced_at_thin = grid["long_cum_usd"][C - 2]  # 260 force-sold when price reaches the thin bin C-3
    # the square-root law: I = Y sigma sqrt(F / V_D); choose V_D so that 260 USD move price by 2.5 % (> one bin)
    sigma, impact = 0.1, 0.025
    daily_volume = forced_at_thin / (impact / sigma) ** 2
    act = Activity(np.array([1.0]), np.array([1e9]), np.array([daily_volume / 24]), sigma, daily_volume)
    part = cascade_view(grid, close, act, moves=(1.0,), impact_y=1.0, thin_fraction=0.5)
    one = row(part, "down", 1.0)
    # carried past C-3 into C-4 / C-5 (dense), the run now stops where the empty C-6 begins: the 521 USD forced
    # by then move price 3.5 % below the target, which is not past the top of C-6
    end = one["exhaustion_price"]
    assert end == pytest.approx(grid["price_high"][C - 6])
    assert one["run_forced_usd"] == pytest.approx(grid["long_cum_usd"][C - 5]) == pytest.approx(521.0)
    # self-consistent: the end is at least the target moved by the impact of the run's own forced flow
    carried = close * 0.99 * (1 - sigma * math.sqrt(one["run_forced_usd"] / daily_volume))
    assert end <= carried * (1 + 1e-9)
    # and it sits in (or at the near edge of) a thin bin
    b = int(np.searchsorted(grid["price_high"], end, side="left"))
    thin = part["rule"]["thin_threshold_usd"]["long"]
    assert grid["long_usd"][b] < thin or end == pytest.approx(grid["price_high"][b])
    # without impact the same move stopped at C-3
    assert end < cascade_view(grid, close, no_impact(), moves=(1.0,), thin_fraction=0.5)["down"][0]["exhaustion_price"]


def test_by_default_the_run_ends_where_its_own_forced_flow_stops_carrying_it():
    """No threshold (the default): e = target moved on by I(F(e)); without impact the run ends at the target."""
    grid, close = make_grid(LONGS, SHORTS)
    assert all(r["exhaustion_price"] == pytest.approx(r["price"]) and r["run_forced_usd"] == r["forced_usd"]
               for r in cascade_view(grid, close, no_impact(), moves=(1.0, 3.0, 5.0))["down"])
    sigma, daily_volume = 0.1, 260.0 / (0.025 / 0.1) ** 2  # 260 USD forced move price by 2.5 %
    act = Activity(np.array([1.0]), np.array([1e9]), np.array([daily_volume / 24]), sigma, daily_volume)
    part = cascade_view(grid, close, act, moves=(1.0, 2.0))
    for r in part["down"]:
        end, forced = r["exhaustion_price"], r["run_forced_usd"]
        assert end == pytest.approx(r["price"] * (1 - sigma * math.sqrt(forced / daily_volume)), rel=1e-8)
        assert end < r["price"] and forced > r["forced_usd"]
    # the 1 % move's flow carries it over the thin C-3 into C-4 (150 USD in 1 %): 1 + 2 = 3 steps of the walk
    b = int(np.searchsorted(grid["price_high"], part["down"][0]["exhaustion_price"], side="left"))
    assert b <= C - 4


def test_a_run_with_no_thin_bin_left_reaches_beyond_the_map():
    dense = {-k: 100.0 for k in range(C + 1)}  # every long bin down to the grid's edge is full
    grid, close = make_grid(dense, SHORTS)
    one = row(cascade_view(grid, close, no_impact(), moves=(1.0, 30.0), thin_fraction=0.5), "down", 1.0)
    assert one["beyond_map"] and one["exhaustion_price"] is None and one["exhaustion_pct"] is None
    # by default: a flow whose impact outruns the levels it sweeps (100 USD per 1 % bin, I = sqrt(F / 100))
    strong = Activity(np.array([1.0]), np.array([1e9]), np.array([100.0 / 24]), 1.0, 100.0)
    assert row(cascade_view(grid, close, strong, moves=(1.0,)), "down", 1.0)["beyond_map"]
    assert not row(cascade_view(grid, close, no_impact(), moves=(1.0,)), "down", 1.0)["beyond_map"]
    thirty = row(cascade_view(grid, close, no_impact(), moves=(30.0,)), "down", 30.0)
    assert thirty["beyond_map"] and thirty["forced_usd"] == pytest.approx(grid["long_usd"].sum())


def test_typical_hourly_volume_is_the_median_of_the_bars_holding_the_price():
    low = np.array([99.0, 99.5, 98.0, 105.0, 90.0])
    high = np.array([101.0, 100.5, 100.2, 106.0, 99.9])
    quote = np.array([20.0, 40.0, 160.0, 1000.0, 8.0])  # 2h bars: per hour 10, 20, 80, 500, 4
    act = activity(low, high, np.array([100.0, 100.2, 99.0, 105.5, 95.0]), quote, 2.0)
    assert act.median_hourly_volume == 20.0
    got = hourly_volume_at(np.array([100.0, 100.4, 105.5, 99.95, 200.0]), act)
    # 100.0: bars 0, 1, 2 -> median of 10, 20, 80; 100.4: bars 0, 1 -> (10 + 20) / 2; 105.5: bar 3 only;
    # 99.95: bars 0, 1, 2 again (bar 4 stops at 99.9); 200: no bar -> the window's median
    assert got.tolist() == [20.0, 15.0, 500.0, 20.0, 20.0]
    assert act.daily_volume == pytest.approx(np.mean([10, 20, 80, 500, 4]) * 24)


def test_share_of_hourly_volume_and_the_first_move_over_one_hour():
    grid, close = make_grid(LONGS, SHORTS)
    # one bar holding every price below the close, 200 USD per hour
    act = activity(np.array([1.0]), np.array([close]), np.array([close]), np.array([200.0]), 1.0)
    part = cascade_view(grid, close, act, moves=(1.0, 3.0, 5.0))
    for r in part["down"]:
        assert r["hourly_volume_usd"] == 200.0
        assert r["forced_share_of_hourly_volume"] == pytest.approx(r["forced_usd"] / 200.0)
    # forced reaches 200 inside bin C-2 (cum 140 at its top, 260 at its bottom): the scan on bin edges finds
    # the first edge at or past it, the low edge of C-2 (a 2.5 % move: half a bin + two bins of 1 %)
    first = part["summary"]["down"]
    assert first["price"] == pytest.approx(grid["price_low"][C - 2])
    assert first["forced_usd"] == pytest.approx(260.0)
    assert first["move_pct"] == pytest.approx((1 - grid["price_low"][C - 2] / close) * 100)
    # up: the short side holds 165 in all, never an hour's 200 -> no such move (no bar above the close either:
    # the window's median is used)
    assert part["summary"]["up"] is None


@settings(max_examples=150, deadline=None)
@given(st.lists(st.floats(0, 1e6), min_size=NBINS, max_size=NBINS),
       st.lists(st.floats(0, 1e6), min_size=NBINS, max_size=NBINS),
       st.floats(0.0, 2.0), st.floats(0.005, 0.2), st.floats(0.05, 0.95))
def test_forced_is_non_decreasing_and_the_run_ends_at_or_beyond_its_target(longs, shorts, y, sigma, where):
    grid, _ = make_grid({}, {})
    edges = np.append(grid["price_low"], grid["price_high"][-1])
    close = float(edges[C] * (edges[C + 1] / edges[C]) ** where)
    grid["long_usd"] = np.where(np.arange(NBINS) <= C, longs, 0.0)
    grid["short_usd"] = np.where(np.arange(NBINS) >= C, shorts, 0.0)
    act = Activity(np.array([1.0]), np.array([1e9]), np.array([1e5]), sigma, 2.4e6)
    moves = tuple(np.linspace(0.25, 20, 40))
    part = cascade_view(grid, close, act, moves=moves, impact_y=y)
    for direction in ("down", "up"):
        forced = [r["forced_usd"] for r in part[direction]]
        assert np.all(np.diff(forced) >= -1e-6 * max(forced + [1.0]))
        for r in part[direction]:
            if r["beyond_map"]:
                continue
            assert r["exhaustion_pct"] >= r["move_pct"] - 1e-9
            assert r["run_forced_usd"] >= r["forced_usd"] - 1e-6


def test_the_part_through_the_model_and_the_payload():
    bars = binance_bars(shared_data("binance-btcusdt", "klines-1h.csv"), n=2000)
    result = estimate_liquidations(bars, include=("cascade",))
    assert result.cascade is not None
    assert estimate_liquidations(bars, include=("map",)).cascade is None
    body, _ = result_payload(result, ("cascade",))
    part = body["cascade"]
    assert part["moves_pct"] == list(DEFAULT_MOVES_PCT)
    for direction in ("down", "up"):
        rows = part[direction]
        assert [r["move_pct"] for r in rows] == list(DEFAULT_MOVES_PCT)
        for r in rows:
            assert r["forced_usd"] == round(r["forced_usd"], 2) and r["exhaustion_pct"] == round(r["exhaustion_pct"], 6)
        assert all(a["forced_usd"] <= b["forced_usd"] for a, b in zip(rows, rows[1:], strict=False))
    # the same grid as the clusters and max pain (the model's cluster_grid), the same bars' volume
    again = cascade_view(result.cluster_grid, result.price, bars_activity(bars))
    assert again["down"][3]["forced_usd"] == pytest.approx(result.cascade["down"][3]["forced_usd"])
    assert part["rule"]["daily_volume_usd"] == pytest.approx(
        bars["quote_volume"].sum() / len(bars) * 24, rel=1e-9)


def test_bars_without_quote_volume_use_volume_times_close():
    bars = pd.DataFrame({"time": np.arange(3) * 3_600_000, "low": [99.0, 98.0, 97.0], "high": [101.0, 102.0, 103.0],
                         "close": [100.0, 100.0, 100.0], "volume": [1.0, 2.0, 3.0]})
    act = bars_activity(bars)
    assert sorted(act.hourly_volume.tolist()) == [100.0, 200.0, 300.0]
