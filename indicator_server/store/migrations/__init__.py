"""Alembic migrations of the store, run programmatically by ``Database.create_schema``.

``upgrade_to_head(engine)`` is safe when several gunicorn workers start at once: the upgrade runs under a lock
(a PostgreSQL advisory lock; a file lock beside a SQLite database), and a store already at head costs one
query. A database created by ``create_all`` before Alembic existed (market tables, no ``alembic_version``) is
stamped at the revision it matches, then upgraded, so no data is lost.
"""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

HERE = Path(__file__).resolve().parent
_PG_LOCK_KEY = 727_001_001  # arbitrary, constant: "indicator-server migrations"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@lru_cache(maxsize=1)
def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


@contextmanager
def _lock(engine: Engine):
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK_KEY})
            conn.commit()
            try:
                yield conn
            finally:
                conn.rollback()
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
                conn.commit()
        return
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        with engine.connect() as conn:
            yield conn
        return
    with open(os.path.abspath(database) + ".migrate.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            with engine.connect() as conn:
                yield conn
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _legacy_revision(connection) -> str | None:
    """The revision a pre-Alembic database (built by create_all) matches, or None for an empty database."""
    tables = set(inspect(connection).get_table_names())
    if "signals" in tables:
        return "0002"
    if "klines" in tables:
        return "0001"
    return None


def upgrade_to_head(engine: Engine) -> None:
    with engine.connect() as conn:
        if current_revision(conn) == head_revision():
            return
    with _lock(engine) as conn:
        current = current_revision(conn)
        conn.commit()
        if current == head_revision():
            return
        config = alembic_config()
        config.attributes["connection"] = conn
        if current is None:
            legacy = _legacy_revision(conn)
            conn.commit()
            if legacy is not None:
                command.stamp(config, legacy)
                conn.commit()
        command.upgrade(config, "head")
        conn.commit()
