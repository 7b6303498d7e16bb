"""Fixtures of the webhook and signal-log tests: the app on SQLite and on the real PostgreSQL of 127.0.0.1."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from indicator_server import create_app
from indicator_server.config import Settings
from tests.conftest import Clock, shared_data
from tests.fakes import FakeSource, load_binance_1h
from tests.services import postgres_schema

SECRET = "tv-secret-0123456789"
OLD_SECRET = "tv-old-secret"


def build_app(settings: Settings, clock, sources=None):
    app = create_app(settings, clock=clock, sources=sources)
    app.config["TESTING"] = True
    return app


def close_app(app) -> None:
    app.extensions["indicator"].extras["webhooks"].close()
    app.extensions["indicator"].db.dispose()


@pytest.fixture(scope="session")
def pg_schema():
    """A fresh schema on the local PostgreSQL for this session (skipped outside CI when unreachable)."""
    with postgres_schema("wh") as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'signals.db'}"
    url = request.getfixturevalue("pg_schema")
    engine = create_engine(url)
    with engine.begin() as conn:
        for table in ("signals", "klines", "open_interest", "funding", "long_short_ratio"):
            if conn.execute(text("SELECT to_regclass(:t)"), {"t": table}).scalar():
                conn.execute(text(f"TRUNCATE {table} RESTART IDENTITY"))
    engine.dispose()
    return url


@pytest.fixture
def wh_settings(database_url) -> Settings:
    return Settings(
        database_url=database_url,
        context_workers=False,
        market_cache_seconds=0,
        webhook_secrets=(SECRET, OLD_SECRET),
        webhook_rate_limit=0,
    )


@pytest.fixture
def wh_clock() -> Clock:
    return Clock()


@pytest.fixture
def fake_binance():
    return FakeSource(load_binance_1h(shared_data("binance-btcusdt", "klines-1h.csv")))


class StubBinance:
    """Knows which symbols exist and nothing else: the receiver tests never need market data."""

    name = "binance"
    has = {"klines": True, "open_interest": True, "funding": True, "long_short_ratio": True}
    symbols = ("BTCUSDT", "ETHUSDT", "SOLUSDT")

    def check_symbol(self, symbol: str) -> str:
        from indicator_server.errors import UnknownSymbol

        if symbol not in self.symbols:
            raise UnknownSymbol(f"unknown symbol {symbol}")
        return symbol

    def __getattr__(self, name):
        if name.startswith("fetch_"):
            def unavailable(*args, **kwargs):
                from indicator_server.errors import UpstreamUnavailable

                raise UpstreamUnavailable("no market data in receiver tests")

            return unavailable
        raise AttributeError(name)


@pytest.fixture
def wh_app(wh_settings, wh_clock):
    app = build_app(wh_settings, wh_clock, sources={"binance": StubBinance()})
    yield app
    close_app(app)


@pytest.fixture
def wh_client(wh_app):
    return wh_app.test_client()


def alert(**fields):
    body = {"secret": SECRET, "ticker": "BTCUSDT.P", "exchange": "BINANCE", "interval": "60", "action": "buy",
            "price": "65000.5", "time": "2026-06-01T11:00:00Z", "timenow": "2026-06-01T12:34:50Z",
            "message": "RSI crossed 30"}
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


def signal_count(app) -> int:
    return app.extensions["indicator"].extras["webhooks"].repo.count()
