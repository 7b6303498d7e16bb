"""Reachability of the real PostgreSQL and Redis: tests that need them skip outside CI, and fail in CI."""

from __future__ import annotations

import socket

import pytest

from tests.conftest import IN_CI

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/15"


def _reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def require(name: str, port: int) -> None:
    if _reachable(port):
        return
    if IN_CI:
        pytest.fail(f"{name} on 127.0.0.1:{port} is not reachable; CI must test against it")
    pytest.skip(f"{name} on 127.0.0.1:{port} is not reachable")


def require_postgres() -> str:
    require("PostgreSQL", 5432)
    return POSTGRES_URL


def require_redis() -> str:
    require("Redis", 6379)
    return REDIS_URL
