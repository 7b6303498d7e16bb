"""Alembic migrations: they build exactly the models, stamp pre-Alembic stores without losing data, and survive
two workers starting at once."""

from __future__ import annotations

import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from indicator_server.store import signals  # noqa: F401 - joins Base.metadata
from indicator_server.store.db import Database
from indicator_server.store.migrations import current_revision, head_revision, upgrade_to_head
from indicator_server.store.models import Base


def _drift(engine) -> list:
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), Base.metadata)


def test_migrations_build_exactly_the_models(database_url):
    engine = create_engine(database_url)
    upgrade_to_head(engine)
    assert _drift(engine) == [], "a model changed without a migration: add one under store/migrations/versions"
    with engine.connect() as conn:
        assert current_revision(conn) == head_revision()
    engine.dispose()


def test_a_store_built_by_create_all_before_alembic_is_stamped_and_kept(tmp_path):
    url = f"sqlite:///{tmp_path / 'legacy.db'}"
    engine = create_engine(url)
    market_tables = [t for name, t in Base.metadata.tables.items() if name != "signals"]
    Base.metadata.create_all(engine, tables=market_tables)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO klines (exchange, symbol, timeframe, time, open, high, low, close, volume) "
                          "VALUES ('binance', 'BTCUSDT', '1h', 1, 1, 2, 0.5, 1.5, 10)"))
    engine.dispose()
    db = Database(url)
    db.create_schema()
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT close FROM klines")).scalar() == 1.5
        assert current_revision(conn) == head_revision()
        assert "signals" in inspect(conn).get_table_names()
    db.dispose()


def test_two_workers_starting_at_once_both_succeed(tmp_path):
    url = f"sqlite:///{tmp_path / 'race.db'}"
    code = ("import sys; from indicator_server.store.db import Database; d = Database(sys.argv[1]); "
            "d.create_schema(); d.create_schema()")
    procs = [subprocess.Popen([sys.executable, "-c", code, url], stderr=subprocess.PIPE) for _ in range(3)]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err.decode()[-2000:]
    engine = create_engine(url)
    assert _drift(engine) == []
    engine.dispose()


@pytest.mark.parametrize("revision", ["0001"])
def test_upgrade_from_an_older_revision_keeps_rows(tmp_path, revision):
    from alembic import command

    from indicator_server.store.migrations import alembic_config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), revision)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO funding (exchange, symbol, time, funding_rate) VALUES ('sim', 'X', 1, 0.1)"))
    upgrade_to_head(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT funding_rate FROM funding")).scalar() == 0.1
    engine.dispose()
