"""The market store on SQLite and on the real PostgreSQL: idempotent upserts, ranges, newest-first limits."""

from __future__ import annotations

import uuid

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from indicator_server.market.base import KLINE_COLUMNS, OPEN_INTEREST_COLUMNS
from indicator_server.store.db import Database
from indicator_server.store.market_repo import MarketRepository
from tests.services import require_postgres


@pytest.fixture(params=["sqlite", "postgresql"])
def repo(request, tmp_path):
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'store.db'}")
        db.create_schema()
        yield MarketRepository(db), "binance"
    else:
        db = Database(require_postgres())
        db.create_schema()
        exchange = f"test-{uuid.uuid4().hex[:12]}"  # rows of this test only, removed afterwards
        yield MarketRepository(db), exchange
        with db.begin() as session:
            for table in ("klines", "open_interest", "funding", "long_short_ratio"):
                session.execute(text(f"DELETE FROM {table} WHERE exchange = :e"), {"e": exchange})
    db.dispose()


def klines(n: int, start: int = 1_700_000_000_000) -> pd.DataFrame:
    times = start + np.arange(n, dtype="int64") * 3_600_000
    close = 100 + np.arange(n, dtype="float64")
    return pd.DataFrame(
        {
            "time": times,
            "open": close - 1,
            "high": close + 2,
            "low": close - 2,
            "close": close,
            "volume": np.full(n, 10.0),
            "quote_volume": close * 10,
            "taker_buy_volume": np.full(n, 6.0),
            "taker_buy_quote_volume": close * 6,
            "trades": np.full(n, np.nan),
        }
    )


def test_upsert_is_idempotent_and_newer_values_win(repo):
    repo, exchange = repo
    frame = klines(2500)
    assert repo.save("klines", exchange, "BTCUSDT", frame, timeframe="1h") == 2500
    repo.save("klines", exchange, "BTCUSDT", frame, timeframe="1h")
    assert repo.span("klines", exchange, "BTCUSDT", "1h")[2] == 2500
    changed = frame.iloc[-1:].copy()
    changed["close"] = 1.5
    repo.save("klines", exchange, "BTCUSDT", changed, timeframe="1h")
    loaded = repo.load("klines", exchange, "BTCUSDT", timeframe="1h")
    assert list(loaded.columns) == KLINE_COLUMNS and len(loaded) == 2500
    assert loaded["close"].iloc[-1] == 1.5 and np.isnan(loaded["trades"]).all()
    pd.testing.assert_frame_equal(loaded.iloc[:-1], frame.iloc[:-1].astype(loaded.dtypes.to_dict()))


def test_ranges_and_newest_limit(repo):
    repo, exchange = repo
    frame = klines(100)
    repo.save("klines", exchange, "ETHUSDT", frame, timeframe="4h")
    t = frame["time"]
    part = repo.load("klines", exchange, "ETHUSDT", int(t[10]), int(t[19]), timeframe="4h")
    assert part["time"].tolist() == t[10:20].tolist()
    newest = repo.load("klines", exchange, "ETHUSDT", timeframe="4h", limit=5)
    assert newest["time"].tolist() == t[-5:].tolist()  # newest five, returned oldest first
    assert repo.load("klines", exchange, "ETHUSDT", timeframe="1h").empty
    assert "ETHUSDT" in repo.symbols(exchange)


def test_samples_keyed_by_time_only(repo):
    repo, exchange = repo
    oi = pd.DataFrame(
        {"time": [1, 2, 3], "open_interest": [10.0, 11.0, np.nan], "open_interest_usd": [1e6, 1.1e6, 1e6]}
    )
    repo.save("open_interest", exchange, "BTCUSDT", oi)
    repo.save("open_interest", exchange, "BTCUSDT", oi)
    loaded = repo.load("open_interest", exchange, "BTCUSDT")
    assert list(loaded.columns) == OPEN_INTEREST_COLUMNS and len(loaded) == 3
    assert np.isnan(loaded["open_interest"].iloc[2])
