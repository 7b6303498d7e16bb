"""Recorded real data for the liquidation accuracy study: a thin wrapper over ``indicator_server.accuracy.data``
and ``.stats`` with this checkout's ``../shared/data`` as the folder (see those modules for the sources)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from indicator_server.accuracy import data as _d
from indicator_server.accuracy.data import HELD_OUT, OKX_CONTRACT_USD, OKX_UTC_OFFSET_HOURS, TUNE_END, RealBars
from indicator_server.accuracy.stats import DAY_MS, daily_baselines, scores, spearman, to_daily, window

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
HOUR_MS = 3_600_000

__all__ = ["DATA", "DAY_MS", "HELD_OUT", "HOUR_MS", "OKX_CONTRACT_USD", "OKX_UTC_OFFSET_HOURS", "TUNE_END",
           "RealBars", "available", "daily_baselines", "daily_real", "data_path", "load_coinglass", "load_klines",
           "load_okx_oi_usd", "load_okx_snapshots", "load_real_bars", "market_factor", "scores", "spearman",
           "to_daily", "window"]


def data_path(*parts: str) -> Path:
    return DATA.joinpath(*parts)


def available() -> bool:
    return _d.available(DATA)


def load_klines(start: str | None = None, end: str | None = None) -> pd.DataFrame:
    return _d.load_klines(start, end, DATA)


def load_okx_snapshots() -> pd.DataFrame:
    return _d.load_okx_snapshots(DATA)


def load_okx_oi_usd() -> pd.Series:
    return _d.load_okx_oi_usd(DATA)


def load_coinglass(name: str, symbol: str = "BTC") -> pd.DataFrame:
    return _d.load_coinglass(name, symbol, DATA)


def market_factor(oi_usd: pd.Series) -> float:
    return _d.market_factor(oi_usd, DATA)


def load_real_bars(start: str = "2025-01-01", end: str = "2025-09-09") -> RealBars:
    return _d.load_real_bars(start, end, DATA)


def daily_real() -> pd.DataFrame:
    return _d.daily_real(DATA)
