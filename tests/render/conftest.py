"""A real liquidation estimate to draw: Binance BTCUSDT 1h prices (recorded) with a seeded synthetic OI."""

from __future__ import annotations

import pytest

from indicator_server.overlays.liquidations import LiquidationParams, estimate_liquidations
from tests.conftest import shared_data
from tests.overlays.liquidations.reference_loop import binance_bars

PARTS = ("heatmap", "map", "clusters", "levels")


def meta_for(bars, result, **overrides):
    """The liquidations endpoint's meta for these bars (what the views hand the renderers)."""
    step = int(bars["time"].iloc[1] - bars["time"].iloc[0])
    meta = {"exchange": "binance", "symbol": "BTCUSDT", "timeframe": "1h", "start": int(bars["time"].iloc[0]),
            "end": int(bars["time"].iloc[-1]), "bars": len(bars),
            "freshness": {"last_bar_close": int(bars["time"].iloc[-1]) + step, "source": "binance", "stale": False},
            "warnings": list(result.warnings), "parameters": {"lookback": str(len(bars)), "leverage": None},
            "model": result.model}
    meta.update(overrides)
    return meta


@pytest.fixture(scope="session")
def btc_bars():
    return binance_bars(shared_data("binance-btcusdt", "klines-1h.csv"), n=600)


@pytest.fixture(scope="session")
def estimate(btc_bars):
    result = estimate_liquidations(btc_bars, LiquidationParams(max_heatmap_rows=500), bins=500, include=PARTS)
    return btc_bars, result, meta_for(btc_bars, result)
