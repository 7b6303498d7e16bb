"""Recorded real data for the accuracy scores: loaders of the shared data folder (its README describes the files).

Sources:
- Binance BTCUSDT 1h klines (UTC open times, quote volume, taker-buy base volume).
- OKX BTC-USD-SWAP hourly snapshots: ``date`` is local time UTC+5 (not UTC); ``open_interest`` counts contracts
  of 100 USD. About 10% of hours are missing: they are forward-filled (the count is reported).
- Coinglass daily aggregates: BTC liquidations (long/short USD) and aggregate open interest, ``ts_utc`` in UTC.
- Binance ``!forceOrder@arr`` stream dumps (liquidation prints): SELL = a long force-closed, BUY = a short.

Every loader takes the data folder (``data_dir``); ``default_data_dir()`` is ``$INDICATOR_SHARED_DATA`` or
``../shared/data`` relative to the current directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

OKX_CONTRACT_USD = 100.0
OKX_UTC_OFFSET_HOURS = 5
TUNE_END = "2025-05-01"  # calibration rule: tune only on data dated before this day
HELD_OUT = ("2025-05-01", "2025-09-08")  # inclusive days (Coinglass's file ends 2025-09-08)
REQUIRED = (
    ("binance-btcusdt", "klines-1h.csv"),
    ("okx-btc-hourly", "snapshots.csv"),
    ("coinglass-daily", "liquidation_agg_1d.csv"),
    ("coinglass-daily", "futures_oi_agg_1d.csv"),
)
FORCE_ORDER_DIR = "binance-forceorder-samples"
FORCE_ORDER_COLUMNS = ["symbol", "side", "order_type", "time_in_force", "original_quantity", "price", "average_price",
                       "order_status", "order_last_filled_quantity", "order_filled_accumulated_quantity",
                       "order_trade_time", "usd_size"]


def default_data_dir() -> Path:
    """``$INDICATOR_SHARED_DATA`` if set, else ``../shared/data`` relative to the current directory."""
    env = os.environ.get("INDICATOR_SHARED_DATA")
    return Path(env) if env else Path.cwd() / ".." / "shared" / "data"


def _dir(data_dir: Path | str | None) -> Path:
    return Path(data_dir) if data_dir is not None else default_data_dir()


def missing_files(data_dir: Path | str | None = None) -> list[Path]:
    """The required files that are not there (empty when the real-data scores can run)."""
    base = _dir(data_dir)
    return [base.joinpath(*p) for p in REQUIRED if not base.joinpath(*p).exists()]


def available(data_dir: Path | str | None = None) -> bool:
    return not missing_files(data_dir)


def ms(day: str) -> int:
    return int(pd.Timestamp(day, tz="UTC").value // 1_000_000)


def load_klines(start: str | None = None, end: str | None = None, data_dir: Path | str | None = None) -> pd.DataFrame:
    """Binance 1h klines as KLINE_COLUMNS (time = UTC open time, ms); ``end`` is exclusive."""
    raw = pd.read_csv(_dir(data_dir) / "binance-btcusdt" / "klines-1h.csv")
    frame = pd.DataFrame({
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
    })
    if start:
        frame = frame[frame["time"] >= ms(start)]
    if end:
        frame = frame[frame["time"] < ms(end)]
    return frame.reset_index(drop=True)


def load_okx_snapshots(data_dir: Path | str | None = None) -> pd.DataFrame:
    """OKX hourly snapshots with ``time`` = UTC hour in ms (the local UTC+5 ``date`` shifted back 5 hours),
    ``futures_price`` and ``oi_usd`` (contracts x 100 USD); duplicates dropped, sorted."""
    raw = pd.read_csv(_dir(data_dir) / "okx-btc-hourly" / "snapshots.csv")
    utc = pd.to_datetime(raw["date"], format="mixed") - pd.Timedelta(hours=OKX_UTC_OFFSET_HOURS)
    frame = pd.DataFrame({
        "time": ((utc - pd.Timestamp("1970-01-01")) // pd.Timedelta(milliseconds=1)).astype("int64"),
        "futures_price": raw["futures_price"].astype(float),
        "oi_usd": raw["open_interest"].astype(float) * OKX_CONTRACT_USD,
    })
    return frame.drop_duplicates("time", keep="last").sort_values("time").reset_index(drop=True)


def load_okx_oi_usd(data_dir: Path | str | None = None) -> pd.Series:
    """OKX hourly OI in USD indexed by UTC hour (ms)."""
    frame = load_okx_snapshots(data_dir)
    return pd.Series(frame["oi_usd"].to_numpy(), index=frame["time"].to_numpy())


def load_coinglass(name: str, symbol: str = "BTC", data_dir: Path | str | None = None) -> pd.DataFrame:
    """A Coinglass daily file for one symbol, indexed by UTC day (Timestamp, tz-naive)."""
    raw = pd.read_csv(_dir(data_dir) / "coinglass-daily" / name)
    raw = raw[raw["symbol"] == symbol].copy()
    raw["day"] = pd.to_datetime(raw["ts_utc"], utc=True).dt.tz_localize(None).dt.normalize()
    return raw.set_index("day").sort_index()


@dataclass
class RealBars:
    frame: pd.DataFrame  # BAR_COLUMNS subset: klines + open_interest (BTC) + open_interest_usd, market-scaled
    market_factor: float  # Coinglass aggregate OI / OKX OI (median over tuning days)
    filled_hours: int  # hours whose OI was forward-filled
    notes: list[str] = field(default_factory=list)


def market_factor(oi_usd: pd.Series, data_dir: Path | str | None = None) -> float:
    """Median ratio of Coinglass aggregate BTC OI (daily close) to OKX OI at the same UTC close, tuning days."""
    agg = load_coinglass("futures_oi_agg_1d.csv", data_dir=data_dir)["oi_total_close"].astype(float)
    # Coinglass "close" of day D is the value at D+1 00:00 UTC; take OKX's last hour of D.
    okx_close = oi_usd.copy()
    okx_close.index = pd.to_datetime(okx_close.index, unit="ms").floor("D")
    okx_close = okx_close.groupby(level=0).last()
    both = pd.concat([agg, okx_close], axis=1, keys=["agg", "okx"]).dropna()
    both = both[(both.index < TUNE_END) & (both["agg"] > 0)]
    return float((both["agg"] / both["okx"]).median())


def load_real_bars(start: str = "2025-01-01", end: str = "2025-09-09", data_dir: Path | str | None = None) -> RealBars:
    """Binance klines joined with OKX OI scaled to the whole market; OI is NaN before OKX's first hour."""
    bars = load_klines(start, end, data_dir)
    oi_usd = load_okx_oi_usd(data_dir)
    factor = market_factor(oi_usd, data_dir)
    aligned = oi_usd.reindex(bars["time"].to_numpy())
    after_first = bars["time"].to_numpy() >= oi_usd.index.min()
    missing = int((aligned.isna().to_numpy() & after_first).sum())
    usd = aligned.ffill().to_numpy() * factor
    bars["open_interest_usd"] = usd
    bars["open_interest"] = usd / bars["close"].to_numpy()
    notes = [
        f"OKX OI: date column read as UTC+5 and shifted to UTC; contracts x {OKX_CONTRACT_USD:g} USD; "
        f"{missing} of {int(after_first.sum())} hours missing and forward-filled; scaled to the whole market x "
        f"{factor:.1f} (median Coinglass aggregate OI / OKX OI, days before {TUNE_END})",
    ]
    return RealBars(bars, factor, missing, notes)


