"""Timings of the simulated exchange ``sim``: 5,000 bars of each timeframe (klines, open interest, long/short ratio,
which include the 14-day trader warm-up), cold (all caches dropped) and warm (identical repeat), plus the ground
truth calls. Rounds are interleaved across timeframes because these machines' CPU speed swings ~2x within minutes;
compare ratios, not single figures.

    .venv/bin/python benchmarks/bench_sim.py [rounds]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from indicator_server.market.sim import SimSource  # noqa: E402
from indicator_server.market.sim.source import clear_caches  # noqa: E402
from indicator_server.timeframes import TIMEFRAMES  # noqa: E402

NOW_S = 1_763_000_123.0
BARS = 5_000


def _series(src: SimSource, tf: str) -> int:
    end = int(NOW_S * 1000)
    start = end - BARS * TIMEFRAMES[tf]
    k = src.fetch_klines("BTCUSDT", tf, start, end).frame
    src.fetch_open_interest("BTCUSDT", tf, start, end)
    src.fetch_long_short_ratio("BTCUSDT", tf, start, end)
    return len(k)


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main(rounds: int = 3) -> None:
    src = SimSource(clock=lambda: NOW_S)
    cold: dict[str, list[float]] = {tf: [] for tf in TIMEFRAMES}
    warm: dict[str, list[float]] = {tf: [] for tf in TIMEFRAMES}
    bars: dict[str, int] = {}
    for _ in range(rounds):
        for tf in TIMEFRAMES:
            clear_caches()
            cold[tf].append(_timed(lambda tf=tf: bars.__setitem__(tf, _series(src, tf))))
            warm[tf].append(_timed(lambda tf=tf: _series(src, tf)))
    print(f"5,000 bars of BTCUSDT (klines + open interest + long/short), median of {rounds} interleaved rounds")
    print(f"{'tf':>4} {'bars':>6} {'cold ms':>9} {'warm ms':>9} {'cold/warm':>10}")
    for tf in TIMEFRAMES:
        c, w = statistics.median(cold[tf]), statistics.median(warm[tf])
        print(f"{tf:>4} {bars[tf]:>6} {c * 1000:>9.1f} {w * 1000:>9.2f} {c / w:>10.0f}")

    end = int(NOW_S * 1000)
    edges = np.linspace(40_000, 140_000, 501)
    for tf in ("1m", "1h", "4h"):
        clear_caches()
        start = end - BARS * TIMEFRAMES[tf]
        t_pos = _timed(lambda tf=tf, start=start: src.positions("BTCUSDT", tf, start, end))
        t_liq = _timed(lambda tf=tf, start=start: src.true_liquidations("BTCUSDT", tf, start, end))
        t_map = _timed(lambda tf=tf: src.true_liquidation_map("BTCUSDT", tf, end - 2 * TIMEFRAMES[tf], edges))
        rows = len(src.positions("BTCUSDT", tf, start, end))
        print(f"ground truth {tf}: positions {t_pos * 1000:.0f} ms ({rows} cohorts), true_liquidations "
              f"{t_liq * 1000:.0f} ms, true_liquidation_map (500 bins) {t_map * 1000:.0f} ms (cold)")
    clear_caches()
    t = _timed(lambda: src.fetch_funding("BTCUSDT", end - 365 * 86_400_000, end))
    print(f"funding, one year of 8-hourly events (1h cohorts): {t * 1000:.0f} ms cold")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
