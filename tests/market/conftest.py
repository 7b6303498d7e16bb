"""Fixtures for the market adapters: a Binance replay server on 127.0.0.1 and a source pointed at it."""

from __future__ import annotations

import pandas as pd
import pytest

from indicator_server.store.db import Database
from indicator_server.store.market_repo import MarketRepository
from tests.conftest import shared_data

from .archive_files import DATA, _need_data
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



@pytest.fixture(scope="session")
def _imported_store(tmp_path_factory):
    """A SQLite store with the recorded BTCUSDT 1h klines and funding imported as ``indicator-server import`` does."""
    from indicator_server.market.archive import import_paths
    from indicator_server.store.db import Database
    from indicator_server.store.market_repo import MarketRepository

    data_dir = shared_data("binance-btcusdt", "klines-1h.csv").parent  # skips outside CI when absent
    path = tmp_path_factory.mktemp("imported") / "store.db"
    db = Database(f"sqlite:///{path}")
    db.create_schema()
    repo = MarketRepository(db)
    for name, timeframe in (("klines-1h.csv", "1h"), ("funding.csv", None)):
        report = import_paths(repo, [data_dir / name], symbol="BTCUSDT", timeframe=timeframe, progress=False)
        assert not [f.error for f in report.files if f.error]
    db.dispose()
    return path


@pytest.fixture
def imported_db_url(_imported_store, tmp_path):
    """The URL of a private copy of the imported store (tests may write to it)."""
    import shutil

    copy = tmp_path / "imported.db"
    shutil.copyfile(_imported_store, copy)
    return f"sqlite:///{copy}"


# --- the recorded BTCUSDT files and a fresh store, for the archive import tests -----------------------------

@pytest.fixture(scope="module")
def klines() -> pd.DataFrame:
    _need_data()
    return pd.read_csv(DATA / "klines-1h.csv")


@pytest.fixture(scope="module")
def funding() -> pd.DataFrame:
    _need_data()
    return pd.read_csv(DATA / "funding.csv")


@pytest.fixture
def repo(tmp_path) -> MarketRepository:
    db = Database(f"sqlite:///{tmp_path / 'store.db'}")
    db.create_schema()
    yield MarketRepository(db)
    db.dispose()

