"""Recorded real data for the liquidation accuracy study: loaders, daily aggregation, Spearman, baselines.

Sources (see ../shared/data/README.md):
- Binance BTCUSDT 1h klines (UTC open times, quote volume, taker-buy base volume).
- OKX BTC-USD-SWAP hourly snapshots: ``date`` is local time UTC+5 (not UTC); ``open_interest`` counts contracts
  of 100 USD. About 10% of hours are missing: they are forward-filled (the count is reported).
- Coinglass daily aggregates: BTC liquidations (long/short USD) and aggregate open interest, ``ts_utc`` in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
OKX_CONTRACT_USD = 100.0
OKX_UTC_OFFSET_HOURS = 5
TUNE_END = "2025-05-01"  # calibration rule: tune only on data dated before this day
HELD_OUT = ("2025-05-01", "2025-09-08")  # inclusive days


def data_path(*parts: str) -> Path:
    return DATA.joinpath(*parts)


def available() -> bool:
    return all(
        data_path(*p).exists()
        for p in (
            ("binance-btcusdt", "klines-1h.csv"),
            ("okx-btc-hourly", "snapshots.csv"),
            ("coinglass-daily", "liquidation_agg_1d.csv"),
            ("coinglass-daily", "futures_oi_agg_1d.csv"),
        )
    )


def load_klines(start: str | None = None, end: str | None = None) -> pd.DataFrame:
    """Binance 1h klines as KLINE_COLUMNS (time = UTC open time, ms); ``end`` is exclusive."""
    raw = pd.read_csv(data_path("binance-btcusdt", "klines-1h.csv"))
    frame = pd.DataFrame(
        {
            "time": raw["openTime"].astype("int64"),
            "open": raw["open"].astype(float),
            "high": raw["high"].astype(float),
            "low": raw["low"].astype(float),
            "close": raw["close"].astype(float),
            "volume": raw["volume"].astype(float),
            "quote_volume": raw["quoteVolume"].astype(float),
            "taker_buy_volume": raw["takerBuyBase"].astype(float),
            "taker_buy_quote_volume": raw["takerBuyQuote"].astype(float),
            "trades": raw["trades"].astype(float),
        }
    )
    if start:
        frame = frame[frame["time"] >= _ms(start)]
    if end:
        frame = frame[frame["time"] < _ms(end)]
    return frame.reset_index(drop=True)


def _ms(day: str) -> int:
    return int(pd.Timestamp(day, tz="UTC").value // 1_000_000)


def load_okx_snapshots() -> pd.DataFrame:
    """OKX hourly snapshots with ``time`` = UTC hour in ms (the local UTC+5 ``date`` shifted back 5 hours),
    ``futures_price`` and ``oi_usd`` (contracts x 100 USD); duplicates dropped, sorted."""
    raw = pd.read_csv(data_path("okx-btc-hourly", "snapshots.csv"))
    utc = pd.to_datetime(raw["date"], format="mixed") - pd.Timedelta(hours=OKX_UTC_OFFSET_HOURS)
    frame = pd.DataFrame({
        "time": ((utc - pd.Timestamp("1970-01-01")) // pd.Timedelta(milliseconds=1)).astype("int64"),
        "futures_price": raw["futures_price"].astype(float),
        "oi_usd": raw["open_interest"].astype(float) * OKX_CONTRACT_USD,
    })
    return frame.drop_duplicates("time", keep="last").sort_values("time").reset_index(drop=True)


def load_okx_oi_usd() -> pd.Series:
    """OKX hourly OI in USD indexed by UTC hour (ms)."""
    frame = load_okx_snapshots()
    return pd.Series(frame["oi_usd"].to_numpy(), index=frame["time"].to_numpy())


def load_coinglass(name: str, symbol: str = "BTC") -> pd.DataFrame:
    """A Coinglass daily file for one symbol, indexed by UTC day (Timestamp, tz-naive)."""
    raw = pd.read_csv(data_path("coinglass-daily", name))
    raw = raw[raw["symbol"] == symbol].copy()
    raw["day"] = pd.to_datetime(raw["ts_utc"], utc=True).dt.tz_localize(None).dt.normalize()
    return raw.set_index("day").sort_index()


@dataclass
class RealBars:
    frame: pd.DataFrame  # BAR_COLUMNS subset: klines + open_interest (BTC) + open_interest_usd, market-scaled
    market_factor: float  # Coinglass aggregate OI / OKX OI (median over tuning days)
    filled_hours: int  # hours whose OI was forward-filled
    notes: list[str] = field(default_factory=list)


def market_factor(oi_usd: pd.Series) -> float:
    """Median ratio of Coinglass aggregate BTC OI (daily close) to OKX OI at the same UTC close, tuning days."""
    agg = load_coinglass("futures_oi_agg_1d.csv")["oi_total_close"].astype(float)
    # Coinglass "close" of day D is the value at D+1 00:00 UTC; take OKX's last hour of D.
    okx_close = oi_usd.copy()
    okx_close.index = pd.to_datetime(okx_close.index, unit="ms").floor("D")
    okx_close = okx_close.groupby(level=0).last()
    both = pd.concat([agg, okx_close], axis=1, keys=["agg", "okx"]).dropna()
    both = both[(both.index < TUNE_END) & (both["agg"] > 0)]
    return float((both["agg"] / both["okx"]).median())


def load_real_bars(start: str = "2025-01-01", end: str = "2025-09-09") -> RealBars:
    """Binance klines joined with OKX OI scaled to the whole market; OI is NaN before OKX's first hour."""
    bars = load_klines(start, end)
    oi_usd = load_okx_oi_usd()
    factor = market_factor(oi_usd)
    aligned = oi_usd.reindex(bars["time"].to_numpy())
    first = oi_usd.index.min()
    after_first = bars["time"].to_numpy() >= first
    missing = int((aligned.isna().to_numpy() & after_first).sum())
    aligned = aligned.ffill()
    usd = aligned.to_numpy() * factor
    bars["open_interest_usd"] = usd
    bars["open_interest"] = usd / bars["close"].to_numpy()
    notes = [
        f"OKX OI: date column read as UTC+5 and shifted to UTC; contracts x {OKX_CONTRACT_USD:g} USD; "
        f"{missing} of {int(after_first.sum())} hours missing and forward-filled; scaled to the whole market x "
        f"{factor:.1f} (median Coinglass aggregate OI / OKX OI, days before {TUNE_END})",
    ]
    return RealBars(bars, factor, missing, notes)


