"""Import throughput of Binance archive files (``indicator-server import``) on SQLite and PostgreSQL.

Runs SQLite and PostgreSQL interleaved (A B A B: this machine's CPU speed swings) over the 13,848 real BTCUSDT
1h klines written as a Binance archive zip, a fresh import then a re-import (all upserts) each round, and
prints rows/s and the PostgreSQL/SQLite ratio. ``--year-1m`` also imports a synthetic year of 1m klines
(525,600 rows) into SQLite and prints the peak memory growth, to show the chunked reader keeps it bounded.

    python -m benchmarks.bench_import [--rounds 3] [--year-1m]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import create_engine, text

from indicator_server.market.archive import import_paths
from indicator_server.store.db import Database
from indicator_server.store.market_repo import MarketRepository

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "binance-btcusdt"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
HEADER = "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume," \
         "taker_buy_quote_volume,ignore"


def write_zip(path: Path, frame: pd.DataFrame) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(path.stem + ".csv", frame.to_csv(index=False, header=HEADER.split(",")))
    return path


def synthetic_minutes(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    start = 1735689600000
    close = 94_000 * np.exp(np.cumsum(rng.normal(0, 6e-4, rows)))
    open_ = np.concatenate([[94_000.0], close[:-1]])
    spread = np.abs(rng.normal(0, 3e-4, rows)) * close
    volume = rng.gamma(2.0, 40.0, rows)
    times = start + 60_000 * np.arange(rows, dtype="int64")
    return pd.DataFrame({
        "open_time": times, "open": open_, "high": np.maximum(open_, close) + spread,
        "low": np.minimum(open_, close) - spread, "close": close, "volume": volume, "close_time": times + 59_999,
        "quote_volume": volume * close, "count": rng.integers(100, 5_000, rows),
        "taker_buy_volume": volume / 2, "taker_buy_quote_volume": volume * close / 2, "ignore": 0,
    })


def timed_import(url: str, path: Path, symbol: str) -> tuple[float, float]:
    db = Database(url)
    db.create_schema()
    repo = MarketRepository(db)
    rates = []
    for _ in range(2):  # fresh, then the same file again (every row an upsert of an existing key)
        started = time.perf_counter()
        report = import_paths(repo, [path], symbol=symbol, progress=False)
        elapsed = time.perf_counter() - started
        assert report.ok, report.errors
        rates.append(report.rows_written["klines"] / elapsed)
    assert repo.span("klines", "binance", symbol, "1h")[2] == 13_848
    db.dispose()
    return rates[0], rates[1]


def pg_schema_url() -> tuple[str, callable]:
    engine = create_engine(PG_URL)
    schema = f"bench_import_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()

    return f"{PG_URL}?options=-csearch_path%3D{schema}", drop


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM; ru_maxrss would carry the parent's peak across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def import_year(path: str, url: str) -> None:
    db = Database(url)
    db.create_schema()
    before = peak_rss_mb()
    started = time.perf_counter()
    report = import_paths(MarketRepository(db), [path], symbol="BTCUSDT", timeframe="1m", progress=False)
    elapsed = time.perf_counter() - started
    after = peak_rss_mb()
    rows = report.rows_written["klines"]
    print(f"  1m year: {rows:,} rows in {elapsed:.1f}s ({rows / elapsed:,.0f} rows/s); peak RSS "
          f"{before:.0f} MB before, {after:.0f} MB after the import")
    db.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--year-1m", action="store_true")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import_year(*args.child)
        return 0
    source = pd.read_csv(DATA / "klines-1h.csv")
    with tempfile.TemporaryDirectory() as tmp:
        path = write_zip(Path(tmp) / "BTCUSDT-1h-2025-01.zip", source)
        pg_url, drop = pg_schema_url()
        results: dict[str, list[tuple[float, float]]] = {"sqlite": [], "postgresql": []}
        try:
            for n in range(args.rounds):
                symbol = f"BENCH{n}USDT"
                results["sqlite"].append(timed_import(f"sqlite:///{tmp}/bench-{n}.db", path, symbol))
                results["postgresql"].append(timed_import(pg_url, path, symbol))
        finally:
            drop()
        print(f"13,848 1h klines, {args.rounds} interleaved rounds (median rows/s)")
        medians = {}
        for name, runs in results.items():
            fresh = statistics.median(r[0] for r in runs)
            again = statistics.median(r[1] for r in runs)
            medians[name] = fresh
            print(f"  {name:<10} fresh {fresh:>9,.0f} rows/s   re-import {again:>9,.0f} rows/s")
        print(f"  postgresql / sqlite (fresh): {medians['postgresql'] / medians['sqlite']:.2f}x")
        if args.year_1m:
            year = write_zip(Path(tmp) / "BTCUSDT-1m-2025.zip", synthetic_minutes(525_600))
            # A fresh process, so its peak RSS is the import's, not this process's (which built the file).
            out = subprocess.run([sys.executable, "-m", "benchmarks.bench_import", "--child", str(year),
                                  f"sqlite:///{tmp}/year.db"], check=True, capture_output=True, text=True)
            print(out.stdout, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
