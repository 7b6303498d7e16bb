"""Fixtures of the Pine tests: the recorded OKX SOL-USDT-SWAP 1h bars (../shared/data)."""

from __future__ import annotations

import pytest

from tests.conftest import shared_data
from tests.pine.harness import SOL, load_sol_bars


@pytest.fixture(scope="session")
def sol_bars():
    return load_sol_bars(shared_data(*SOL, "ohlcv_1h.csv").parent)
