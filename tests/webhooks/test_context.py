"""The context snapshot and follow-up outcomes, filled after the reply from real recorded Binance bars."""

from __future__ import annotations

import pandas as pd
import pytest

from indicator_server.overlays import compute_rsi
from indicator_server.webhooks import fill_pending
from tests.conftest import shared_data

from .conftest import alert, build_app, close_app
from .test_receiver import post, stored

HOUR = 3_600_000


@pytest.fixture
def klines():
    return pd.read_csv(shared_data("binance-btcusdt", "klines-1h.csv")).set_index("openTime")


@pytest.fixture
def ctx_app(wh_settings, wh_clock, fake_binance):
    app = build_app(wh_settings, wh_clock, sources={"binance": fake_binance})
    yield app
    close_app(app)


def test_context_is_the_market_at_receipt(ctx_app, wh_clock, klines):
    client = ctx_app.test_client()
    signal_id = post(client, alert()).get_json()["id"]
    assert stored(ctx_app, signal_id).context_status == "pending"  # the reply did not wait for market data
    assert fill_pending(ctx_app) == 1
    row = stored(ctx_app, signal_id)
    context = row.context
    received = int(wh_clock.now * 1000)
    bar = received - received % HOUR - HOUR  # 2026-06-01T11:00Z: the last bar closed at receipt
    assert context["bar_time"] == bar and context["timeframe"] == "1h"
    assert context["close"] == pytest.approx(klines.loc[bar, "close"])
    assert context["open"] == pytest.approx(klines.loc[bar, "open"])
    closes = klines.loc[: bar, "close"].iloc[-301:].reset_index(drop=True)
    assert context["rsi"] == pytest.approx(compute_rsi(closes).iloc[-1], abs=1e-6)
    for name in ("open_interest", "funding_rate", "oi_delta", "score", "long_short_ratio"):
        assert name in context
    assert context["open_interest"] is not None and context["funding_rate"] is not None
    assert context["latency_ms"] == received - 1780317290000
    assert context["bar_latency_ms"] == received - 1780311600000
    assert context["price_vs_close_pct"] == pytest.approx((65000.5 / klines.loc[bar, "close"] - 1) * 100)
    assert row.context_status in ("filled", "partial")
    assert set(context["missing"]) <= {"long_cluster_price", "long_cluster_usd", "long_cluster_distance_pct",
                                       "short_cluster_price", "short_cluster_usd", "short_cluster_distance_pct"}


def test_outcomes_fill_as_their_bars_close(ctx_app, wh_clock, klines):
    client = ctx_app.test_client()
    signal_id = post(client, alert(action="short")).get_json()["id"]
    fill_pending(ctx_app)
    bar = stored(ctx_app, signal_id).context["bar_time"]
    c0 = klines.loc[bar, "close"]
    wh_clock.now = (bar + 5 * HOUR) / 1000 + 1  # bars +1 .. +4 have closed, +24 not yet
    fill_pending(ctx_app)
    row = stored(ctx_app, signal_id)
    assert row.outcome_status == "pending" and set(row.outcome) == {"1", "4"}
    expected = (klines.loc[bar + 4 * HOUR, "close"] / c0 - 1) * 100
    assert row.outcome["4"]["change_pct"] == pytest.approx(expected)
    assert row.outcome["4"]["signed_change_pct"] == pytest.approx(-expected)  # a short gains when price falls
    wh_clock.now = (bar + 25 * HOUR) / 1000 + 1
    fill_pending(ctx_app)
    row = stored(ctx_app, signal_id)
    assert row.outcome_status == "done"
    assert row.outcome["24"]["close"] == pytest.approx(klines.loc[bar + 24 * HOUR, "close"])


def test_unreachable_market_keeps_context_pending_across_a_restart(wh_settings, wh_clock, fake_binance, klines):
    app = build_app(wh_settings, wh_clock, sources={"binance": fake_binance})
    signal_id = post(app.test_client(), alert()).get_json()["id"]
    fake_binance.fail = "down"
    fill_pending(app)
    row = stored(app, signal_id)
    assert row.context_status == "pending" and row.context_attempts == 1
    assert "UpstreamUnavailable" in row.context["pending_reason"]
    close_app(app)  # the process goes away with the work pending

    fake_binance.fail = None
    restarted = build_app(wh_settings, wh_clock, sources={"binance": fake_binance})
    assert fill_pending(restarted) == 0  # not due before its backoff
    wh_clock.advance(60)
    assert fill_pending(restarted) == 1
    row = stored(restarted, signal_id)
    assert row.context_status in ("filled", "partial")
    assert row.context["close"] == pytest.approx(klines.loc[row.context["bar_time"], "close"])
    close_app(restarted)


def test_unknown_symbol_in_context_fails_permanently(ctx_app, wh_clock, fake_binance):
    client = ctx_app.test_client()
    fake_binance.fail = "down"  # the receiver cannot check the symbol, so it accepts the alert
    signal_id = post(client, alert(ticker="ETHUSDT")).get_json()["id"]
    fake_binance.fail = None
    fill_pending(ctx_app)
    row = stored(ctx_app, signal_id)
    assert (row.context_status, row.outcome_status) == ("failed", "skipped")
    assert "ETHUSDT" in row.context["error"]
