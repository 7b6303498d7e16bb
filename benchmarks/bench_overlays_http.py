"""Latency and throughput of the overlay endpoints on the real server (gunicorn, 2 sync workers, 127.0.0.1).

Prints p50/p99 latency of /api/v1/overlays/{oi-delta,confluence} cold (every request a cache miss: a different
bar range) and cached (the same request polled), for 500 and 5,000 bars, then requests per second of the cached
endpoint and of the trivial /healthz measured in interleaved rounds of the same run, and their ratio.

    python -m benchmarks.bench_overlays_http [--cold 20] [--cached 200] [--seconds 5] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import time

from benchmarks._load import latencies, median, percentile, throughput
from benchmarks._server import running_server

HOUR_MS = 3_600_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cold", type=int, default=20, help="cold requests per case")
    parser.add_argument("--cached", type=int, default=200, help="cached requests per case")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per throughput round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved throughput rounds")
    parser.add_argument("--exchange", default="sim")
    args = parser.parse_args()

    results = {"latency": [], "throughput": []}
    with running_server(workers=2) as (base, _proc):
        now = int(time.time() * 1000)
        last_closed = now - now % HOUR_MS - HOUR_MS
        print(f"server {base}, exchange={args.exchange}, timeframe=1h")
        print(f"{'endpoint':<12}{'bars':>6}  {'cold p50':>9} {'cold p99':>9}  {'cached p50':>10} {'cached p99':>10}")
        for endpoint in ("oi-delta", "confluence"):
            for bars in (500, 5000):
                query = f"/api/v1/overlays/{endpoint}?exchange={args.exchange}&symbol=BTCUSDT&timeframe=1h&limit={bars}"
                cold_paths = [f"{query}&end={last_closed - (k + 1) * 7 * HOUR_MS}" for k in range(args.cold)]
                cold = latencies(base, cold_paths)
                latencies(base, [query])  # fill the cache
                cached = latencies(base, [query] * args.cached)
                row = {"endpoint": endpoint, "bars": bars,
                       "cold_p50_ms": percentile(cold, 50), "cold_p99_ms": percentile(cold, 99),
                       "cached_p50_ms": percentile(cached, 50), "cached_p99_ms": percentile(cached, 99)}
                results["latency"].append(row)
                print(f"{endpoint:<12}{bars:>6}  {row['cold_p50_ms']:>8.1f}ms {row['cold_p99_ms']:>8.1f}ms"
                      f"  {row['cached_p50_ms']:>9.2f}ms {row['cached_p99_ms']:>9.2f}ms")

        cached_path = f"/api/v1/overlays/confluence?exchange={args.exchange}&symbol=BTCUSDT&timeframe=1h&limit=500"
        latencies(base, [cached_path])
        # A worker filled the cache above; the other may not have: warm both before measuring.
        throughput(base, cached_path, seconds=1, connections=4)
        trivial, cached = [], []
        for _ in range(args.rounds):
            trivial.append(throughput(base, "/healthz", args.seconds))
            cached.append(throughput(base, cached_path, args.seconds))
        t_rps = median([r["rps"] for r in trivial])
        c_rps = median([r["rps"] for r in cached])
        print()
        print("interleaved throughput, 16 connections, rounds:", args.rounds)
        for name, rows in (("/healthz", trivial), ("confluence 500 cached", cached)):
            print(f"  {name:<24} " + "  ".join(f"{r['rps']:.0f} req/s (p99 {r['p99_ms']:.1f} ms)" for r in rows))
        ratio = c_rps / t_rps
        print(f"  median: cached confluence {c_rps:.0f} req/s vs /healthz {t_rps:.0f} req/s -> ratio {ratio:.2f}")
        results["throughput"] = {"healthz_rps": t_rps, "cached_confluence_rps": c_rps, "ratio": c_rps / t_rps,
                                 "rounds": {"healthz": trivial, "cached": cached}}
    print(json.dumps(results, default=float))


if __name__ == "__main__":
    main()
