"""Run the Pine indicators of ``pine/`` in hoox-pyne on recorded bars and put the server's series beside them.

How a second series gets into Pine: TradingView's ``request.security("<SYMBOL>_OI", ...)`` cannot be served by
pyne (a foreign symbol without a multi-symbol feed evaluates to ``na``), so every script also takes its OI and
funding from ``input.source`` inputs ("OI from" / "Funding from" = "Source"). pyne accepts a whole list as an
``input.source`` override and samples it at ``bar_index``: the same thing TradingView does when a user picks
another indicator's plot as the source. The chart's OHLCV rows are the recorded bars themselves.

Data: ../shared/data/okx-sol-usdt-swap (1h OHLCV, OI, funding and long/short ratio on the same hours; README
there). Funding is the latest funding event at or before the bar's close, as ``MarketService.bars`` samples it.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from indicator_server.market.base import BAR_COLUMNS
from tests.conftest import IN_CI

REPO = Path(__file__).resolve().parents[2]
PINE = REPO / "pine"
SOL = ("okx-sol-usdt-swap",)
HOUR_MS = 3_600_000


def load_sol_bars(folder: Path) -> pd.DataFrame:
    """OKX SOL-USDT-SWAP 1h bars as a ``BAR_COLUMNS`` frame (time = bar open, UTC ms)."""
    ohlcv = pd.read_csv(folder / "ohlcv_1h.csv")
    oi = pd.read_csv(folder / "open_interest.csv")[["ts", "oi", "oi_value"]]
    ratio = pd.read_csv(folder / "long_short_ratio.csv")[["ts", "ratio"]]
    funding = pd.read_csv(folder / "funding_rate.csv")[["ts", "fundingRate"]].sort_values("ts")
    frame = ohlcv.merge(oi, on="ts", how="left").merge(ratio, on="ts", how="left").sort_values("ts")
    close_time = frame["ts"].to_numpy() + HOUR_MS
    idx = np.searchsorted(funding["ts"].to_numpy(), close_time, side="right") - 1
    rate = np.where(idx >= 0, funding["fundingRate"].to_numpy()[np.maximum(idx, 0)], np.nan)
    out = pd.DataFrame({c: np.full(len(frame), np.nan) for c in BAR_COLUMNS})
    out["time"] = frame["ts"].astype("int64").to_numpy()
    for name in ("open", "high", "low", "close", "volume"):
        out[name] = frame[name].astype("float64").to_numpy()
    out["open_interest"] = frame["oi"].astype("float64").to_numpy()
    out["open_interest_usd"] = frame["oi_value"].astype("float64").to_numpy()
    out["funding_rate"] = rate
    out["funding_interval_hours"] = np.where(np.isfinite(rate), 8.0, np.nan)
    out["long_short_ratio"] = frame["ratio"].astype("float64").to_numpy()
    return out.reset_index(drop=True)


def require_pyne() -> None:
    """Skip without hoox-pyne, except in CI (CI=true), where a missing tool is a failure."""
    try:
        import pynescript.runtime  # noqa: F401
    except ImportError:
        if IN_CI:
            raise
        pytest.skip("hoox-pyne (pynescript) is not installed")


def ohlcv_rows(bars: pd.DataFrame) -> list[dict]:
    return [
        {"time": int(t), "open": float(o), "high": float(h), "low": float(lo), "close": float(c), "volume": float(v)}
        for t, o, h, lo, c, v in bars[["time", "open", "high", "low", "close", "volume"]].itertuples(index=False)
    ]


def as_source(values) -> list[float | None]:
    """A series for an ``input.source`` override: NaN becomes None (Pine's na)."""
    return [None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v) for v in values]


def run_pine(name: str, bars: pd.DataFrame, inputs: dict | None = None, symbol: str = "OKX:SOLUSDT.P") -> dict:
    """Run ``pine/<name>`` over ``bars`` (1h) in pyne's interpreter; returns pyne's result dict (raises on error)."""
    from pynescript.runtime import Runtime

    source = (PINE / name).read_text(encoding="utf-8")
    result = Runtime(symbol=symbol, timeframe="60").run(
        source, ohlcv_rows(bars), mode="interpret", inputs=inputs or {}
    )
    if result.get("error"):
        raise RuntimeError(f"pyne failed on {name}: {result['error']}")
    return result


def plot_array(result: dict, title: str) -> np.ndarray:
    """One plot of a pyne result as a float array (na -> NaN)."""
    series = result["series"]
    if title not in series:
        raise KeyError(f"no plot {title!r}; plots: {sorted(series)}")
    return np.array([np.nan if v is None else float(v) for v in series[title]], dtype="float64")


def max_abs_diff(pine: np.ndarray, server: np.ndarray) -> tuple[float, int]:
    """Largest |pine - server| over bars where both are defined, and how many bars that is."""
    pine, server = np.asarray(pine, dtype="float64"), np.asarray(server, dtype="float64")
    both = np.isfinite(pine) & np.isfinite(server)
    return (float(np.max(np.abs(pine[both] - server[both]))) if both.any() else float("nan")), int(both.sum())


def oi_inputs(bars: pd.DataFrame) -> dict:
    """Feed the bars' OI through the "OI source" input (see the module docstring)."""
    return {"OI from": "Source", "OI source": as_source(bars["open_interest"])}


def confluence_inputs(bars: pd.DataFrame, *, with_ratio: bool = True) -> dict:
    inputs = {**oi_inputs(bars), "Funding from": "Source", "Funding source": as_source(bars["funding_rate"])}
    if with_ratio:
        inputs |= {"Long/short ratio from": "Source", "Long/short source": as_source(bars["long_short_ratio"])}
    return inputs
