"""A straightforward per-bar loop of the liquidation model: the reference the vectorised one must equal.

It walks the bars once, keeping a list of open levels: each bar first liquidates the levels its low/high reaches
(their notional open at the previous close is that bar's swept USD), shrinks the rest by the bar's OI closure and
decay, then opens the bar's new levels. Liquidation prices come from the per-position Binance formula
(``liquidation_price.binance_usdm``), not from the vectorised tier factors. The per-bar inputs (entry price, long
share, new notional) are elementwise formulas and are taken from ``flow``. Slow on purpose: tests and benchmarks
only, never the hot path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from indicator_server.overlays.liquidation_price import binance_usdm
from indicator_server.overlays.liquidations import flow
from indicator_server.overlays.liquidations.params import LiquidationParams


@dataclass
class ReferenceResult:
    levels: pd.DataFrame  # bar, side (0 long, 1 short), tier, price, notional, swept (bar or n), open_usd
    swept_long: np.ndarray
    swept_short: np.ndarray
    grid_rows: np.ndarray
    grid: np.ndarray | None


def reference_model(bars: pd.DataFrame, params: LiquidationParams, *, rows: np.ndarray | None = None,
                    edges: np.ndarray | None = None) -> ReferenceResult:
    n = len(bars)
    used_flow, _ = flow.effective_flow(bars, params)
    entry = flow.entry_prices(bars, params.entry_price)
    share = flow.long_shares(bars, params)
    new = flow.new_notional(bars, params, entry, used_flow)
    low, high = bars["low"].to_numpy(float), bars["high"].to_numpy(float)
    oi = flow.open_interest_base(bars)
    weights = np.asarray(params.leverage_weights) / sum(params.leverage_weights)
    bracket = flow.bracket_for(params.brackets, params.position_size_usd)
    half_life = params.decay_half_life_hours
    if half_life is None and used_flow == "volume":
        half_life = params.volume_half_life_hours
    decay = 0.0 if half_life is None else math.log(2) * flow.bar_hours(bars) / half_life
    # tier L decays (L / 10)^alpha times as fast (half_life_leverage_exponent)
    rate = [(lev / 10.0) ** params.half_life_leverage_exponent for lev in params.leverage_tiers]
    use_oi = used_flow in ("oi", "blend") and params.oi_closure == "proportional"

    row_set = {} if rows is None else {int(r): i for i, r in enumerate(rows)}
    grid = None if rows is None else np.zeros((len(rows), len(edges) - 1))
    records: list[dict] = []
    alive: list[dict] = []
    swept_long, swept_short = np.zeros(n), np.zeros(n)
    for t in range(n):
        step = 0.0
        if t > 0:
            if use_oi and math.isfinite(oi[t]) and math.isfinite(oi[t - 1]) and 0 < oi[t] < oi[t - 1]:
                step += math.log(oi[t] / oi[t - 1])
        still = []
        for lv in alive:
            hit = low[t] <= lv["price"] if lv["side"] == 0 else high[t] >= lv["price"]
            if hit:
                (swept_long if lv["side"] == 0 else swept_short)[t] += lv["open_usd"]
                lv["swept"] = t
                lv["open_usd"] = 0.0
            else:
                lv["open_usd"] *= math.exp(step - (decay * rate[lv["tier"]] if t > 0 else 0.0))
                still.append(lv)
        alive = still
        if new[t] > 0 and math.isfinite(entry[t]) and entry[t] > 0:
            for side, side_share in ((0, share[t]), (1, 1.0 - share[t])):
                for tier, leverage in enumerate(params.leverage_tiers):
                    amount = new[t] * side_share * weights[tier]
                    qty = params.position_size_usd / entry[t]
                    price = binance_usdm("long" if side == 0 else "short", entry[t], qty,
                                         params.position_size_usd / leverage, bracket.mmr, bracket.cum)
                    if amount > 0 and price is not None and price > 0:
                        lv = {"bar": t, "side": side, "tier": tier, "price": price, "notional": amount,
                              "swept": n, "open_usd": amount}
                        records.append(lv)
                        alive.append(lv)
        if t in row_set:
            for lv in alive:
                width = (edges[-1] - edges[0]) / (len(edges) - 1)
                b = int(math.floor((lv["price"] - edges[0]) / width))
                if lv["price"] == edges[-1]:
                    b = len(edges) - 2
                if 0 <= b < len(edges) - 1:
                    grid[row_set[t], b] += lv["open_usd"]
    levels = pd.DataFrame(records, columns=["bar", "side", "tier", "price", "notional", "swept", "open_usd"])
    levels = levels.sort_values(["side", "bar", "tier"], kind="stable").reset_index(drop=True)
    return ReferenceResult(levels, swept_long, swept_short, rows, grid)


def binance_bars(path, n: int | None = None, seed: int = 7) -> pd.DataFrame:
    """Binance BTCUSDT 1h klines as ``BAR_COLUMNS``, tiled (each copy continuing in time and rescaled to start
    where the previous ended) to ``n`` bars, with a synthetic open interest (the klines carry none): a seeded
    random walk of +/-1% per bar around 80,000 BTC."""
    k = pd.read_csv(path)
    base = pd.DataFrame({
        "time": k["openTime"].astype("int64"), "open": k["open"], "high": k["high"], "low": k["low"],
        "close": k["close"], "volume": k["volume"], "quote_volume": k["quoteVolume"],
        "taker_buy_volume": k["takerBuyBase"], "taker_buy_quote_volume": k["takerBuyQuote"],
        "trades": k["trades"].astype("float64"),
    })
    n = n or len(base)
    parts, scale, t0 = [], 1.0, int(base["time"].iloc[0])
    step = int(base["time"].iloc[1] - base["time"].iloc[0])
    while sum(len(p) for p in parts) < n:
        part = base.copy()
        for col in ("open", "high", "low", "close"):
            part[col] = part[col] * scale
        part["quote_volume"] *= scale
        part["taker_buy_quote_volume"] *= scale
        part["time"] = t0 + step * (np.arange(len(part)) + sum(len(p) for p in parts))
        parts.append(part)
        scale = float(part["close"].iloc[-1] / base["open"].iloc[0])
    bars = pd.concat(parts, ignore_index=True).iloc[:n].reset_index(drop=True)
    rng = np.random.default_rng(seed)
    oi = 80_000 * np.exp(np.cumsum(rng.normal(0.0, 0.01, n)))
    bars["open_interest"] = oi
    bars["open_interest_usd"] = oi * bars["close"]
    for col in ("funding_rate", "funding_interval_hours", "long_short_ratio", "long_account"):
        bars[col] = np.nan
    return bars
