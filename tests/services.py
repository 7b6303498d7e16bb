"""The real PostgreSQL and Redis of 127.0.0.1: tests that need them skip outside CI, and fail in CI.

One place decides reachability (``require_*``) and hands out throw-away PostgreSQL schemas
(``postgres_schema``), so every test of the multi-instance paths behaves the same way when a server is missing.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import IN_CI

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require(name: str, url: str) -> str:
    """``url`` when its server accepts connections; otherwise skip, or fail in CI."""
    parsed = make_url(url)
    host, port = parsed.host or "127.0.0.1", parsed.port
    if _reachable(host, port):
        return url
    if IN_CI:
        pytest.fail(f"{name} on {host}:{port} is not reachable; CI must test against it")
    pytest.skip(f"{name} on {host}:{port} is not reachable")


def require_postgres() -> str:
    return require("PostgreSQL", POSTGRES_URL)


def require_redis() -> str:
    return require("Redis", REDIS_URL)


@contextmanager
def postgres_schema(prefix: str) -> Iterator[str]:
    """A URL whose search_path is a fresh schema, dropped afterwards: tests see only their own tables."""
    engine = create_engine(require_postgres())
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
