"""Start the real server (gunicorn, N sync workers) on 127.0.0.1 for benchmarks and load tests, and stop it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server at {url} not ready after {timeout}s")


@contextmanager
def running_server(workers: int = 2, env: dict[str, str] | None = None, log_path: str | None = None,
                   access_log: bool = False):
    """Yield the base URL of a gunicorn server on 127.0.0.1 built from the factory, with its own SQLite file.

    ``access_log=True`` keeps gunicorn's access log in the server log, as ``make run`` writes it."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="indicator-bench-") as tmp:
        full_env = dict(os.environ)
        full_env.update({
            "DATABASE_URL": f"sqlite:///{tmp}/bench.db",
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "WEB_CONCURRENCY": str(workers),
            "LOG_LEVEL": "WARNING",
        })
        full_env.update(env or {})
        log = open(log_path or os.path.join(tmp, "server.log"), "wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:indicator_server.gunicorn_conf",
             *([] if access_log else ["--access-logfile", "/dev/null"]), "indicator_server:create_app()"],
            cwd=REPO, env=full_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_ready(base + "/healthz")
            yield base, proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()
