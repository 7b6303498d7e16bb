"""The simulated exchange ``sim``: determinism, consistency, closed bars, traders as ground truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from indicator_server.errors import InvalidArgument, UnknownSymbol, UnsupportedTimeframe
from indicator_server.market.base import (
    FUNDING_COLUMNS,
    KLINE_COLUMNS,
    LONG_SHORT_COLUMNS,
    OPEN_INTEREST_COLUMNS,
)
from indicator_server.market.sim import GENESIS_MS, SimSource
from indicator_server.market.sim.funding import funding_rate
from indicator_server.market.sim.params import symbol_seed
from indicator_server.market.sim.regimes import REGIMES
from indicator_server.market.sim.traders import liquidation_price
from indicator_server.timeframes import HOUR_MS, TIMEFRAMES

DAY = 24 * HOUR_MS
NOW_S = 1_763_000_123.456  # 2025-11-13T02:15:23.456Z, on no bar boundary
NOW = int(NOW_S * 1000)


@pytest.fixture(scope="module")
def sim() -> SimSource:
    return SimSource(clock=lambda: NOW_S)


def _aggregate(frame: pd.DataFrame, step: int) -> pd.DataFrame:
    g = frame.groupby((frame["time"] - GENESIS_MS) // step, sort=True)
    return pd.DataFrame({
        "time": g["time"].first(), "open": g["open"].first(), "high": g["high"].max(), "low": g["low"].min(),
        "close": g["close"].last(), "volume": g["volume"].sum(), "quote_volume": g["quote_volume"].sum(),
        "taker_buy_volume": g["taker_buy_volume"].sum(), "trades": g["trades"].sum(), "bars": g.size(),
    }).reset_index(drop=True)


def _open_at(pos: pd.DataFrame, t: int) -> pd.DataFrame:
    return pos[(pos["opened_at"] <= t) & (pos["closed_at"].isna() | (pos["closed_at"] > t))]


# -- the MarketSource contract -------------------------------------------------------------------------------------
def test_frames_match_the_contract(sim):
    start, end = NOW - 3 * DAY, NOW
    for frame, columns in (
        (sim.fetch_klines("BTCUSDT", "1h", start, end).frame, KLINE_COLUMNS),
        (sim.fetch_open_interest("BTCUSDT", "1h", start, end).frame, OPEN_INTEREST_COLUMNS),
        (sim.fetch_long_short_ratio("BTCUSDT", "1h", start, end).frame, LONG_SHORT_COLUMNS),
        (sim.fetch_funding("BTCUSDT", start, end).frame, FUNDING_COLUMNS),
    ):
        assert list(frame.columns) == columns
        assert frame["time"].dtype == np.int64
        assert all(frame[c].dtype == np.float64 for c in columns[1:])
        assert isinstance(frame.index, pd.RangeIndex) and frame.index[0] == 0
        assert frame["time"].is_monotonic_increasing and frame["time"].is_unique
        assert not frame.isna().any().any()
    assert sim.name == "sim" and all(sim.has.values())
    assert len(sim.fetch_funding("BTCUSDT", start, end).frame) == 9  # 3 days of 8-hourly events


def test_symbols(sim):
    assert sim.check_symbol("BTCUSDT") == "BTCUSDT"
    assert sim.check_symbol("pepeusdt") == "PEPEUSDT"
    assert sim.check_symbol("1000SHIBUSDT") == "1000SHIBUSDT"
    for bad in ("BTC", "BTC-USDT", "BTCUSD", "XUSDT", "A" * 16 + "USDT", ""):
        with pytest.raises(UnknownSymbol) as err:
            sim.fetch_klines(bad, "1h", NOW - DAY, NOW)
        assert "BTCUSDT" in err.value.message and err.value.details["examples"] == ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
    with pytest.raises(UnsupportedTimeframe):
        sim.fetch_klines("BTCUSDT", "3h", NOW - DAY, NOW)


def test_stable_seed_independent_of_python_hash():
    assert symbol_seed("BTCUSDT") == 3720715932845769746
    assert symbol_seed("BTCUSDT") != symbol_seed("ETHUSDT")


# -- determinism and closed bars -------------------------------------------------------------------------------
@pytest.mark.parametrize("tf", ["1m", "15m", "1h", "4h", "1d"])
def test_same_data_whatever_the_range(tf):
    step = TIMEFRAMES[tf]
    a = SimSource(clock=lambda: NOW_S)
    b = SimSource(clock=lambda: NOW_S + 7 * 86_400)  # a later clock must not change the past
    anchor = NOW // step * step
    wide = (anchor - 600 * step, NOW)
    narrow = (anchor - 200 * step, anchor - 190 * step)
    for fetch in ("fetch_klines", "fetch_open_interest", "fetch_long_short_ratio"):
        big = getattr(a, fetch)("SOLUSDT", tf, *wide).frame
        small = getattr(b, fetch)("SOLUSDT", tf, *narrow).frame
        assert len(small) == 11
        merged = big.merge(small, on="time", suffixes=("", "_n"))
        assert len(merged) == 11
        for column in big.columns[1:]:
            np.testing.assert_array_equal(merged[column].to_numpy(), merged[column + "_n"].to_numpy())


def test_funding_same_whatever_the_range():
    a, b = SimSource(clock=lambda: NOW_S), SimSource(clock=lambda: NOW_S)
    wide = a.fetch_funding("ETHUSDT", NOW - 60 * DAY, NOW).frame
    narrow = b.fetch_funding("ETHUSDT", NOW - 10 * DAY, NOW - 9 * DAY).frame
    merged = wide.merge(narrow, on="time")
    assert len(merged) == len(narrow) == 3
    np.testing.assert_array_equal(merged["funding_rate_x"], merged["funding_rate_y"])


@pytest.mark.parametrize("tf", list(TIMEFRAMES))
def test_only_closed_bars(sim, tf):
    step = TIMEFRAMES[tf]
    frame = sim.fetch_klines("ETHUSDT", tf, NOW - 50 * step, NOW + 10 * step).frame
    last = int(frame["time"].iloc[-1])
    assert last + step <= NOW < last + 2 * step
    oi = sim.fetch_open_interest("ETHUSDT", tf, NOW - 50 * step, NOW + 10 * step).frame
    assert int(oi["time"].iloc[-1]) == last + step  # the snapshot at the last closed bar's close
    assert (np.diff(frame["time"]) == step).all()


def test_world_begins_at_genesis(sim):
    fetched = sim.fetch_klines("BTCUSDT", "1d", GENESIS_MS - 30 * DAY, GENESIS_MS + 4 * DAY)
    assert fetched.frame["time"].tolist() == [GENESIS_MS + k * DAY for k in range(5)]
    assert any("2024-01-01" in w for w in fetched.warnings)
    empty = sim.fetch_open_interest("BTCUSDT", "1h", GENESIS_MS - 30 * DAY, GENESIS_MS - DAY).frame
    assert list(empty.columns) == OPEN_INTEREST_COLUMNS and len(empty) == 0 and empty["time"].dtype == np.int64
    funding = sim.fetch_funding("BTCUSDT", GENESIS_MS - DAY, GENESIS_MS + DAY).frame
    assert funding["time"].tolist() == [GENESIS_MS + 8 * HOUR_MS, GENESIS_MS + 16 * HOUR_MS, GENESIS_MS + DAY]
    future = sim.fetch_klines("BTCUSDT", "1h", NOW + DAY, NOW + 2 * DAY).frame
    assert len(future) == 0


# -- prices --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("fine", "coarse"), [("1h", "4h"), ("1m", "1h"), ("5m", "30m"), ("1h", "1d"),
                                              ("2h", "6h"), ("30m", "12h")])
def test_timeframes_are_consistent(sim, fine, coarse):
    step = TIMEFRAMES[coarse]
    start = (NOW - 3 * DAY) // step * step
    end = start + 2 * DAY
    big = sim.fetch_klines("BTCUSDT", coarse, start, end - 1).frame
    small = _aggregate(sim.fetch_klines("BTCUSDT", fine, start, end - 1).frame, step)
    assert (small["bars"] == step // TIMEFRAMES[fine]).all()
    assert len(big) == len(small) == 2 * DAY // step
    for column in ("time", "open", "high", "low", "close"):
        np.testing.assert_array_equal(big[column].to_numpy(), small[column].to_numpy())
    for column in ("volume", "quote_volume", "taker_buy_volume", "trades"):
        np.testing.assert_allclose(big[column].to_numpy(), small[column].to_numpy(), rtol=1e-10)


@pytest.mark.parametrize("symbol", ["BTCUSDT", "DOGEUSDT"])
def test_ohlc_sanity(sim, symbol):
    k = sim.fetch_klines(symbol, "1m", NOW - 3 * DAY, NOW).frame
    assert (k["low"] <= k[["open", "close"]].min(axis=1)).all()
    assert (k["high"] >= k[["open", "close"]].max(axis=1)).all()
    assert (k["low"] > 0).all() and (k["volume"] > 0).all() and (k["trades"] >= 1).all()
    assert (k["taker_buy_volume"] < k["volume"]).all() and (k["taker_buy_volume"] > 0).all()
    vwap = k["quote_volume"] / k["volume"]
    assert ((vwap >= k["low"] - 1e-9) & (vwap <= k["high"] + 1e-9)).all()
    np.testing.assert_array_equal(k["open"].to_numpy()[1:], k["close"].to_numpy()[:-1])  # no gaps


@pytest.mark.parametrize(("symbol", "low", "high"), [("BTCUSDT", 50_000, 130_000), ("ETHUSDT", 1_500, 5_500),
                                                      ("SOLUSDT", 60, 320)])
def test_realistic_levels(sim, symbol, low, high):
    daily = sim.fetch_klines(symbol, "1d", GENESIS_MS, NOW).frame
    assert len(daily) > 600
    assert low < daily["low"].min() and daily["high"].max() < high
    returns = np.diff(np.log(daily["close"].to_numpy()))
    assert 0.015 < returns.std() < 0.07


def test_heavy_tails_clustering_and_taker_lean(sim):
    k = sim.fetch_klines("BTCUSDT", "1h", NOW - 200 * DAY, NOW).frame
    r = np.diff(np.log(k["close"].to_numpy()))
    z = (r - r.mean()) / r.std()
    assert (z**4).mean() > 4.5  # kurtosis well above the normal's 3
    a = np.abs(z)
    assert np.corrcoef(a[:-1], a[1:])[0, 1] > 0.1  # volatility clusters
    share = k["taker_buy_volume"] / k["volume"]
    assert np.corrcoef(share, np.log(k["close"] / k["open"]))[0, 1] > 0.5
    wicks = (k[["open", "close"]].min(axis=1) - k["low"]) / k["close"]
    assert wicks.max() > 0.01  # sharp wicks happen


# -- traders: the ground truth -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("side", "expected"), [(1, 54_216.87), (-1, 65_737.05)])
def test_liquidation_price_domain_values(side, expected):
    got = liquidation_price(np.array([60_000.0]), np.array([10.0]), np.array([side]), 0.004)
    assert got[0] == pytest.approx(expected, abs=0.01)


@pytest.fixture(scope="module")
def hourly(sim):
    start, end = NOW - 40 * DAY, NOW
    return {
        "positions": sim.positions("BTCUSDT", "1h", start - 15 * DAY, end),
        "klines": sim.fetch_klines("BTCUSDT", "1h", start - 15 * DAY, end).frame,
        "oi": sim.fetch_open_interest("BTCUSDT", "1h", start, end).frame,
        "ratio": sim.fetch_long_short_ratio("BTCUSDT", "1h", start, end).frame,
        "funding": sim.fetch_funding("BTCUSDT", start, end).frame,
    }


def test_positions_frame(sim, hourly):
    pos = hourly["positions"]
    empty = sim.positions("BTCUSDT", "1h", NOW + DAY, NOW + 2 * DAY)
    assert len(empty) == 0 and list(empty.columns) == list(pos.columns) == [
        "opened_at", "side", "leverage", "entry_price", "notional_usd", "quantity", "liquidation_price",
        "closed_at", "close_reason", "accounts"]
    assert (empty.dtypes == pos.dtypes).all() and pos["opened_at"].dtype == np.int64
    assert set(pos["side"]) == {"long", "short"}
    assert set(pos["close_reason"].dropna()) == {"liquidated", "closed"}
    assert pos["closed_at"].isna().equals(pos["close_reason"].isna())
    assert (pos["closed_at"].dropna() > pos.loc[pos["closed_at"].notna(), "opened_at"]).all()
    assert set(pos["leverage"]) == {2.0, 3.0, 5.0, 10.0, 20.0, 25.0, 50.0, 100.0}
    np.testing.assert_allclose(pos["notional_usd"], pos["quantity"] * pos["entry_price"], rtol=1e-12)
    longs = pos["side"] == "long"
    assert (pos.loc[longs, "liquidation_price"] < pos.loc[longs, "entry_price"]).all()
    assert (pos.loc[~longs, "liquidation_price"] > pos.loc[~longs, "entry_price"]).all()
    liquidated = pos["close_reason"] == "liquidated"
    high_lev = pos["leverage"] >= 50
    assert liquidated[high_lev].mean() > liquidated[~high_lev].mean() > 0


def test_open_interest_is_the_sum_of_open_positions(sim, hourly):
    pos, oi = hourly["positions"], hourly["oi"]
    base = sim.base_open_interest("BTCUSDT")
    assert base > 0
    for t in oi["time"].to_numpy()[::37]:
        alive = _open_at(pos, t - HOUR_MS)  # the snapshot at t describes the bar that closed at t
        row = oi[oi["time"] == t].iloc[0]
        assert row["open_interest"] - base == pytest.approx(alive["quantity"].sum(), rel=1e-9)
    assert oi["open_interest"].std() > 0.02 * oi["open_interest"].mean()  # it rises and falls


def test_liquidated_when_first_reached(hourly):
    pos, k = hourly["positions"], hourly["klines"]
    low = pd.Series(k["low"].to_numpy(), index=k["time"].to_numpy())
    high = pd.Series(k["high"].to_numpy(), index=k["time"].to_numpy())
    done = pos[pos["closed_at"].notna() & (pos["opened_at"] >= k["time"].iloc[0])].iloc[::7]
    checked = {"liquidated": 0, "closed": 0}
    for row in done.itertuples():
        window = slice(row.opened_at + HOUR_MS, int(row.closed_at) - HOUR_MS)
        before = low[window].min() if row.side == "long" else high[window].max()
        at = low[int(row.closed_at)] if row.side == "long" else high[int(row.closed_at)]
        sign = 1 if row.side == "long" else -1
        if len(low[window]):
            assert sign * before > sign * row.liquidation_price  # not reached before
        if row.close_reason == "liquidated":
            assert sign * at <= sign * row.liquidation_price  # reached by that bar
        else:
            assert sign * at > sign * row.liquidation_price
        checked[row.close_reason] += 1
    assert checked["liquidated"] > 50 and checked["closed"] > 50


def test_true_liquidations_and_map_agree_with_positions(sim, hourly):
    pos = hourly["positions"]
    start, end = NOW - 10 * DAY, NOW - 5 * DAY
    liq = sim.true_liquidations("BTCUSDT", "1h", start, end)
    assert list(liq.columns) == ["time", "long_liquidated_usd", "long_liquidated_cohorts",
                                 "short_liquidated_usd", "short_liquidated_cohorts"]
    mine = pos[(pos["close_reason"] == "liquidated") & pos["closed_at"].between(start, end)]
    for side in ("long", "short"):
        want = mine[mine["side"] == side].groupby("closed_at")["notional_usd"].sum()
        got = liq.set_index("time")[f"{side}_liquidated_usd"]
        assert got[got > 0].index.tolist() == want.index.astype("int64").tolist()
        np.testing.assert_allclose(got[got > 0].to_numpy(), want.to_numpy(), rtol=1e-9)
    at = int(liq["time"].iloc[50])
    edges = np.linspace(0, 1_000_000, 2001)
    grid = sim.true_liquidation_map("BTCUSDT", "1h", at, edges)
    alive = _open_at(pos, at)
    assert grid["long_usd"].sum() == pytest.approx(alive.loc[alive["side"] == "long", "notional_usd"].sum(), 1e-9)
    assert grid["short_usd"].sum() == pytest.approx(alive.loc[alive["side"] == "short", "notional_usd"].sum(), 1e-9)
    close = grid.attrs["close"]
    older = alive[alive["opened_at"] < at]  # the opening bar is not searched (the order inside it is unknown)
    assert (older.loc[older["side"] == "long", "liquidation_price"] < close * 1.001).all()  # live longs: below
    assert (older.loc[older["side"] == "short", "liquidation_price"] > close / 1.001).all()
    with pytest.raises(InvalidArgument):
        sim.true_liquidation_map("BTCUSDT", "1h", NOW + DAY, edges)
    with pytest.raises(InvalidArgument):
        sim.true_liquidations("BTCUSDT", "1h", start, end, value="mark")


def test_funding_follows_crowding(hourly):
    pos, funding = hourly["positions"], hourly["funding"]
    crowding = []
    for t in funding["time"].to_numpy():
        hours = [t - h * HOUR_MS for h in range(8, 0, -1)]  # the eight hourly closes of the interval
        per_hour = []
        for h in hours:
            alive = _open_at(pos, h)
            q = alive.groupby("side")["quantity"].sum()
            per_hour.append((q["long"] - q["short"]) / (q["long"] + q["short"]))
        crowding.append(np.mean(per_hour))
    crowding = np.array(crowding)
    rate = funding["funding_rate"].to_numpy()
    regime = REGIMES["default"]
    np.testing.assert_allclose(rate, funding_rate(crowding, 0.003, regime.premium_offset,
                                                  regime.premium_per_imbalance), atol=1e-8)
    assert crowding.max() - crowding.min() > 0.1
    order = np.argsort(crowding)
    assert (np.diff(rate[order]) >= -1e-8).all()  # non-decreasing in crowding
    assert np.corrcoef(crowding, rate)[0, 1] > 0.5
    # Binance BTCUSDT since 2025: mostly a little below the 0.01 % interest (the default regime is fitted to it)
    assert (np.abs(rate) <= 0.003).all() and 0 < np.median(rate) < 0.0001


def test_funding_formula_caps():
    np.testing.assert_allclose(funding_rate(np.array([0.0, 0.1, 0.5, -0.5, 5.0, -5.0]), 0.003),
                               [0.0001, 0.0001, 0.0015, -0.0015, 0.003, -0.003])


def test_long_short_ratio_follows_accounts(hourly):
    ratio, pos = hourly["ratio"], hourly["positions"]
    t = int(ratio["time"].iloc[100])
    alive = _open_at(pos, t - HOUR_MS)  # stamped at the close it describes
    acc = alive.groupby("side")["accounts"].sum()
    row = ratio[ratio["time"] == t].iloc[0]
    assert row["long_short_ratio"] == pytest.approx(acc["long"] / acc["short"], rel=1e-9)
    assert row["long_account"] == pytest.approx(acc["long"] / (acc["long"] + acc["short"]), rel=1e-9)
    assert 0.3 < ratio["long_short_ratio"].median() < 3


@pytest.mark.parametrize("seed", range(5))
def test_first_touch_matches_a_scan(seed):
    from indicator_server.market.sim.first_passage import first_touch

    rng = np.random.default_rng(seed)
    n, m = 200, 400
    values = np.cumsum(rng.normal(size=n))
    first = rng.integers(0, n + 1, m)
    last = np.minimum(first + rng.integers(-1, 80, m), n - 1)
    levels = values[np.minimum(first, n - 1)] + rng.normal(scale=4.0, size=m)
    for below in (True, False):
        got = first_touch(values, levels, first, last, below=below)
        for k in range(m):
            window = values[first[k]: last[k] + 1]
            reached = np.nonzero(window <= levels[k] if below else window >= levels[k])[0]
            assert got[k] == (first[k] + reached[0] if len(reached) else -1)
