"""Shared fixtures: the app built from the factory on a temporary SQLite store with a frozen clock."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from indicator_server import create_app
from indicator_server.config import Settings

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
IN_CI = os.environ.get("CI", "").lower() == "true"

# 2026-06-01T12:34:56Z: a frozen "now" so closed bars and caches are deterministic.
FROZEN_NOW = 1780317296.0


def shared_data(*parts: str) -> Path:
    """A file of ../shared/data; skip (outside CI) when the folder is not beside the checkout."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        if IN_CI:
            raise FileNotFoundError(f"{path} is missing; CI must have ../shared beside the checkout")
        pytest.skip(f"{path} not available (../shared/data is not beside this checkout)")
    return path


class Clock:
    def __init__(self, now: float = FROZEN_NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'test.db'}",
        context_workers=False,
        market_cache_seconds=0,
    )


@pytest.fixture
def app(settings, clock):
    app = create_app(settings, clock=clock)
    app.config["TESTING"] = True
    yield app
    app.extensions["indicator"].db.dispose()


@pytest.fixture
def client(app):
    return app.test_client()
