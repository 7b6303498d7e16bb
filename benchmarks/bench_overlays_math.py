"""Time the overlay maths (RSI, OI delta, funding, confluence) at 500 / 5,000 / 100,000 bars on real data.

Data: Binance USD-M BTCUSDT 1h klines and funding from ../shared/data/binance-btcusdt (13,848 bars). The klines
carry no open interest or long/short ratio, so both are synthesised from the klines (OI from the cumulative
taker-buy imbalance, the ratio from the taker-buy share): the maths does the same work whatever the values.
100,000 bars are the real series repeated end to end, each copy rescaled to start at the previous one's close.

Run: .venv/bin/python benchmarks/bench_overlays_math.py [--repeat 5]
This machine's CPU speed swings ~2x within minutes (PERFORMANCE.md): sizes and functions are interleaved, each
figure is the best of ``--repeat`` runs, and the ratios (per-bar cost, share of confluence spent on reasons) are
more telling than the absolute times.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from indicator_server.market.base import BAR_COLUMNS  # noqa: E402
from indicator_server.overlays import compute_confluence, compute_funding, compute_oi_delta, compute_rsi  # noqa: E402
from indicator_server.overlays.confluence_params import ConfluenceParams  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "binance-btcusdt"
SIZES = (500, 5_000, 100_000)
HOUR_MS = 3_600_000


def load_bars(n: int) -> pd.DataFrame:
    klines = pd.read_csv(DATA / "klines-1h.csv")
    funding = pd.read_csv(DATA / "funding.csv").sort_values("fundingTime")
    pieces, scale = [], 1.0
    while sum(len(p) for p in pieces) < n:
        piece = klines.copy()
        if pieces:
            scale = pieces[-1]["close"].iloc[-1] / klines["close"].iloc[0]
        for column in ("open", "high", "low", "close"):
            piece[column] = klines[column] * scale
        pieces.append(piece)
    frame = pd.concat(pieces, ignore_index=True).iloc[:n].copy()
    frame["time"] = int(klines["openTime"].iloc[0]) + HOUR_MS * np.arange(n, dtype="int64")
    # funding in force at each bar's close, from the real funding history (cycled like the klines)
    period = len(klines)
    close_time = klines["openTime"].to_numpy()[np.arange(n) % period] + HOUR_MS
    position = np.searchsorted(funding["fundingTime"].to_numpy(), close_time, side="right") - 1
    valid = position >= 0
    rate = np.where(valid, funding["fundingRate"].to_numpy()[np.maximum(position, 0)], np.nan)
    hours = np.where(valid, funding["fundingIntervalHours"].to_numpy()[np.maximum(position, 0)], np.nan)
    buy = frame["takerBuyBase"].to_numpy()
    sell = frame["volume"].to_numpy() - buy
    open_interest = 80_000.0 + 0.05 * np.cumsum(buy - sell)
    bars = pd.DataFrame(
        {
            "time": frame["time"],
            "open": frame["open"],
            "high": frame["high"],
            "low": frame["low"],
            "close": frame["close"],
            "volume": frame["volume"],
            "quote_volume": frame["quoteVolume"],
            "taker_buy_volume": buy,
            "taker_buy_quote_volume": frame["takerBuyQuote"],
            "trades": frame["trades"].astype("float64"),
            "open_interest": open_interest,
            "open_interest_usd": open_interest * frame["close"],
            "funding_rate": rate,
            "funding_interval_hours": hours,
            "long_short_ratio": pd.Series(buy / np.maximum(sell, 1e-9)).rolling(24, min_periods=1).mean() * 1.5,
            "long_account": np.nan,
        }
    )
    return bars[BAR_COLUMNS]


def best_of(function, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    params = ConfluenceParams()
    frames = {n: load_bars(n) for n in SIZES}
    clusters = {
        n: pd.DataFrame(
            {
                "long_cluster_distance_pct": 1.0,
                "long_cluster_usd": 0.02 * frames[n]["open_interest_usd"],
                "short_cluster_distance_pct": 2.0,
                "short_cluster_usd": 0.01 * frames[n]["open_interest_usd"],
            }
        )
        for n in SIZES
    }
    tasks = {
        "compute_rsi": lambda b, n: compute_rsi(b["close"], 14),
        "compute_oi_delta": lambda b, n: compute_oi_delta(b),
        "compute_funding": lambda b, n: compute_funding(b),
        "compute_confluence": lambda b, n: compute_confluence(b, params),
        "compute_confluence+clusters": lambda b, n: compute_confluence(b, params, clusters[n]),
        "confluence(with_reasons=False)": lambda b, n: compute_confluence(b, params, with_reasons=False),
    }
    results: dict[tuple[str, int], float] = {}
    for _ in range(args.repeat):  # interleave sizes and functions across rounds
        for n in SIZES:
            for name, task in tasks.items():
                elapsed = best_of(lambda task=task, n=n: task(frames[n], n), 1)
                results[name, n] = min(results.get((name, n), float("inf")), elapsed)
    print(f"best of {args.repeat}, seconds (and microseconds per bar)")
    print(f"{'function':30s}" + "".join(f"{n:>24,d}" for n in SIZES))
    for name in tasks:
        cells = "".join(f"{results[name, n]:>12.4f}s {1e6 * results[name, n] / n:>7.2f}us" for n in SIZES)
        print(f"{name:30s}{cells}")
    big = SIZES[-1]
    parts = sum(results[name, big] for name in ("compute_rsi", "compute_oi_delta", "compute_funding"))
    ratio = results["compute_confluence", big] / parts
    no_reasons = results["confluence(with_reasons=False)", big] / parts
    print(
        f"\nat {big:,} bars: confluence / (rsi + oi_delta + funding) = {ratio:.1f}x, without reasons {no_reasons:.1f}x"
    )
    out = compute_confluence(frames[big], params)
    print("regimes at 100k bars:", out["regime"].value_counts(dropna=False).to_dict())


if __name__ == "__main__":
    main()
