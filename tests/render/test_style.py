"""How the pictures write amounts and prices."""

from __future__ import annotations

import pytest

from indicator_server.render.style import price_decimals, price_text, usd_text


@pytest.mark.parametrize(("usd", "text"), [
    (1_250_000, "$1.25M"), (1_500_000, "$1.5M"), (1_000_000, "$1M"), (325_000, "$325K"), (81_400, "$81.4K"),
    (950, "$950"), (0, "$0"), (2_340_000_000, "$2.34B"), (-4_500_000, "$-4.5M"),
])
def test_usd_text(usd, text):
    assert usd_text(usd) == text


@pytest.mark.parametrize(("price", "decimals", "text"), [
    (82_821.0, 0, "82,821"), (152.374, 2, "152.37"), (0.043125, 6, "0.043125"), (None, 2, "-"),
])
def test_price_text(price, decimals, text):
    assert price_decimals(price) == decimals and price_text(price) == text
