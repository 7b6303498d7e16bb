"""Benchmark of the liquidation model's full product against the per-bar loop reference, in one run.

    .venv/bin/python benchmarks/bench_liquidations.py [--sizes 1000,8760,10000,100000] [--loop-max 10000]
                                                      [--repeat 5]

Full product = levels + sweeps, map, clusters, max pain, swept per bar and the heatmap (500 price bins, at most
2,000 time rows), 5 leverage tiers x 2 sides, the model's default parameters (``--flow oi|volume|blend``
overrides the flow source). Data: Binance BTCUSDT 1h klines from
../shared/data/binance-btcusdt/klines-1h.csv, tiled in time (each copy rescaled to continue the previous one) up
to 100,000 bars, with a seeded synthetic open interest (the klines carry none). Sizes are timed interleaved
(A B C A B C ...) because these machines' CPU speed swings ~2x within minutes; the table shows the best and the
median run. The loop reference (tests/overlays/liquidations/reference_loop.py) runs on sizes up to --loop-max;
its results are asserted equal to the vectorised ones (levels, sweeps, open notional, swept per bar, heatmap)
and its time for larger sizes is extrapolated with the power law fitted to the measured ones.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from indicator_server.overlays.liquidations import (  # noqa: E402
    PARTS,
    LiquidationParams,
    clusters_per_bar,
    estimate_liquidations,
)
from indicator_server.overlays.liquidations.model import run_model  # noqa: E402
from tests.overlays.liquidations.reference_loop import binance_bars, reference_model  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "binance-btcusdt" / "klines-1h.csv"
BINS = 500


def time_product(bars, params) -> float:
    start = time.perf_counter()
    estimate_liquidations(bars, params, bins=BINS, include=PARTS)
    return time.perf_counter() - start


def check_equal(bars, params) -> float:
    """Run the loop reference, assert it equals the vectorised model; return the loop's seconds."""
    result = estimate_liquidations(bars, params, bins=BINS, include=PARTS)
    heat = result.heatmap
    edges = np.append(heat["price_low"], heat["price_high"][-1])
    rows = np.searchsorted(bars["time"].to_numpy(), heat["time"])
    start = time.perf_counter()
    ref = reference_model(bars, params, rows=rows, edges=edges)
    seconds = time.perf_counter() - start
    core = run_model(bars, params)
    scale = float(ref.levels["notional"].max())
    np.testing.assert_array_equal(core.levels.swept, ref.levels["swept"])
    np.testing.assert_allclose(core.levels.price, ref.levels["price"], rtol=1e-12)
    np.testing.assert_allclose(result.levels["open_usd"], ref.levels["open_usd"], rtol=1e-9, atol=1e-9 * scale)
    np.testing.assert_allclose(result.swept["long_usd"], ref.swept_long, rtol=1e-9, atol=1e-9 * scale)
    np.testing.assert_allclose(result.swept["short_usd"], ref.swept_short, rtol=1e-9, atol=1e-9 * scale)
    np.testing.assert_allclose(heat["values"], ref.grid, rtol=1e-9, atol=1e-8 * scale)
    return seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,8760,10000,100000")
    parser.add_argument("--loop-max", type=int, default=10_000, help="largest size the loop reference runs on")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--flow", choices=["oi", "volume", "blend"], default=None, help="default: the model's")
    args = parser.parse_args(argv)
    if not DATA.exists():
        sys.exit(f"{DATA} is missing: the benchmark needs ../shared/data beside the checkout")
    sizes = [int(s) for s in args.sizes.split(",")]
    params = LiquidationParams() if args.flow is None else LiquidationParams(flow_source=args.flow)
    print(f"flow source: {params.flow_source}")
    full = binance_bars(DATA, max(sizes))
    frames = {n: full.iloc[:n].reset_index(drop=True) for n in sizes}
    for n in sizes:  # warm-up: imports, first touch of buffers
        time_product(frames[n], params)
    runs: dict[int, list[float]] = {n: [] for n in sizes}
    for _ in range(args.repeat):
        for n in sizes:
            runs[n].append(time_product(frames[n], params))

    loop: dict[int, float] = {}
    for n in sizes:
        if n <= args.loop_max:
            print(f"loop reference on {n:,} bars ...", flush=True)
            loop[n] = check_equal(frames[n], params)
    print(f"\nvectorised == loop reference on {', '.join(f'{n:,}' for n in loop)} bars (asserted)\n")
    fit = None
    if len(loop) >= 2:
        (n1, t1), (n2, t2) = sorted(loop.items())[0], sorted(loop.items())[-1]
        exponent = math.log(t2 / t1) / math.log(n2 / n1)
        fit = (n2, t2, exponent)

    levels = {n: len(run_model(frames[n], params).levels) for n in sizes}
    print(f"{'bars':>8} {'levels':>9} {'best ms':>9} {'median ms':>10} {'us/bar':>7} {'loop s':>9} {'speed-up':>9}")
    for n in sizes:
        best, median = min(runs[n]), statistics.median(runs[n])
        if n in loop:
            loop_s, mark = loop[n], ""
        elif fit:
            loop_s, mark = fit[1] * (n / fit[0]) ** fit[2], "~"
        else:
            loop_s, mark = math.nan, ""
        loop_cols = f"{mark}{loop_s:>8.1f} {mark}{loop_s / best:>8.0f}x" if loop_s == loop_s else f"{'n/a':>19}"
        print(f"{n:>8,} {levels[n]:>9,} {best * 1e3:>9.1f} {median * 1e3:>10.1f} {best / n * 1e6:>7.2f} {loop_cols}")
    if fit:
        print(f"\n~ = extrapolated: loop time ~ n^{fit[2]:.2f} fitted on the measured sizes")
    small, large = min(sizes), max(sizes)
    growth = min(runs[large]) / min(runs[small])
    print(f"growth {small:,} -> {large:,} bars: {growth:.1f}x time for {large / small:.0f}x bars")
    print("\nclusters_per_bar (confluence input, 500 bins, every bar up to 20,000 then a stride), best of 3:")
    for n in sizes:
        best = min(_timed(clusters_per_bar, frames[n], params) for _ in range(3))
        print(f"{n:>8,} bars {best * 1e3:>8.1f} ms")


def _timed(func, *args) -> float:
    start = time.perf_counter()
    func(*args)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
