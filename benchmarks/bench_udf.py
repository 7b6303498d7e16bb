"""UDF /history latency on the real server (gunicorn, 2 workers, sim exchange): cold (cache miss) and cached, per
series, for 300 and 5000 bars of 1h; and a full backwards paging of 1h candles as the Charting Library does it.
Prints figures; asserts nothing about time."""

from __future__ import annotations

import json
import statistics
import time
import urllib.request

from benchmarks._server import running_server

SERIES = ["", ":OI_DELTA", ":CONFLUENCE", ":RSI", ":FUNDING", ":LIQ_LONG", ":LIQ_SHORT"]


def get(base, path):
    t0 = time.perf_counter()
    with urllib.request.urlopen(base + path, timeout=120) as response:
        body = response.read()
        cache = response.headers.get("X-Cache")
    return time.perf_counter() - t0, body, cache


def main() -> None:
    with running_server(workers=2, env={"EXCHANGES": "sim", "MARKET_CACHE_SECONDS": "0"}) as (base, _):
        now = int(get(base, "/udf/time")[1])
        print(f"{'symbol':28} {'bars':>5} {'cold ms':>8} {'cached ms (median of 20)':>26}")
        for bars in (300, 5000):
            for i, series in enumerate(SERIES):
                symbol = ("SIM:BTCUSDT", "SIM:ETHUSDT")[bars == 5000] + series
                to = now - 3600 * (7 + i)  # a page nobody asked before: a cold miss
                path = f"/udf/history?symbol={symbol}&resolution=60&to={to}&countback={bars}"
                cold, body, state = get(base, path)
                assert json.loads(body)["s"] == "ok" and state == "miss", (path, state)
                warm = [get(base, path)[0] for _ in range(20)]
                print(f"{symbol:28} {bars:>5} {cold * 1000:8.1f} {statistics.median(warm) * 1000:26.2f}")
        t0, to, pages, bars = time.perf_counter(), now, 0, 0
        while True:
            page = json.loads(get(base, f"/udf/history?symbol=SIM:SOLUSDT&resolution=60&to={to}&countback=2000")[1])
            pages += 1
            if page["s"] != "ok":
                break
            bars += len(page["t"])
            to = page["t"][0]
        print(f"paging SIM:SOLUSDT 1h back to 2024-01-01: {bars} bars in {pages} requests, "
              f"{time.perf_counter() - t0:.2f} s")


if __name__ == "__main__":
    main()
