"""A small run of benchmarks/load_webhooks.py: gunicorn with 2 workers on 127.0.0.1, 500 alerts (5% resends,
5% invalid), a worker SIGKILLed three times mid-run. Asserts correctness only (figures are the benchmark's job)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from benchmarks.load_webhooks import run


def _check(report):
    assert report["problems"] == [], report["problems"][:10]
    assert report["status_5xx"] == 0
    assert len(report["killed_worker"]) == 3
    # an alert committed by the killed worker before it could reply is stored without an ack, and only then
    assert report["acked_logical_alerts"] <= report["rows"] <= report["acked_logical_alerts"] + report[
        "broken_connections"]
    assert report["acked_logical_alerts"] > 400
    assert report["rejected_4xx"] >= 10
    assert report["healthz_failures"] == 0


@pytest.mark.slow
def test_small_load_sqlite_with_a_killed_worker():
    _check(run(alerts=500, workers=2, concurrency=8, kill=True, kills=3, context=True, max_seconds=120,
               quiet=True, drain_seconds=0))


@pytest.mark.slow
@pytest.mark.postgres
def test_small_load_postgres_with_a_killed_worker(pg_schema):
    engine = create_engine(pg_schema)  # the session's schema: clear what earlier tests stored
    with engine.begin() as conn:
        if conn.execute(text("SELECT to_regclass('signals')")).scalar():
            conn.execute(text("TRUNCATE signals RESTART IDENTITY"))
    engine.dispose()
    report = run(alerts=500, workers=2, concurrency=8, kill=True, kills=3, context=True, max_seconds=120,
                 quiet=True, database_url=pg_schema, drain_seconds=0)
    _check(report)
    assert report["database"] == "postgresql+psycopg"
