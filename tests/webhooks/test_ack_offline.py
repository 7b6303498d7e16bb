"""The ack never waits for market data: the receiver makes no call to any source, even to check a symbol.

Whether the symbol exists is the context filler's question (it marks the signal ``failed`` with the exchange's
answer); the receiver refuses only what cannot be a symbol at all.
"""

from __future__ import annotations

import threading

import orjson
import pytest

from indicator_server.errors import UnknownSymbol
from indicator_server.webhooks import fill_pending

from .conftest import alert, build_app, close_app, signal_count
from .test_receiver import post, stored


class BlockingSource:
    """Records every call and blocks it until released: an exchange that does not answer."""

    name = "binance"
    has = {"klines": True, "open_interest": True, "funding": True, "long_short_ratio": True}

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.release = threading.Event()

    def check_symbol(self, symbol: str) -> str:
        self.calls.append(f"check_symbol {symbol}")
        self.release.wait(30)
        raise UnknownSymbol(f"{symbol!r} is not a Binance symbol")

    def __getattr__(self, name):
        if name.startswith("fetch_"):
            def blocked(*args, **kwargs):
                self.calls.append(name)
                self.release.wait(30)
                raise UnknownSymbol("no such symbol")

            return blocked
        raise AttributeError(name)


@pytest.fixture
def blocking():
    return BlockingSource()


@pytest.fixture
def ack_app(wh_settings, wh_clock, blocking):
    app = build_app(wh_settings, wh_clock, sources={"binance": blocking})
    yield app
    blocking.release.set()
    close_app(app)


@pytest.mark.parametrize("ticker", ["BTCUSDT.P", "BINANCE:ETHUSDT.P", "DOGEFAKEUSDT"])
def test_the_ack_makes_no_market_data_call(ack_app, blocking, ticker):
    response = post(ack_app.test_client(), alert(ticker=ticker, exchange="BINANCE"))
    assert response.status_code == 200, response.get_data()[:300]
    assert blocking.calls == []
    assert stored(ack_app, response.get_json()["id"]).context_status == "pending"


def test_a_ticker_that_cannot_be_a_symbol_is_still_404_without_asking(ack_app, blocking):
    response = post(ack_app.test_client(), orjson.dumps(alert(ticker="BTC/USDT!")))
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "unknown_symbol"
    assert blocking.calls == [] and signal_count(ack_app) == 0


def test_an_unknown_symbol_is_found_by_the_context_filler(ack_app, blocking):
    client = ack_app.test_client()
    signal_id = post(client, alert(ticker="DOGEFAKEUSDT")).get_json()["id"]
    blocking.release.set()  # the exchange answers now: the symbol does not exist
    fill_pending(ack_app)
    row = stored(ack_app, signal_id)
    assert row.context_status == "failed" and row.outcome_status == "skipped"
    assert "DOGEFAKEUSDT" in row.context["error"] or "symbol" in row.context["error"]


def test_the_sim_still_answers_404_for_an_unknown_symbol_at_once(wh_settings, wh_clock):
    from indicator_server.market.sim import SimSource

    app = build_app(wh_settings, wh_clock, sources={"sim": SimSource(clock=wh_clock)})
    try:
        client = app.test_client()
        response = post(client, alert(ticker="NOSUCHCOIN", exchange="sim"))
        assert response.status_code == 404 and response.get_json()["error"]["code"] == "unknown_symbol"
        assert post(client, alert(ticker="ethusdt", exchange="sim")).status_code == 200
        assert signal_count(app) == 1
    finally:
        close_app(app)
