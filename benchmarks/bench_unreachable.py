"""Latency with Binance unreachable (a closed port) and answers of BINANCE_OFFLINE, on gunicorn with 2 workers.

Usage: .venv/bin/python -m benchmarks.bench_unreachable   (needs ../shared/data beside the checkout)
"""
import json
import socket
import statistics
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from benchmarks._server import running_server
from indicator_server.market.archive import import_paths
from indicator_server.store.db import Database
from indicator_server.store.market_repo import MarketRepository

DATA = str(Path(__file__).resolve().parents[2] / "shared" / "data" / "binance-btcusdt") + "/"

def get(url):
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            body, status = json.loads(r.read()), r.status
    except urllib.error.HTTPError as e:
        body, status = json.loads(e.read()), e.code
    return status, body, (time.perf_counter() - t) * 1000

def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

with tempfile.TemporaryDirectory() as tmp:
    db = Database(f"sqlite:///{tmp}/store.db")
    db.create_schema()
    repo = MarketRepository(db)
    import_paths(repo, [DATA + "klines-1h.csv"], symbol="BTCUSDT", timeframe="1h", progress=False)
    import_paths(repo, [DATA + "funding.csv"], symbol="BTCUSDT", progress=False)
    db.dispose()
    env = {"DATABASE_URL": f"sqlite:///{tmp}/store.db", "BINANCE_BASE_URL": f"http://127.0.0.1:{closed_port()}",
           "CONTEXT_WORKER": "false"}
    with running_server(env=env) as (base, _):
        ov = base + "/api/v1/overlays/oi-delta?exchange=binance&symbol=BTCUSDT"
        times = []
        for day in range(1, 13):
            status, body, ms = get(f"{ov}&timeframe=1h&start=2025-03-{day:02d}&limit=100")
            times.append(ms)
        print(f"stored 1h range, Binance unreachable, 12 uncached calls: status {status}, bars {body['meta']['bars']}, "
              f"median {statistics.median(times):.0f} ms, max {max(times):.0f} ms")
        times = []
        for day in range(1, 7):
            status, body, ms = get(f"{ov}&timeframe=4h&start=2025-04-{day:02d}&limit=100")
            times.append(ms)
        print(f"stored 4h range (1h stored only), 6 uncached calls: status {status}, bars {body['meta'].get('bars')}, "
              f"median {statistics.median(times):.0f} ms, max {max(times):.0f} ms")
        for n in range(4):
            status, body, ms = get(f"{ov}&timeframe=1h&limit={100 + n}")
            print(f"default (live) range #{n + 1}: status {status}, {ms:.0f} ms, "
                  f"{(body.get('error') or {}).get('message', '')[:110]}")
    env["BINANCE_OFFLINE"] = "true"
    with running_server(env=env) as (base, _):
        ov = base + "/api/v1/overlays/oi-delta?exchange=binance&symbol=BTCUSDT"
        for tf in ("1h", "4h", "1d", "15m"):
            status, body, ms = get(f"{ov}&timeframe={tf}&limit=100")
            meta = body.get("meta", {})
            print(f"OFFLINE default {tf}: status {status}, bars {meta.get('bars')}, end {meta.get('end')}, "
                  f"stale {meta.get('freshness', {}).get('stale')}, {ms:.0f} ms")
            for w in meta.get("warnings", []):
                print("    warning:", w)
