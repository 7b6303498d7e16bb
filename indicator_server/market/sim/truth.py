"""Ground truth of the simulated world: every cohort, every liquidation, the true liquidation map.

These are what the liquidation-level model is measured against. Bar indices count bars of the timeframe since
genesis; ``closed`` is the number of bars closed at the source's clock, so a cohort's close is known exactly up to
the clock and does not depend on the range asked. Values are USD notional at entry (``value="entry"``, what
open-interest-flow models track) or quantity x liquidation price (``value="liquidation"``, the size of the forced
order).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from ...errors import InvalidArgument
from ...timeframes import TIMEFRAMES
from .params import GENESIS_MS
from .traders import Simulation, max_hold_bars, simulate

POSITION_COLUMNS = ["opened_at", "side", "leverage", "entry_price", "notional_usd", "quantity",
                    "liquidation_price", "closed_at", "close_reason", "accounts"]


def check_value(value: str) -> str:
    if value not in ("entry", "liquidation"):
        raise InvalidArgument(f"value must be 'entry' or 'liquidation', not {value!r}", details={"value": value})
    return value


def _value(sim: Simulation, value: str) -> np.ndarray:
    return sim.notional if check_value(value) == "entry" else sim.quantity * sim.liq_price


@lru_cache(maxsize=4)
def positions_frame(symbol: str, timeframe: str, first: int, stop: int, closed: int) -> pd.DataFrame:
    """Cohorts opened on bars ``first <= i < stop``, each with its eventual close as known at the clock."""
    if stop <= first:
        return pd.DataFrame({c: pd.Series(dtype="str" if c in ("side", "close_reason") else "float64")
                             for c in POSITION_COLUMNS}).astype({"opened_at": "int64"})
    sim = simulate(symbol, timeframe, first, min(closed, stop + max_hold_bars(timeframe)))
    keep = sim.open_bar < stop
    tf = TIMEFRAMES[timeframe]
    close_bar = sim.close_bar[keep]
    reason = np.where(sim.liquidated[keep], "liquidated", "closed").astype(object)
    reason[close_bar < 0] = np.nan
    return pd.DataFrame({
        "opened_at": GENESIS_MS + sim.open_bar[keep].astype("int64") * tf,
        "side": np.where(sim.side[keep] > 0, "long", "short").astype(object),
        "leverage": sim.leverage[keep],
        "entry_price": sim.entry[keep],
        "notional_usd": sim.notional[keep],
        "quantity": sim.quantity[keep],
        "liquidation_price": sim.liq_price[keep],
        "closed_at": np.where(close_bar >= 0, GENESIS_MS + close_bar.astype("float64") * tf, np.nan),
        "close_reason": reason,
        "accounts": sim.accounts[keep],
    })


@lru_cache(maxsize=16)
def liquidations_frame(symbol: str, timeframe: str, first: int, stop: int, value: str) -> pd.DataFrame:
    """USD liquidated per bar ``first <= i < stop``, longs and shorts, with the count of liquidated cohorts."""
    check_value(value)
    n = max(stop - first, 0)
    times = GENESIS_MS + np.arange(first, first + n, dtype="int64") * TIMEFRAMES[timeframe]
    out = {"time": times}
    if n:
        sim = simulate(symbol, timeframe, max(0, first - max_hold_bars(timeframe)), stop)
        weights = _value(sim, value)
        rel = sim.close_bar - first
        hit = sim.liquidated & (rel >= 0)
        for name, mask in (("long", sim.side > 0), ("short", sim.side < 0)):
            sel = hit & mask
            out[f"{name}_liquidated_usd"] = np.bincount(rel[sel], weights[sel], minlength=n)[:n]
            out[f"{name}_liquidated_cohorts"] = np.bincount(rel[sel], minlength=n)[:n].astype("float64")
    else:
        for name in ("long", "short"):
            out[f"{name}_liquidated_usd"] = np.empty(0)
            out[f"{name}_liquidated_cohorts"] = np.empty(0)
    return pd.DataFrame(out)


@lru_cache(maxsize=8)
def liquidation_prints(symbol: str, first: int, stop: int) -> pd.DataFrame:
    """One print per 1h cohort liquidated in hours ``first <= h < stop``: time (the minute of the hour's low for
    longs, its high for shorts), side, price (the liquidation price), quantity, usd
    (``SimSource.fetch_liquidations``)."""
    from .impact import BLOCK_HOURS, block_impact

    if stop <= first:
        return pd.DataFrame({"time": np.empty(0, "int64"), "side": np.empty(0, object), "price": np.empty(0),
                             "quantity": np.empty(0), "usd": np.empty(0)})
    sim = simulate(symbol, "1h", max(0, first - max_hold_bars("1h")), stop)
    hit = sim.liquidated & (sim.close_bar >= first)
    bar, side = sim.close_bar[hit], sim.side[hit]
    minute = np.empty(len(bar), dtype="int64")
    for block in np.unique(bar // BLOCK_HOURS):
        impact = block_impact(symbol, int(block))
        at = bar // BLOCK_HOURS == block
        hour = bar[at] - block * BLOCK_HOURS
        minute[at] = np.where(side[at] > 0, impact.low_minute[hour], impact.high_minute[hour])
    price, qty = sim.liq_price[hit], sim.quantity[hit]
    frame = pd.DataFrame({
        "time": GENESIS_MS + bar.astype("int64") * TIMEFRAMES["1h"] + minute * 60_000,
        "side": np.where(side > 0, "long", "short").astype(object),
        "price": price, "quantity": qty, "usd": qty * price,
    })
    return frame.sort_values(["time", "side", "price"], kind="stable").reset_index(drop=True)


def liquidation_map(symbol: str, timeframe: str, bar: int, edges: np.ndarray, value: str) -> pd.DataFrame:
    """Still-open long and short value per bin of liquidation price at the close of ``bar``."""
    edges = np.asarray(edges, dtype="float64")
    if edges.ndim != 1 or len(edges) < 2 or np.any(np.diff(edges) <= 0):
        raise InvalidArgument("price_edges must be at least two strictly increasing prices",
                              details={"price_edges": edges.tolist()[:10]})
    sim = simulate(symbol, timeframe, max(0, bar - max_hold_bars(timeframe)), bar + 1)
    weights = _value(sim, value)
    alive = sim.close_bar < 0
    out = {"price_low": edges[:-1], "price_high": edges[1:]}
    for name, mask in (("long", sim.side > 0), ("short", sim.side < 0)):
        sel = alive & mask
        out[f"{name}_usd"] = np.histogram(sim.liq_price[sel], bins=edges, weights=weights[sel])[0]
    frame = pd.DataFrame(out)
    frame.attrs["close"] = float(sim.close[-1])
    frame.attrs["time"] = int(sim.time[-1])
    return frame
