"""Join klines with point samples (open interest, funding, long/short ratio) into one per-bar frame.

Each sample series is joined *as of the bar's close*: a bar opening at ``t`` with timeframe ``step`` gets the last
sample taken at or before ``t + step``. Open interest and long/short ratio samples older than ``sample_tolerance``
are not carried forward (a gap stays NaN rather than inventing a value); the funding rate in force is the latest
funding event at or before the close, however old, because it stays in force until the next event.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .base import BAR_COLUMNS, KLINE_COLUMNS, empty_frame


def _asof(bar_close: np.ndarray, samples: pd.DataFrame, columns: list[str], tolerance: int | None):
    out = {c: np.full(len(bar_close), np.nan) for c in columns}
    if samples.empty or not len(bar_close):
        return out
    times = samples["time"].to_numpy()
    idx = np.searchsorted(times, bar_close, side="right") - 1
    valid = idx >= 0
    if tolerance is not None:
        valid &= bar_close - times[np.clip(idx, 0, None)] <= tolerance
    for column in columns:
        values = samples[column].to_numpy(dtype="float64")
        col = np.full(len(bar_close), np.nan)
        col[valid] = values[idx[valid]]
        out[column] = col
    return out


def assemble_bars(
    klines: pd.DataFrame,
    open_interest: pd.DataFrame,
    funding: pd.DataFrame,
    long_short: pd.DataFrame,
    step: int,
    *,
    sample_tolerance: int,
) -> pd.DataFrame:
    if klines.empty:
        return empty_frame(BAR_COLUMNS)
    frame = klines[KLINE_COLUMNS].reset_index(drop=True).copy()
    close_time = frame["time"].to_numpy() + step
    oi = _asof(close_time, open_interest, ["open_interest", "open_interest_usd"], sample_tolerance)
    fr = _asof(close_time, funding, ["funding_rate", "interval_hours"], None)
    ls = _asof(close_time, long_short, ["long_short_ratio", "long_account"], sample_tolerance)
    frame["open_interest"] = oi["open_interest"]
    frame["open_interest_usd"] = oi["open_interest_usd"]
    # Some venues give OI in one unit only: derive the other at the bar's close.
    missing_usd = np.isnan(frame["open_interest_usd"]) & ~np.isnan(frame["open_interest"])
    frame.loc[missing_usd, "open_interest_usd"] = (
        frame.loc[missing_usd, "open_interest"] * frame.loc[missing_usd, "close"]
    )
    missing_base = np.isnan(frame["open_interest"]) & ~np.isnan(frame["open_interest_usd"])
    frame.loc[missing_base, "open_interest"] = (
        frame.loc[missing_base, "open_interest_usd"] / frame.loc[missing_base, "close"]
    )
    frame["funding_rate"] = fr["funding_rate"]
    frame["funding_interval_hours"] = fr["interval_hours"]
    frame["long_short_ratio"] = ls["long_short_ratio"]
    frame["long_account"] = ls["long_account"]
    return frame[BAR_COLUMNS]


# Per-bar liquidation totals joined when the venue publishes liquidation prints (``source.has["liquidations"]``).
LIQUIDATION_BAR_COLUMNS = ["long_liquidated_usd", "short_liquidated_usd"]
_LONG_SIDES = {"long", "sell"}  # the position force-closed, or the order that closed it (a long is sold)
_SHORT_SIDES = {"short", "buy"}


def liquidation_sides(side: pd.Series) -> np.ndarray:
    """+1 for a long force-closed, -1 for a short, 0 when unknown.

    Accepts the liquidated position's side ("long"/"short"), the closing order's side as Binance's forceOrder
    stream reports it ("SELL" closes a long, "BUY" a short; Binance USD-M "Liquidation Order Streams"), or the
    sim's sign convention (+1 long, -1 short), whatever the case."""
    if pd.api.types.is_numeric_dtype(side):
        return np.sign(np.nan_to_num(side.to_numpy(dtype="float64"))).astype("int64")
    text = side.astype(str).str.strip().str.lower()
    return np.where(text.isin(_LONG_SIDES), 1, np.where(text.isin(_SHORT_SIDES), -1, 0)).astype("int64")


def add_liquidations(frame: pd.DataFrame, prints: pd.DataFrame | None, step: int) -> pd.DataFrame:
    """``frame`` with ``long_liquidated_usd`` / ``short_liquidated_usd``: the sum of the prints' ``usd`` whose time
    falls in the bar, [open, open + step); 0 where the bar has none. ``prints`` None (the venue's prints could not
    be fetched) gives NaN columns: unknown, not zero."""
    out = frame.copy()
    n = len(out)
    if prints is None:
        for column in LIQUIDATION_BAR_COLUMNS:
            out[column] = np.full(n, np.nan)
        return out
    long_usd, short_usd = np.zeros(n), np.zeros(n)
    if n and len(prints):
        opens = out["time"].to_numpy(dtype="int64")
        times = prints["time"].to_numpy(dtype="int64")
        usd = np.nan_to_num(prints["usd"].to_numpy(dtype="float64"))
        idx = np.searchsorted(opens, times, side="right") - 1
        inside = (idx >= 0) & (times < opens[np.maximum(idx, 0)] + step)
        sides = liquidation_sides(prints["side"])
        for target, sign in ((long_usd, 1), (short_usd, -1)):
            keep = inside & (sides == sign)
            np.add.at(target, idx[keep], usd[keep])
    out["long_liquidated_usd"] = long_usd
    out["short_liquidated_usd"] = short_usd
    return out