def daily_real(data_dir: Path | str | None = None) -> pd.DataFrame:
    """Coinglass BTC liquidations per UTC day: long, short, total (USD)."""
    liq = load_coinglass("liquidation_agg_1d.csv", data_dir=data_dir)
    out = pd.DataFrame({"long": liq["liq_long_usd"].astype(float), "short": liq["liq_short_usd"].astype(float)})
    out["total"] = out["long"] + out["short"]
    return out


def load_force_orders(symbol: str = "BTC", data_dir: Path | str | None = None) -> pd.DataFrame:
    """Distinct liquidation prints of one symbol (``USDT`` stripped, as the stream files write it) from every
    ``stream-*.csv``: time (ms), side ("long" for a forced SELL, "short" for a forced BUY), price (average fill
    price), usd; empty when the folder is absent. Rows repeat in the recordings: exact duplicates are dropped."""
    folder = _dir(data_dir) / FORCE_ORDER_DIR
    # some rows of the later recording carry a 13th field (undocumented): read it and ignore it
    frames = [pd.read_csv(p, header=None, names=[*FORCE_ORDER_COLUMNS, "extra"])[FORCE_ORDER_COLUMNS]
              for p in sorted(folder.glob("stream-*.csv"))]
    if not frames:
        return pd.DataFrame({"time": pd.Series(dtype="int64"), "side": pd.Series(dtype="str"),
                             "price": pd.Series(dtype="float64"), "usd": pd.Series(dtype="float64")})
    raw = pd.concat(frames, ignore_index=True).drop_duplicates()
    raw = raw[raw["symbol"] == symbol]
    out = pd.DataFrame({
        "time": raw["order_trade_time"].astype("int64"),
        "side": raw["side"].map({"SELL": "long", "BUY": "short"}),
        "price": raw["average_price"].astype(float),
        "usd": raw["usd_size"].astype(float),
    })
    return out.dropna().sort_values("time").reset_index(drop=True)
