"""Bar frames (``BAR_COLUMNS``) for the overlay-maths tests: hand-built ones and ones from ../shared/data."""

from __future__ import annotations

import numpy as np
import pandas as pd

from indicator_server.market.base import BAR_COLUMNS
from tests.conftest import shared_data

HOUR_MS = 3_600_000


def make_bars(close, **columns) -> pd.DataFrame:
    """A ``BAR_COLUMNS`` frame of hourly bars with the given closes; other columns NaN unless given.

    Scalars broadcast; ``open``/``high``/``low`` default to the close (the overlays here only read closes).
    """
    close = np.asarray(close, dtype="float64")
    n = len(close)
    frame = pd.DataFrame({c: np.full(n, np.nan) for c in BAR_COLUMNS})
    frame["time"] = 1_735_689_600_000 + HOUR_MS * np.arange(n, dtype="int64")
    frame["close"] = close
    for name in ("open", "high", "low"):
        frame[name] = close
    for name, values in columns.items():
        if name not in BAR_COLUMNS:
            raise KeyError(name)
        frame[name] = np.broadcast_to(np.asarray(values, dtype="float64"), (n,))
    return frame


def load_okx_sol_bars() -> pd.DataFrame:
    """OKX SOL-USDT-SWAP 1h bars with real OI, funding (as of each bar's close) and long/short ratio, 360 bars.

    ``oi_value`` is the USD value of the open interest; ``open_interest`` is derived from it at the close.
    """
    folder = ("okx-sol-usdt-swap",)
    klines = pd.read_csv(shared_data(*folder, "ohlcv_1h.csv"))
    oi = pd.read_csv(shared_data(*folder, "open_interest.csv"))
    funding = pd.read_csv(shared_data(*folder, "funding_rate.csv")).sort_values("ts")
    ratio = pd.read_csv(shared_data(*folder, "long_short_ratio.csv"))
    frame = klines.rename(columns={"ts": "time"}).merge(
        oi.rename(columns={"ts": "time"})[["time", "oi_value"]], on="time", how="left"
    )
    frame = frame.merge(ratio.rename(columns={"ts": "time"})[["time", "ratio"]], on="time", how="left")
    frame["close_time"] = frame["time"] + HOUR_MS
    frame = pd.merge_asof(
        frame.sort_values("close_time"),
        funding.rename(columns={"ts": "close_time"})[["close_time", "fundingRate"]],
        on="close_time",
    )
    bars = make_bars(
        frame["close"],
        open=frame["open"],
        high=frame["high"],
        low=frame["low"],
        volume=frame["volume"],
        open_interest=frame["oi_value"] / frame["close"],
        open_interest_usd=frame["oi_value"],
        funding_rate=frame["fundingRate"],
        funding_interval_hours=8.0,
        long_short_ratio=frame["ratio"],
    )
    bars["time"] = frame["time"].to_numpy()
    return bars


def load_binance_closes() -> pd.Series:
    """Closes of Binance USD-M BTCUSDT 1h klines (13,848 bars)."""
    return pd.read_csv(shared_data("binance-btcusdt", "klines-1h.csv"), usecols=["close"])["close"]
