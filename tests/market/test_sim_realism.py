"""The sim's default regime (BTCUSDT) against real data: Binance BTCUSDT 1h klines and funding, Coinglass BTC daily.

Coinglass is all exchanges and Binance one venue, so liquidations and open interest are compared as scale-free
ratios (daily liquidations / daily volume, open interest / daily volume, long share, day-to-day spread); volume,
volatility and funding directly against Binance. The default regime was tuned on real data dated before
2025-05-01 (the "tune" column); from 2025-05-01 on is held out and printed next to it. Bounds (asserted on the
tuning period): medians of volume, volatility, range, liquidations / volume and open interest / volume within
1.5x (real medians themselves move by up to 2x between the two periods: OI / volume 1.04 -> 2.08); tails
(kurtosis, liquidation p90/p50 and p99/p50) within 2x, they are noisier; shares within 0.1; funding, which sits
near zero, within 0.003 % (median, p90) and 0.005 % (p10) in absolute terms. Run with ``-s`` to see the table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from indicator_server.market.sim import SimSource
from tests.conftest import shared_data

CUT = pd.Timestamp("2025-05-01", tz="UTC")
NOW_S = 1_763_000_123.456  # 2025-11-13
SIM_RANGE = ("2024-02-01", "2025-11-01")  # after the sim's 14-day ramp-up
RATIO_15 = ("daily quote volume", "daily realised vol", "daily range", "liquidations / volume", "OI / volume")
RATIO_2 = ("hourly kurtosis", "hourly |r| p99/p50", "liquidations p90/p50", "liquidations p99/p50")
ABSOLUTE = {"long share of liquidations": 0.1, "funding median": 3e-5, "funding p90": 3e-5, "funding p10": 5e-5}


def _day(ms: pd.Series) -> pd.Series:
    return pd.to_datetime(ms, unit="ms", utc=True).dt.floor("D")


def kline_stats(k: pd.DataFrame, funding: pd.Series) -> dict[str, float]:
    """Statistics of 1h klines (columns time, open, high, low, close, quote_volume) and funding rates."""
    r = np.log(k["close"]).diff()
    days = pd.DataFrame({"day": _day(k["time"]), "quote": k["quote_volume"], "high": k["high"], "low": k["low"],
                         "r2": r**2})
    g = days.groupby("day")
    d = pd.DataFrame({"quote": g["quote"].sum(), "range": np.log(g["high"].max() / g["low"].min()),
                      "rv": np.sqrt(g["r2"].sum()), "n": g.size()})
    d = d[d["n"] == 24]
    z = (r.dropna() - r.mean()) / r.std()
    a = np.abs(r.dropna())
    return {"daily quote volume": d["quote"].median(), "daily realised vol": d["rv"].median(),
            "daily range": d["range"].median(), "hourly kurtosis": float((z**4).mean()),
            "hourly |r| p99/p50": float(np.quantile(a, 0.99) / np.median(a)),
            "funding median": funding.median(), "funding p90": funding.quantile(0.9),
            "funding p10": funding.quantile(0.1)}


def liquidation_stats(long: pd.Series, short: pd.Series, volume: pd.Series, oi: pd.Series) -> dict[str, float]:
    """Daily liquidation totals against daily volume and open interest (all indexed by day)."""
    total = long + short
    return {"liquidations / volume": (total / volume).median(), "OI / volume": (oi / volume).median(),
            "long share of liquidations": long.sum() / total.sum(),
            "liquidations p90/p50": total.quantile(0.9) / total.median(),
            "liquidations p99/p50": total.quantile(0.99) / total.median()}


def _coinglass(name: str) -> pd.DataFrame:
    frame = pd.read_csv(shared_data("coinglass-daily", f"{name}.csv"))
    frame = frame[frame["symbol"] == "BTC"]
    return frame.set_index(pd.to_datetime(frame["ts_utc"], utc=True).dt.floor("D"))


def real_stats(held_out: bool) -> dict[str, float]:
    k = pd.read_csv(shared_data("binance-btcusdt", "klines-1h.csv")).rename(
        columns={"openTime": "time", "quoteVolume": "quote_volume"})
    f = pd.read_csv(shared_data("binance-btcusdt", "funding.csv"))
    k_after = pd.to_datetime(k["time"], unit="ms", utc=True) >= CUT
    f_after = pd.to_datetime(f["fundingTime"], unit="ms", utc=True) >= CUT
    out = kline_stats(k[k_after == held_out], f.loc[f_after == held_out, "fundingRate"])
    joined = (_coinglass("liquidation_agg_1d")[["liq_long_usd", "liq_short_usd"]]
              .join(_coinglass("futures_oi_agg_1d")[["oi_total_close"]])
              .join(_coinglass("taker_vol_agg_futures_1d")[["taker_buy_usd", "taker_sell_usd"]]).dropna())
    joined = joined[joined.index >= pd.Timestamp("2024-01-01", tz="UTC")]
    joined = joined[(joined.index >= CUT) == held_out]
    out.update(liquidation_stats(joined["liq_long_usd"], joined["liq_short_usd"],
                                 joined["taker_buy_usd"] + joined["taker_sell_usd"], joined["oi_total_close"]))
    return out


def sim_stats(symbol: str = "BTCUSDT") -> dict[str, float]:
    sim = SimSource(clock=lambda: NOW_S)
    start, end = (int(pd.Timestamp(t, tz="UTC").value // 1_000_000) for t in SIM_RANGE)
    k = sim.fetch_klines(symbol, "1h", start, end).frame
    out = kline_stats(k, sim.fetch_funding(symbol, start, end).frame["funding_rate"])
    liq = sim.true_liquidations(symbol, "1h", start, end, value="liquidation")
    oi = sim.fetch_open_interest(symbol, "1h", start, end).frame  # stamped at the close it describes
    daily_liq = liq.groupby(_day(liq["time"]))[["long_liquidated_usd", "short_liquidated_usd"]].sum()
    volume = k.groupby(_day(k["time"]))["quote_volume"].sum()
    oi_close = oi.groupby(_day(oi["time"] - 1))["open_interest_usd"].last()
    j = daily_liq.join(volume).join(oi_close).dropna()
    out.update(liquidation_stats(j["long_liquidated_usd"], j["short_liquidated_usd"], j["quote_volume"],
                                 j["open_interest_usd"]))
    return out


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    tune, held = real_stats(held_out=False), real_stats(held_out=True)
    sim = sim_stats()
    frame = pd.DataFrame({"sim": sim, "real (tune, < 2025-05-01)": tune, "ratio": pd.Series(sim) / pd.Series(tune),
                          "real (held out)": held, "ratio held out": pd.Series(sim) / pd.Series(held)})
    with pd.option_context("display.width", 160):
        print("\nsim BTCUSDT (default regime) vs Binance BTCUSDT / Coinglass BTC\n"
              + frame.to_string(float_format=lambda v: f"{v:.4g}"))
    return frame


@pytest.mark.parametrize("name", RATIO_15)
def test_medians_within_1_5x(table, name):
    assert 1 / 1.5 <= table.loc[name, "ratio"] <= 1.5


@pytest.mark.parametrize("name", RATIO_2)
def test_tails_within_2x(table, name):
    assert 1 / 2 <= table.loc[name, "ratio"] <= 2


@pytest.mark.parametrize(("name", "tolerance"), list(ABSOLUTE.items()))
def test_shares_and_funding(table, name, tolerance):
    assert abs(table.loc[name, "sim"] - table.loc[name, "real (tune, < 2025-05-01)"]) <= tolerance
