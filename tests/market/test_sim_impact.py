"""Liquidations move the sim's price (impact.py) and print as an exchange's forceOrder history would."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from indicator_server.market.base import LIQUIDATION_COLUMNS
from indicator_server.market.sim import GENESIS_MS, SimSource
from indicator_server.market.sim.impact import BLOCK_HOURS, adjusted_block, block_impact
from indicator_server.market.sim.minutes import aggregate, raw_block
from indicator_server.market.sim.source import clear_caches
from indicator_server.timeframes import HOUR_MS, TIMEFRAMES

DAY = 24 * HOUR_MS
NOW_S = 1_763_000_123.456  # 2025-11-13T02:15:23.456Z
NOW = int(NOW_S * 1000)
BLOCKS = range(30, 34)  # 2025-04-23 .. 2025-07-26


@pytest.fixture(scope="module")
def sim() -> SimSource:
    return SimSource(clock=lambda: NOW_S)


def _hours(symbol: str, block: int) -> dict[str, np.ndarray]:
    """Per hour of a block: raw and impact-adjusted bars, and the forced notional of each side."""
    impact = block_impact(symbol, block)
    return {"raw": aggregate(raw_block(symbol, block), 60), "adj": aggregate(adjusted_block(symbol, block), 60),
            "long": impact.forced_long, "short": impact.forced_short}


@pytest.mark.parametrize("symbol", ["SCALP1USDT", "SCALP2USDT", "TREND1USDT"])
def test_forced_selling_extends_the_low(symbol):
    h = _hours(symbol, 32)
    worst = int(np.argmax(h["long"]))
    assert h["long"][worst] > 0
    raw_dip = np.log(h["raw"][2, worst] / h["raw"][0, worst])  # the hour's low against its open
    adj_dip = np.log(h["adj"][2, worst] / h["adj"][0, worst])
    assert adj_dip < raw_dip - 0.001  # the same hour without impact had a higher low
    top = int(np.argmax(h["short"]))
    assert np.log(h["adj"][1, top] / h["adj"][0, top]) > np.log(h["raw"][1, top] / h["raw"][0, top]) + 0.001


def _cascade_hours(symbol: str) -> tuple[int, int]:
    """Hours where forced notional exceeds 10x the median hour with any, and of those, the ones whose wick the
    impact extended by more than 0.5 % of price."""
    big = extended = 0
    for block in BLOCKS:
        h = _hours(symbol, block)
        for side, row, sign in (("long", 2, -1), ("short", 1, 1)):
            forced = h[side]
            median = np.median(forced[forced > 0])
            ext = sign * (np.log(h["adj"][row] / h["adj"][0]) - np.log(h["raw"][row] / h["raw"][0]))
            hot = forced > 10 * median
            big += int(hot.sum())
            extended += int((hot & (ext > 0.005)).sum())
    return big, extended


def test_cascades_in_scalping_not_in_default():
    big, extended = _cascade_hours("SCALP1USDT")
    assert big >= 10 and extended >= 5
    _, calm = _cascade_hours("BTCUSDT")
    assert calm == 0  # BTC-like depth: liquidations move the price by basis points


def test_impact_is_partly_persistent_and_decays():
    shift = np.concatenate([block_impact("SCALP1USDT", b).shift for b in BLOCKS])
    assert np.abs(shift).max() > 0.01
    assert np.abs(shift).max() < 0.3  # the band still holds: no runaway
    corr = {lag: np.corrcoef(shift[:-lag], shift[lag:])[0, 1] for lag in (60, 720, 4320)}
    assert corr[60] > 0.7 > corr[720] > corr[4320] > 0.05  # most reverts within hours, some is there days later


@pytest.mark.parametrize(("fine", "coarse"), [("1m", "1h"), ("1h", "4h"), ("15m", "1d")])
def test_timeframes_still_aggregate_with_impact(sim, fine, coarse):
    step = TIMEFRAMES[coarse]
    start = (NOW - 20 * DAY) // step * step
    end = start + 2 * DAY - 1
    big = sim.fetch_klines("SCALP1USDT", coarse, start, end).frame
    small = sim.fetch_klines("SCALP1USDT", fine, start, end).frame
    g = small.groupby((small["time"] - GENESIS_MS) // step)
    np.testing.assert_array_equal(big["open"], g["open"].first())
    np.testing.assert_array_equal(big["high"], g["high"].max())
    np.testing.assert_array_equal(big["low"], g["low"].min())
    np.testing.assert_array_equal(big["close"], g["close"].last())
    np.testing.assert_allclose(big["quote_volume"], g["quote_volume"].sum(), rtol=1e-10)
    assert (small["low"] <= small[["open", "close"]].min(axis=1)).all()
    np.testing.assert_array_equal(small["open"].to_numpy()[1:], small["close"].to_numpy()[:-1])


def test_deterministic_and_independent_of_the_range():
    a = SimSource(clock=lambda: NOW_S).fetch_klines("SCALP3USDT", "1h", NOW - 300 * DAY, NOW).frame
    clear_caches()
    b = SimSource(clock=lambda: NOW_S + 30 * 86_400).fetch_klines("SCALP3USDT", "1h", NOW - 40 * DAY,
                                                                  NOW - 39 * DAY).frame
    merged = a.merge(b, on="time")
    assert len(merged) == 24
    for column in ("open", "high", "low", "close", "quote_volume"):
        np.testing.assert_array_equal(merged[column + "_x"], merged[column + "_y"])


# -- liquidation prints ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("symbol", ["BTCUSDT", "SCALP1USDT"])
def test_prints_sum_to_the_true_liquidations(sim, symbol):
    start, end = NOW - 6 * DAY + 123_456, NOW - 2 * DAY
    prints = sim.fetch_liquidations(symbol, start, end).frame
    assert list(prints.columns) == LIQUIDATION_COLUMNS and sim.has["liquidations"]
    assert prints["time"].dtype == np.int64 and prints["side"].isin(["long", "short"]).all()
    assert prints["time"].between(start, end).all() and prints["time"].is_monotonic_increasing
    np.testing.assert_allclose(prints["usd"], prints["quantity"] * prints["price"], rtol=1e-12)
    hour = (prints["time"] - GENESIS_MS) // HOUR_MS * HOUR_MS + GENESIS_MS
    first_full = (start - GENESIS_MS) // HOUR_MS * HOUR_MS + GENESIS_MS + HOUR_MS
    full = prints[hour >= first_full]
    truth = sim.true_liquidations(symbol, "1h", first_full, end, value="liquidation").set_index("time")
    for side in ("long", "short"):
        got = full[full["side"] == side].groupby(hour[hour >= first_full])["usd"].sum()
        want = truth[f"{side}_liquidated_usd"]
        np.testing.assert_allclose(got.reindex(want.index, fill_value=0.0), want, rtol=1e-9)
    k = sim.fetch_klines(symbol, "1h", start - HOUR_MS, end).frame.set_index("time")
    bar = k.loc[hour]
    longs = (prints["side"] == "long").to_numpy()
    assert (prints["price"].to_numpy()[longs] >= bar["low"].to_numpy()[longs] * (1 - 1e-12)).all()
    assert (prints["price"].to_numpy()[~longs] <= bar["high"].to_numpy()[~longs] * (1 + 1e-12)).all()


def test_prints_only_for_closed_hours_and_deterministic(sim):
    prints = sim.fetch_liquidations("SCALP1USDT", NOW - DAY, NOW + DAY).frame
    assert len(prints) and prints["time"].max() < NOW // HOUR_MS * HOUR_MS
    again = SimSource(clock=lambda: NOW_S + DAY).fetch_liquidations("SCALP1USDT", NOW - DAY, NOW - HOUR_MS).frame
    pd.testing.assert_frame_equal(prints[prints["time"] <= NOW - HOUR_MS].reset_index(drop=True), again)
    empty = sim.fetch_liquidations("SCALP1USDT", GENESIS_MS - 2 * DAY, GENESIS_MS - DAY).frame
    assert list(empty.columns) == LIQUIDATION_COLUMNS and len(empty) == 0


def test_block_size_covers_the_longest_hold():
    from indicator_server.market.sim.traders import max_hold_bars

    assert max_hold_bars("1h") + 24 <= BLOCK_HOURS  # two blocks hold every cohort alive in a block
