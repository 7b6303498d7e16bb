"""Fixtures for the market adapters: a Binance replay server on 127.0.0.1 and a source pointed at it."""

from __future__ import annotations

import pytest

from tests.conftest import shared_data

from .replay_server import ReplayServer


@pytest.fixture(scope="session")
def _replay_session():
    data_dir = shared_data("binance-btcusdt", "klines-1h.csv").parent  # skips outside CI when absent
    with ReplayServer(data_dir=data_dir.resolve()) as server:
        yield server


@pytest.fixture
def binance_replay(_replay_session):
    """The replay server, with an empty request log, no scripted faults and ``now`` at the end of the data."""
    _replay_session.reset()
    yield _replay_session
    _replay_session.reset()


class FakeSleep:
    """Records the waits instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def fake_sleep():
    return FakeSleep()


@pytest.fixture
def make_binance(binance_replay, fake_sleep):
    """Build a BinanceSource against the replay server; its clock reads the server's ``now``."""
    from indicator_server.market.binance import BinanceSource

    sources = []

    def make(**overrides):
        options = {
            "clock": lambda: binance_replay.now_ms / 1000,
            "sleep": fake_sleep,
            "retries": 3,
            "backoff": 0.5,
            "max_backoff": 8.0,
            "read_timeout": 2.0,
        }
        options.update(overrides)
        source = BinanceSource(binance_replay.url, **options)
        sources.append(source)
        return source

    yield make
    for source in sources:
        source.close()