def daily_real() -> pd.DataFrame:
    """Coinglass BTC liquidations per UTC day: long, short, total (USD)."""
    liq = load_coinglass("liquidation_agg_1d.csv")
    out = pd.DataFrame({"long": liq["liq_long_usd"].astype(float), "short": liq["liq_short_usd"].astype(float)})
    out["total"] = out["long"] + out["short"]
    return out


def to_daily(times_ms: np.ndarray, long_usd: np.ndarray, short_usd: np.ndarray) -> pd.DataFrame:
    """Sum per-bar swept notional into UTC days (bar open time decides the day)."""
    day = pd.to_datetime(np.asarray(times_ms) // DAY_MS * DAY_MS, unit="ms")
    frame = pd.DataFrame({"long": long_usd, "short": short_usd}, index=day)
    out = frame.groupby(level=0).sum()
    out["total"] = out["long"] + out["short"]
    return out


def spearman(a: pd.Series, b: pd.Series) -> float:
    """Spearman rank correlation on the common non-NaN index (average ranks for ties); no scipy needed."""
    both = pd.concat([a, b], axis=1).dropna()
    if len(both) < 3:
        return float("nan")
    ranks = both.rank(method="average")
    x, y = ranks.iloc[:, 0].to_numpy(), ranks.iloc[:, 1].to_numpy()
    if x.std() == 0 or y.std() == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def daily_baselines(bars: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per-day baseline predictors (long, short, total): volume, |return| x volume, excursion x OI."""
    day = pd.to_datetime(bars["time"].to_numpy() // DAY_MS * DAY_MS, unit="ms")
    g = bars.assign(day=day).groupby("day")
    d = pd.DataFrame(
        {
            "open": g["open"].first(),
            "high": g["high"].max(),
            "low": g["low"].min(),
            "close": g["close"].last(),
            "volume": g["quote_volume"].sum(),
            "oi": g["open_interest_usd"].first(),
        }
    )
    ret_vol = (d["close"] / d["open"] - 1).abs() * d["volume"]
    down = (d["open"] - d["low"]) / d["open"] * d["oi"]
    up = (d["high"] - d["open"]) / d["open"] * d["oi"]
    return {
        "daily volume": pd.DataFrame({"long": d["volume"], "short": d["volume"], "total": d["volume"]}),
        "|return| x volume": pd.DataFrame({"long": ret_vol, "short": ret_vol, "total": ret_vol}),
        "excursion x OI": pd.DataFrame({"long": down, "short": up, "total": down + up}),
    }


def window(frame: pd.DataFrame, first: str, last: str) -> pd.DataFrame:
    """Rows of a day-indexed frame from ``first`` to ``last`` inclusive."""
    return frame[(frame.index >= pd.Timestamp(first)) & (frame.index <= pd.Timestamp(last))]


def scores(pred: pd.DataFrame, real: pd.DataFrame) -> dict[str, float]:
    return {side: spearman(pred[side], real[side]) for side in ("long", "short", "total")}
