"""Regimes of the sim: chosen by symbol name, and their traders differ as documented (regimes.py)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from indicator_server.market.sim import SimSource
from indicator_server.market.sim.params import profile
from indicator_server.market.sim.regimes import REGIMES, regime_of
from indicator_server.timeframes import HOUR_MS

DAY = 24 * HOUR_MS
NOW_S = 1_763_000_123.456  # 2025-11-13T02:15:23.456Z
NOW = int(NOW_S * 1000)
SYMBOLS = {"default": "BTCUSDT", "long-hold": "HOLD1USDT", "scalping": "SCALP1USDT",
           "crowded-trend": "TREND1USDT", "range": "RANGE1USDT"}


@pytest.fixture(scope="module")
def sim() -> SimSource:
    return SimSource(clock=lambda: NOW_S)


@pytest.mark.parametrize(("symbol", "regime"), [
    ("BTCUSDT", "default"), ("ETHUSDT", "default"), ("SIM7USDT", "default"), ("HOLD1USDT", "long-hold"),
    ("hold2usdt", "long-hold"), ("SCALP1USDT", "scalping"), ("SCALPUSDT", "scalping"), ("TREND9USDT", "crowded-trend"),
    ("RANGE1USDT", "range"), ("XHOLDUSDT", "default"), ("TRENUSDT", "default")])
def test_regime_by_name(sim, symbol, regime):
    assert regime_of(symbol) == regime
    assert sim.regime(symbol) == regime
    params = sim.regime_params(symbol)
    assert params["name"] == regime and params["symbol"] == symbol.upper()
    json.dumps(params)  # JSON-ready
    assert sum(params["tier_weights"].values()) == pytest.approx(1.0)


def test_regimes_exist_and_are_not_the_model():
    assert set(SYMBOLS) <= set(REGIMES)
    for regime in REGIMES.values():
        assert regime.entry_vwap < 1.0 and regime.entry_round > 0  # never VWAP entries only
        assert regime.hold_sigma > 0  # log-normal holding times, not an exponential decay
        assert np.count_nonzero(regime.tier_weights) > 5  # not the model's 5 tiers
        assert regime.entry_vwap + regime.entry_dip + regime.entry_breakout == pytest.approx(1.0)


def test_seeds_are_independent(sim):
    a = sim.fetch_klines("SCALP1USDT", "1d", NOW - 30 * DAY, NOW).frame
    b = sim.fetch_klines("SCALP2USDT", "1d", NOW - 30 * DAY, NOW).frame
    assert not np.allclose(np.diff(np.log(a["close"])), np.diff(np.log(b["close"])))


@pytest.fixture(scope="module")
def measured(sim) -> pd.DataFrame:
    rows = {}
    for regime, symbol in SYMBOLS.items():
        start, end = NOW - 45 * DAY, NOW - 15 * DAY
        pos = sim.positions(symbol, "1h", start, end)
        k = sim.fetch_klines(symbol, "1h", start, end).frame.set_index("time").loc[pos["opened_at"]]
        place = (pos["entry_price"].to_numpy() - k["low"].to_numpy()) / (k["high"] - k["low"]).to_numpy()
        lev = pos.groupby("leverage")["notional_usd"].sum() / pos["notional_usd"].sum()
        done = pos[pos["closed_at"].notna()]
        longs = (pos["side"] == "long").to_numpy()
        rows[regime] = {
            "high_leverage": lev[lev.index >= 25].sum(), "low_leverage": lev[lev.index <= 10].sum(),
            "median_hold_h": ((done["closed_at"] - done["opened_at"]) / HOUR_MS).median(),
            "long_place": np.nanmedian(place[longs]), "short_place": np.nanmedian(place[~longs]),
            "funding": sim.fetch_funding(symbol, start, end).frame["funding_rate"].median(),
        }
    frame = pd.DataFrame(rows).T
    print("\n" + frame.to_string(float_format=lambda v: f"{v:.4g}"))
    return frame


def test_leverage_mix(measured):
    assert measured.loc["scalping", "high_leverage"] > 0.6
    assert measured.loc["long-hold", "low_leverage"] > 0.85 and measured.loc["long-hold", "high_leverage"] < 0.05
    assert measured.loc["default", "high_leverage"] < 0.15
    assert measured.loc["crowded-trend", "high_leverage"] > measured.loc["default", "high_leverage"]


def test_holding_times(measured):
    hold = measured["median_hold_h"]
    assert hold["scalping"] <= 8 < 24 <= hold["long-hold"]
    assert hold["scalping"] < hold["range"] < hold["default"] < hold["long-hold"]


def test_where_entries_sit_in_the_bar(measured):
    m = measured
    assert m.loc["long-hold", "long_place"] < 0.35 and m.loc["long-hold", "short_place"] > 0.65  # dips
    assert m.loc["scalping", "long_place"] > 0.65 and m.loc["scalping", "short_place"] < 0.35  # breakouts
    assert 0.4 < m.loc["default", "long_place"] < 0.6 and 0.4 < m.loc["default", "short_place"] < 0.6
    assert m.loc["range", "long_place"] < 0.45 < 0.55 < m.loc["range", "short_place"]


def test_round_numbers_attract_entries(sim):
    pos = sim.positions("RANGE1USDT", "1h", NOW - 20 * DAY, NOW - 10 * DAY)
    price = float(pos["entry_price"].median())
    step = 5.0 * 10.0 ** (np.floor(np.log10(price)) - 2.0)
    on_grid = np.isclose(pos["entry_price"] / step, np.round(pos["entry_price"] / step), atol=1e-6)
    assert on_grid.mean() > 0.05  # snapped (a random price almost never sits on the grid)


def test_crowded_trend_drifts_and_funding_is_elevated(sim, measured):
    p = profile("TREND1USDT")
    daily = sim.fetch_klines("TREND1USDT", "1d", NOW - 500 * DAY, NOW).frame
    move = np.log(daily["close"].iloc[-1] / daily["close"].iloc[0])
    assert p.drift != 0 and np.sign(move) == np.sign(p.drift) and abs(move) > 0.5 * abs(p.drift) * 500
    assert measured.loc["crowded-trend", "funding"] > 3 * max(measured.loc["default", "funding"], 0.0001)


def test_range_stays_in_its_band_and_buys_the_low(sim):
    daily = sim.fetch_klines("RANGE1USDT", "1d", NOW - 500 * DAY, NOW).frame
    assert daily["high"].max() / daily["low"].min() < 1.6
    pos = sim.positions("RANGE1USDT", "1h", NOW - 120 * DAY, NOW - DAY)
    k = sim.fetch_klines("RANGE1USDT", "1h", NOW - 120 * DAY, NOW - DAY).frame.set_index("time")
    by_bar = pos.pivot_table(index="opened_at", columns="side", values="notional_usd", aggfunc="sum")
    share = by_bar["long"] / (by_bar["long"] + by_bar["short"])
    close = k.loc[share.index, "close"]
    assert np.corrcoef(np.log(close), share)[0, 1] < -0.3  # more longs near the range low
