"""Loopback load generation: sequential latency sampling and wrk (or a threaded Python client) for throughput."""

from __future__ import annotations

import http.client
import re
import shutil
import statistics
import subprocess
import threading
import time
from urllib.parse import urlsplit


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def latencies(base: str, paths: list[str], headers: dict[str, str] | None = None) -> list[float]:
    """Milliseconds per request, one keep-alive connection, requests in order; asserts 200/304."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    out = []
    for path in paths:
        t0 = time.perf_counter()
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        response.read()
        out.append((time.perf_counter() - t0) * 1000)
        if response.status not in (200, 304):
            raise RuntimeError(f"GET {path} -> {response.status}")
    conn.close()
    return out


def throughput(base: str, path: str, seconds: float = 5.0, connections: int = 16) -> dict[str, float]:
    """Requests per second and latency percentiles under concurrent load; wrk when installed."""
    if shutil.which("wrk"):
        return _wrk(base + path, seconds, connections)
    return _threaded(base, path, seconds, connections)


def _wrk(url: str, seconds: float, connections: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{int(seconds)}s", "--latency", url],
        capture_output=True, text=True, check=True, timeout=seconds + 30,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def ms(label: str) -> float:
        match = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", out)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {"rps": rps, "p50_ms": ms("50"), "p99_ms": ms("99"), "errors": int(non2xx.group(1)) if non2xx else 0}


def _threaded(base: str, path: str, seconds: float, connections: int) -> dict[str, float]:
    stop = time.monotonic() + seconds
    samples: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def worker():
        parts = urlsplit(base)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        local = []
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            local.append((time.perf_counter() - t0) * 1000)
            if response.status >= 400:
                errors[0] += 1
        with lock:
            samples.extend(local)

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"rps": len(samples) / seconds, "p50_ms": percentile(samples, 50), "p99_ms": percentile(samples, 99),
            "errors": errors[0]}


def median(values: list[float]) -> float:
    return statistics.median(values)
