"""Load test of the TradingView webhook receiver: gunicorn (N sync workers) on 127.0.0.1, a threaded client.

Sends ``--alerts`` alerts (5% exact resends of earlier alerts, 5% invalid: malformed JSON, wrong or missing
secret, wrong types, unknown ticker, oversize), interleaved with bursts of GET /healthz (the trivial endpoint,
measured in the same run: H A H A ...), SIGKILLs one worker in the middle of the run (gunicorn starts another),
resends once any request whose connection broke (as TradingView does), then checks the database:

- every alert acknowledged with a 2xx is stored exactly once, under the id the reply gave;
- every invalid alert got a 4xx and nothing of it is stored; no request got a 5xx.

Prints acknowledgements per second, p50/p99 latency, the same for /healthz and the ratio. Bounded: at most
``--alerts`` requests and ``--max-seconds`` of sending. Run: ``.venv/bin/python -m benchmarks.load_webhooks``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SECRET = "load-test-secret"
SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT")


@dataclass
class Item:
    key: str  # the logical alert ("load-17"); resends share it
    body: bytes
    valid: bool
    content_type: str = "application/json"
    statuses: list[int] = field(default_factory=list)
    replies: list[dict] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)


def _alert(i: int, rng: random.Random) -> dict:
    body = {"secret": SECRET, "ticker": rng.choice(SYMBOLS) + ".P", "exchange": "sim",
            "interval": rng.choice(["60", "15", "240"]), "action": rng.choice(["buy", "sell", "long", "close"]),
            "price": round(rng.uniform(100, 70000), 2), "time": "2026-06-01T11:00:00Z",
            "timenow": "2026-06-01T12:00:03Z", "message": f"load-{i}"}
    if i % 2:
        body["id"] = f"load-{i}"  # half deduplicate by id, half by body hash
    return body


def _invalid(i: int, rng: random.Random) -> tuple[bytes, str]:
    base = _alert(i, rng)
    kind = i % 6
    if kind == 0:
        return json.dumps(base).encode()[:-7], "application/json"  # malformed JSON
    if kind == 1:
        base["secret"] = "wrong"
    elif kind == 2:
        del base["secret"]
    elif kind == 3:
        base["price"] = "not a number"
    elif kind == 4:
        base["ticker"] = "NOSUCHCOIN"
    else:
        base["padding"] = "x" * 70_000
    return json.dumps(base).encode(), "application/json"


def build_items(n: int, dup_share: float, invalid_share: float, seed: int = 7) -> list[Item]:
    rng = random.Random(seed)
    items: list[Item] = []
    sent: list[Item] = []
    for i in range(n):
        roll = rng.random()
        if roll < invalid_share:
            body, ctype = _invalid(i, rng)
            items.append(Item(f"load-{i}", body, valid=False, content_type=ctype))
        elif roll < invalid_share + dup_share and sent:
            original = rng.choice(sent[-500:])  # a resend within seconds, as TradingView or a double-fire does
            items.append(Item(original.key, original.body, valid=True))
        else:
            item = Item(f"load-{i}", json.dumps(_alert(i, rng)).encode(), valid=True,
                        content_type=rng.choice(["application/json", "text/plain"]))
            items.append(item)
            sent.append(item)
    return items


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(workers: int, database_url: str, context: bool, log_path: str):
    port = _free_port()
    env = dict(os.environ, DATABASE_URL=database_url, WEBHOOK_SECRET=SECRET, WEBHOOK_RATE_LIMIT="0",
               EXCHANGES="sim", DEFAULT_EXCHANGE="sim", LOG_LEVEL="WARNING", CONTEXT_WORKER=str(context).lower(),
               PORT=str(port), HOST="127.0.0.1", WEB_CONCURRENCY=str(workers))
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:indicator_server.gunicorn_conf", "--access-logfile",
         "/dev/null", "--backlog", "2048", "indicator_server:create_app()"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                if response.status == 200 and len(worker_pids(proc.pid)) >= workers:
                    return proc, port, log
        except OSError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited; see {log_path}")
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"gunicorn not ready; see {log_path}")


def worker_pids(master: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                pids.append(int(entry))
    return sorted(pids)


def _request(port: int, method: str, path: str, body: bytes | None, ctype: str | None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        headers = {"Content-Type": ctype} if ctype else {}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def run_phase(port: int, jobs: list, concurrency: int, deadline: float, on_done=None) -> float:
    """Send jobs (callables taking the port) from ``concurrency`` threads; returns the wall time."""
    cursor = iter(range(len(jobs)))
    lock = threading.Lock()

    def loop():
        while time.monotonic() < deadline:
            with lock:
                index = next(cursor, None)
            if index is None:
                return
            jobs[index](port)
            if on_done:
                on_done()

    threads = [threading.Thread(target=loop) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start


def _alert_job(item: Item):
    def job(port):
        for attempt in range(2):  # one resend after a broken connection, as TradingView resends
            started = time.perf_counter()
            try:
                status, body = _request(port, "POST", "/webhook/tradingview", item.body, item.content_type)
            except (OSError, http.client.HTTPException):
                item.statuses.append(0)
                time.sleep(0.05)
                continue
            item.latencies.append(time.perf_counter() - started)
            item.statuses.append(status)
            if 200 <= status < 300:
                item.replies.append(json.loads(body))
            if status != 0 or attempt:
                return
    return job


def _health_job(latencies: list, failures: list):
    def job(port):
        started = time.perf_counter()
        try:
            status, _ = _request(port, "GET", "/healthz", None, None)
        except (OSError, http.client.HTTPException):
            failures.append(1)
            return
        if status == 200:
            latencies.append(time.perf_counter() - started)
        else:
            failures.append(status)
    return job


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def verify(database_url: str, items: list[Item]) -> dict:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, message, deliveries, context_status FROM signals")).all()
    engine.dispose()
    by_key: dict[str, list] = {}
    for row in rows:
        by_key.setdefault(row.message, []).append(row)
    problems: list[str] = []
    logical: dict[str, list[Item]] = {}
    for item in items:
        logical.setdefault(item.key, []).append(item)
        if any(s >= 500 for s in item.statuses):
            problems.append(f"{item.key}: 5xx {item.statuses}")
    acked_alerts = 0
    for key, group in logical.items():
        stored = by_key.get(key, [])
        if not group[0].valid:
            if stored or any(200 <= s < 300 for it in group for s in it.statuses):
                problems.append(f"{key}: invalid alert acknowledged or stored")
            continue
        replies = [r for it in group for r in it.replies]
        if replies:
            acked_alerts += 1
            if len(stored) != 1:
                problems.append(f"{key}: acknowledged but stored {len(stored)} times")
            elif {r["id"] for r in replies} != {stored[0].id}:
                problems.append(f"{key}: reply ids {sorted({r['id'] for r in replies})} != stored {stored[0].id}")
            elif stored[0].deliveries < len(replies):
                problems.append(f"{key}: {len(replies)} acks but deliveries={stored[0].deliveries}")
        elif len(stored) > 1:
            problems.append(f"{key}: stored {len(stored)} times")
    statuses = [row.context_status for row in rows]
    return {"rows": len(rows), "acked_logical_alerts": acked_alerts, "problems": problems,
            "context": {s: statuses.count(s) for s in sorted(set(statuses))}}


def run(alerts: int = 20_000, workers: int = 2, concurrency: int = 16, chunks: int = 4, health_share: float = 0.5,
        kill: bool = True, context: bool = True, database_url: str | None = None, max_seconds: float = 600,
        dup_share: float = 0.05, invalid_share: float = 0.05, seed: int = 7, quiet: bool = False,
        drain_seconds: float = 90, kills: int = 1) -> dict:
    tmp = tempfile.mkdtemp(prefix="load-webhooks-")
    database_url = database_url or f"sqlite:///{tmp}/load.db"
    items = build_items(alerts, dup_share, invalid_share, seed)
    proc, port, log = start_server(workers, database_url, context, os.path.join(tmp, "server.log"))
    deadline = time.monotonic() + max_seconds
    health_lat: list[float] = []
    health_fail: list = []
    alert_time = health_time = 0.0
    killed: list[int] = []
    done = [0]
    done_lock = threading.Lock()
    # SIGKILLs spread evenly over the run (one, by default, halfway); with several, some land on a request in
    # flight, between the commit and the reply: the resend must then find the stored alert, not store another.
    kill_points = [alerts * (k + 1) // (kills + 1) for k in range(kills)] if kill else []

    def maybe_kill():
        with done_lock:
            done[0] += 1
            trigger = len(killed) < len(kill_points) and done[0] >= kill_points[len(killed)]
            if trigger:
                victims = worker_pids(proc.pid)
                if victims:
                    victim = victims[len(killed) % len(victims)]
                    os.kill(victim, signal.SIGKILL)
                    killed.append(victim)

    try:
        per_chunk = -(-alerts // chunks)
        for c in range(chunks):
            health_jobs = [_health_job(health_lat, health_fail) for _ in range(int(per_chunk * health_share))]
            health_time += run_phase(port, health_jobs, concurrency, deadline)
            chunk = items[c * per_chunk:(c + 1) * per_chunk]
            alert_time += run_phase(port, [_alert_job(it) for it in chunk], concurrency, deadline, maybe_kill)
        waited = 0.0
        if context and drain_seconds:  # let the filler drain (bounded), to report how far behind it was
            from sqlalchemy import create_engine, text

            engine = create_engine(database_url)
            started = time.monotonic()
            while time.monotonic() - started < drain_seconds:
                with engine.connect() as conn:
                    pending = conn.execute(text("SELECT count(*) FROM signals WHERE context_status='pending'"))
                    if pending.scalar() == 0:
                        break
                time.sleep(0.5)
            waited = time.monotonic() - started
            engine.dispose()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
    check = verify(database_url, items)
    statuses = [s for it in items for s in it.statuses]
    acks = sum(1 for s in statuses if 200 <= s < 300)
    ack_lat = [lat for it in items for lat, s in zip(it.latencies, [s for s in it.statuses if s], strict=False)
               if 200 <= s < 300]
    report = {
        "alerts": alerts, "workers": workers, "concurrency": concurrency, "database": database_url.split(":")[0],
        "context_worker": context, "killed_worker": killed,
        "requests": len(statuses), "acks": acks,
        "rejected_4xx": sum(1 for s in statuses if 400 <= s < 500),
        "status_5xx": sum(1 for s in statuses if s >= 500),
        "broken_connections": statuses.count(0),
        "ack_per_s": acks / alert_time if alert_time else float("nan"),
        "alert_req_per_s": sum(1 for s in statuses if s) / alert_time if alert_time else float("nan"),
        "ack_p50_ms": _percentile(ack_lat, 0.5) * 1000, "ack_p99_ms": _percentile(ack_lat, 0.99) * 1000,
        "healthz_per_s": len(health_lat) / health_time if health_time else float("nan"),
        "healthz_p50_ms": _percentile(health_lat, 0.5) * 1000, "healthz_p99_ms": _percentile(health_lat, 0.99) * 1000,
        "healthz_failures": len(health_fail),
        "context_drain_s": round(waited, 1),
        **check,
    }
    report["ratio_to_healthz"] = report["alert_req_per_s"] / report["healthz_per_s"]
    if not quiet:
        _print(report)
    return report


def _print(report: dict) -> None:
    problems = report.pop("problems")
    for key, value in report.items():
        print(f"{key:>24}: {round(value, 2) if isinstance(value, float) else value}")
    print(f"{'problems':>24}: {len(problems)}")
    for line in problems[:20]:
        print("   ", line)
    report["problems"] = problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alerts", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--no-kill", action="store_true")
    parser.add_argument("--kills", type=int, default=1, help="SIGKILLs spread over the run (default 1)")
    parser.add_argument("--no-context", action="store_true", help="CONTEXT_WORKER=false")
    parser.add_argument("--database-url", help="e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test "
                                               "(default: a fresh SQLite file)")
    parser.add_argument("--max-seconds", type=float, default=600)
    args = parser.parse_args(argv)
    report = run(args.alerts, args.workers, args.concurrency, kill=not args.no_kill, context=not args.no_context,
                 database_url=args.database_url, max_seconds=args.max_seconds, kills=args.kills)
    return 1 if report["problems"] or report["status_5xx"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
