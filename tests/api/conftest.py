"""Fixtures of the API tests: the recorded Binance BTCUSDT 1h klines and a fake exchange serving them."""

from __future__ import annotations

import pytest

from tests.conftest import shared_data
from tests.fakes import FakeSource, load_binance_1h


@pytest.fixture(scope="module")
def klines():
    return load_binance_1h(shared_data("binance-btcusdt", "klines-1h.csv"))


@pytest.fixture
def fake(klines):
    return FakeSource(klines)
