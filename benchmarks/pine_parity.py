"""Pine-vs-server parity figures: each indicator of pine/ run in hoox-pyne on recorded bars, beside the server's
pure functions on the same bars. Prints, per indicator and series, the max abs difference and the bars compared.

Data (../shared/data, README there):
- OKX SOL-USDT-SWAP 1h (360 bars with OI, funding and the long/short ratio on the same hours): every indicator,
  exact model; OI and funding reach Pine through its "Source" inputs (tests/pine/harness.py explains how).
- Binance BTCUSDT 1h, the last ``--bars`` bars: the liquidation script as it runs on TradingView (hlc3 entry,
  candle split: TradingView publishes neither quote volume nor taker-buy volume) against the server on the same
  bars (a) without quote/taker columns, which isolates Pine's "Forget share" pruning, and (b) with them (VWAP
  entry, taker split), which is what the API computes for Binance.

Run: .venv/bin/python -m benchmarks.pine_parity [--bars 720]
Takes a few minutes: pyne interprets Pine bar by bar (its seconds per run are printed too).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from indicator_server.market.base import BAR_COLUMNS
from indicator_server.overlays.confluence import compute_confluence
from indicator_server.overlays.liquidations.model import estimate_liquidations
from indicator_server.overlays.liquidations.params import LiquidationParams
from indicator_server.overlays.oi_delta import QUADRANTS, compute_oi_delta
from tests.pine.harness import (
    REPO,
    SOL,
    confluence_inputs,
    load_sol_bars,
    max_abs_diff,
    oi_inputs,
    plot_array,
    run_pine,
)

DATA = REPO.parent / "shared" / "data"


def timed_run(name, bars, inputs=None, symbol="OKX:SOLUSDT.P"):
    start = time.perf_counter()
    result = run_pine(name, bars, inputs, symbol=symbol)
    return result, time.perf_counter() - start


def row(indicator: str, series: str, diff: float, bars: int, note: str = "") -> None:
    print(f"{indicator:<22} {series:<26} {diff:>12.3e} {bars:>6}  {note}")


def oi_delta(bars: pd.DataFrame) -> None:
    pine, secs = timed_run("oi_delta.pine", bars, oi_inputs(bars))
    server = compute_oi_delta(bars)
    for plot, column in (("Delta", "delta"), ("Delta USD", "delta_usd"), ("Delta %", "delta_pct"),
                         ("Z-score", "zscore")):
        row("oi_delta", plot, *max_abs_diff(plot_array(pine, plot), server[column].to_numpy(dtype="float64")))
    codes = np.array([QUADRANTS.index(q) + 1 if q else 0 for q in server["quadrant"]])
    row("oi_delta", "Quadrant (mismatches)", float((plot_array(pine, "Quadrant") != codes).sum()), len(codes))
    print(f"{'':<22} pyne run {secs:.1f} s for {len(bars)} bars")


def confluence(bars: pd.DataFrame) -> None:
    pine, secs = timed_run("confluence.pine", bars, confluence_inputs(bars))
    server = compute_confluence(bars, with_reasons=False)
    for plot, column in (("Score", "score"), ("RSI", "rsi"), ("Funding z-score", "funding_zscore"),
                         ("OI delta z-score", "oi_zscore"), ("OI level z-score", "oi_level_zscore"),
                         ("Component funding", "component_funding"), ("Component OI", "component_oi"),
                         ("Component RSI", "component_rsi"), ("Component long/short", "component_long_short")):
        row("confluence", plot, *max_abs_diff(plot_array(pine, plot), server[column].to_numpy(dtype="float64")))
    codes = {"long_cascade_risk": -1.0, "neutral": 0.0, "short_squeeze_risk": 1.0}
    regime = np.array([codes.get(r, np.nan) for r in server["regime"]])
    got = plot_array(pine, "Regime")
    both = np.isfinite(regime) & np.isfinite(got)
    row("confluence", "Regime (mismatches)", float((got[both] != regime[both]).sum()), int(both.sum()))
    fired = sum(1 for a in pine["alerts"] if a["source"] == "alert")
    print(f"{'':<22} pyne run {secs:.1f} s for {len(bars)} bars; {fired} alert() messages; server score "
          "has no cluster component here (Pine cannot compute per-bar clusters): the API's may differ by <= 15")


def liquidation_figures(pine: dict, server) -> dict[str, tuple[float, float]]:
    """(Pine, server) per figure of the last bar."""
    out = {}
    for side in ("long", "short"):
        cluster = next((c for c in server.clusters if c["side"] == side), None)
        title = side.capitalize()
        out[f"{side} cluster price"] = (plot_array(pine, f"{title} cluster price")[-1],
                                        cluster["price_peak"] if cluster else np.nan)
        out[f"{side} cluster USD"] = (plot_array(pine, f"{title} cluster USD")[-1],
                                      cluster["notional_usd"] if cluster else np.nan)
        pain = server.max_pain[side] or {}
        out[f"max pain {side} price"] = (plot_array(pine, f"Max pain {side} price")[-1], pain.get("price", np.nan))
        out[f"max pain {side} USD"] = (plot_array(pine, f"Max pain {side} USD")[-1],
                                       pain.get("notional_usd", np.nan))
        out[f"open {side} USD in map"] = (plot_array(pine, f"Open {side} USD in map")[-1],
                                          float(server.map[f"{side}_usd"].sum()))
    return out


def liquidations(bars: pd.DataFrame, label: str, inputs: dict, params: LiquidationParams,
                 symbol: str = "OKX:SOLUSDT.P", others: dict | None = None) -> None:
    pine, secs = timed_run("liquidation_levels.pine", bars, inputs, symbol=symbol)
    servers = {"same bars": bars, **(others or {})}
    for what, frame in servers.items():
        server = estimate_liquidations(frame, params, include=("levels", "map", "clusters", "swept"))
        name = f"liq {label} vs {what}"
        for figure, (p, s) in liquidation_figures(pine, server).items():
            note = f"pine {p:.6g} server {s:.6g}"
            if "price" in figure and np.isfinite(p) and np.isfinite(s):
                note += f" ({100 * (p - s) / server.price:+.3f} % of close)"
            elif np.isfinite(p) and np.isfinite(s) and s:
                note += f" (ratio {p / s:.4f})"
            row(name, figure, abs(p - s) if np.isfinite(p - s) else np.nan, 1, note)
        for side in ("long", "short"):
            expected = server.swept[f"{side}_usd"].to_numpy()
            values = plot_array(pine, f"Swept {side} USD")
            diff, n = max_abs_diff(values, expected)
            corr = np.corrcoef(values, expected)[0, 1] if expected.std() > 0 and values.std() > 0 else np.nan
            row(name, f"swept {side} USD per bar", diff, n,
                f"max {expected.max():.4g}; totals ratio {values.sum() / expected.sum():.4f}; corr {corr:.4f}")
    print(f"{'':<22} pyne run {secs:.1f} s for {len(bars)} bars")


def binance_bars(n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The last ``n`` Binance BTCUSDT 1h bars: as TradingView has them (OHLCV only) and with quote/taker volume."""
    raw = pd.read_csv(DATA / "binance-btcusdt" / "klines-1h.csv").tail(n).reset_index(drop=True)
    full = pd.DataFrame({c: np.full(len(raw), np.nan) for c in BAR_COLUMNS})
    full["time"] = raw["openTime"].astype("int64")
    for name in ("open", "high", "low", "close", "volume"):
        full[name] = raw[name].astype("float64")
    full["quote_volume"] = raw["quoteVolume"].astype("float64")
    full["taker_buy_volume"] = raw["takerBuyBase"].astype("float64")
    tradingview = full.assign(quote_volume=np.nan, taker_buy_volume=np.nan)
    return tradingview, full


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=720, help="Binance bars for the liquidation comparison")
    args = parser.parse_args()
    sol = load_sol_bars(DATA.joinpath(*SOL))
    print(f"{'indicator':<22} {'series':<26} {'max |diff|':>12} {'bars':>6}  note")
    oi_delta(sol)
    confluence(sol)
    liquidations(sol, "SOL volume", {}, LiquidationParams())
    liquidations(sol, "SOL blend", {"Flow": "Blend"} | oi_inputs(sol), LiquidationParams(flow_source="blend"))
    tradingview, full = binance_bars(args.bars)
    liquidations(tradingview, "BTC volume", {}, LiquidationParams(), symbol="BINANCE:BTCUSDT.P",
                 others={"Binance VWAP+taker": full})


if __name__ == "__main__":
    main()
