"""Liquidation-price formulas against DOMAIN.md section 2 and the exchanges' own worked examples."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indicator_server.errors import InvalidArgument
from indicator_server.overlays.liquidation_price import (
    BINANCE_BTCUSDT,
    Bracket,
    binance_usdm,
    brackets_from_table,
    bybit_inverse,
    bybit_linear,
    liquidation_price,
    okx_inverse,
    okx_linear,
)

# --- DOMAIN.md section 2 check values, long and short


@pytest.mark.parametrize(
    "side, expected",
    [("long", 54_216.87), ("short", 65_737.05)],
)
def test_binance_domain_check(side, expected):
    # 1 BTC @ 60,000, 10x (isolated wallet balance = 6,000), MMR 0.4%, cum 0
    assert binance_usdm(side, 60_000, 1, 6_000, 0.004, 0) == pytest.approx(expected, abs=0.005)


@pytest.mark.parametrize(
    "side, leverage, expected",
    [("long", 50, 19_700.0), ("short", 50, 20_300.0)],  # short: same numbers mirrored (Bybit example 2 form)
)
def test_bybit_linear_domain_check(side, leverage, expected):
    result = liquidation_price("bybit", "linear", "isolated", side, 20_000, leverage, 1)
    assert result.maintenance_rate == 0.005
    assert result.price == pytest.approx(expected, abs=0.005)
    assert bybit_linear(side, 20_000, 1, 400, 100) == pytest.approx(expected, abs=0.005)


@pytest.mark.parametrize(
    "margin_mode, balance, side, expected",
    [
        ("isolated", None, "long", 49_261.08),  # seed 003
        ("cross", 0.5, "long", 39_525.69),  # seed 003
        ("isolated", None, "short", 50_761.42),  # derived: 100,000 / (2 - 0.04 + 0.01)
        ("cross", 0.5, "short", 68_027.21),  # derived: 100,000 / (2 - 0.04 - 0.5 + 0.01)
    ],
)
def test_bybit_inverse_domain_check(margin_mode, balance, side, expected):
    result = liquidation_price("bybit", "inverse", margin_mode, side, 50_000, 50, 100_000, balance=balance)
    assert result.price == pytest.approx(expected, abs=0.005)
    assert result.notional == pytest.approx(2.0) and result.notional_currency == "coin"


@pytest.mark.parametrize("side, expected", [("long", 54_244.10), ("short", 65_704.33)])
def test_okx_domain_check(side, expected):
    # 1 BTC @ 60,000, margin 6,000, MMR 0.4%, taker fee 0.05%
    assert okx_linear(side, 60_000, 1, 6_000, 0.004, 0.0005) == pytest.approx(expected, abs=0.005)
    result = liquidation_price("okx", "linear", "isolated", side, 60_000, 10, 1)
    assert result.price == pytest.approx(expected, abs=0.005)
    assert result.fee_rate == 0.0005


def test_binance_brackets_match_domain_snapshot():
    rows = [(b.floor, b.cap, b.mmr, b.cum, b.max_leverage) for b in BINANCE_BTCUSDT]
    assert rows == [
        (0, 50_000, 0.004, 0, 125),
        (50_000, 250_000, 0.005, 50, 100),
        (250_000, 3_000_000, 0.01, 1_300, 50),
        (3_000_000, 20_000_000, 0.025, 46_300, 20),
        (20_000_000, 40_000_000, 0.05, 546_300, 10),
        (40_000_000, 100_000_000, 0.10, 2_546_300, 5),
    ]


# --- more worked examples from the exchanges' documentation


@pytest.mark.parametrize(
    "side, expected",
    # Bybit "Liquidation Price Calculation under Isolated Mode (UTA)", inverse example: 60,000 USD at 50,000,
    # 10x, MMR 0.5%: PV 1.2 BTC, IM 0.12, MM 0.006.
    [("long", 45_662.10), ("short", 55_248.62)],
)
def test_bybit_inverse_uta_example(side, expected):
    assert bybit_inverse(side, 50_000, 60_000, 10, 0.005) == pytest.approx(expected, abs=0.005)


@pytest.mark.parametrize(
    "entry, quantity, wallet, mmr, cum, others, expected",
    [
        # Binance's own calculation examples as reproduced in freqtrade tests/exchange/test_binance.py
        # (test_liquidation_price_binance), long positions, isolated then cross with another open position.
        (1456.84, 3683.979, 1_535_443.01, 0.10, 135_365.0, None, 1114.78),
        (32481.98, 109.488, 1_535_443.01, 0.025, 16_300.0, None, 18778.73),
        (
            1456.84,
            3683.979,
            1_535_443.01,
            0.10,
            135_365.0,
            (109.488, 31967.27, 32481.98, 0.025, 16_300.0),
            1153.26,
        ),
        (
            32481.98,
            109.488,
            1_535_443.01,
            0.025,
            16_300.0,
            (3683.979, 1335.18, 1456.84, 0.10, 135_365.0),
            26316.89,
        ),
    ],
)
def test_binance_calc_examples(entry, quantity, wallet, mmr, cum, others, expected):
    tmm = upnl = 0.0
    if others:
        qty, mark, open_rate, o_mmr, o_cum = others
        tmm = qty * mark * o_mmr - o_cum
        upnl = qty * (mark - open_rate)
    assert binance_usdm("long", entry, quantity, wallet, mmr, cum, tmm, upnl) == pytest.approx(
        expected, abs=0.005
    )


@pytest.mark.parametrize(
    "rows, expected_cum",
    # Binance leverage brackets for ADA/BUSD and ZEC/USDT as served by /fapi/v1/leverageBracket (freqtrade
    # test_fill_leverage_tiers_binance): the "cum" Binance serves equals the derived maintenance amount.
    [
        (
            [
                (100_000, 0.025, 20),
                (500_000, 0.05, 10),
                (1_000_000, 0.1, 5),
                (2_000_000, 0.15, 3),
                (5_000_000, 0.25, 2),
                (30_000_000, 0.5, 1),
            ],
            [0, 2_500, 27_500, 77_500, 277_500, 1_527_500],
        ),
        (
            [
                (50_000, 0.01, 50),
                (150_000, 0.025, 20),
                (250_000, 0.05, 10),
                (500_000, 0.1, 5),
                (1_000_000, 0.125, 4),
                (2_000_000, 0.25, 2),
                (30_000_000, 0.5, 1),
            ],
            [0, 750, 4_500, 17_000, 29_500, 154_500, 654_500],
        ),
    ],
)
def test_maintenance_amount_rule(rows, expected_cum):
    assert [b.cum for b in brackets_from_table(rows)] == pytest.approx(expected_cum)


def test_okx_inverse_matches_published_isolated_long_without_fee():
    # OKX coin-margined isolated long: (1 + MMR) / (1/EP + M/(face value x contracts))
    assert okx_inverse("long", 50_000, 60_000, 0.12, 0.005, 0.0) == pytest.approx(
        (1.005) / (1 / 50_000 + 0.12 / 60_000)
    )


# --- brackets, leverage limits and bad input


def test_binance_uses_the_bracket_of_the_notional():
    result = liquidation_price("binance", "linear", "isolated", "long", 60_000, 10, 1)
    assert result.bracket.tier == 2 and result.maintenance_rate == 0.005 and result.bracket.cum == 50
    # EP * (1 - 1/L - cum/N) / (1 - MMR)
    assert result.price == pytest.approx(60_000 * (1 - 0.1 - 50 / 60_000) / 0.995)
    custom = (Bracket(1, 0, 1e9, 0.004, 0, 125),)
    assert liquidation_price(
        "binance", "linear", "isolated", "long", 60_000, 10, 1, brackets=custom
    ).price == pytest.approx(54_216.87, abs=0.005)


@pytest.mark.parametrize(
    "quantity, leverage, ok",
    [
        (0.5, 125, True),
        (1, 125, False),
        (1, 100, True),
        (10, 50, True),
        (10, 51, False),
        (100, 20, True),
        (100, 21, False),
        (1_000, 5, True),
        (2_000, 1, False),
    ],
)
def test_binance_max_leverage_per_bracket(quantity, leverage, ok):
    if ok:
        assert (
            liquidation_price("binance", "linear", "isolated", "short", 60_000, leverage, quantity).price
            > 60_000
        )
    else:
        with pytest.raises(InvalidArgument):
            liquidation_price("binance", "linear", "isolated", "short", 60_000, leverage, quantity)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"exchange": "ftx"}, "exchange"),
        ({"contract": "option"}, "contract"),
        ({"exchange": "binance", "contract": "inverse"}, "contract"),
        ({"margin_mode": "portfolio"}, "margin_mode"),
        ({"side": "up"}, "side"),
        ({"entry": 0}, "entry"),
        ({"entry": -5}, "entry"),
        ({"quantity": 0}, "quantity"),
        ({"leverage": 0.5}, "leverage"),
        ({"leverage": 126}, "leverage"),
        ({"margin_mode": "cross"}, "balance"),
        ({"margin_mode": "cross", "balance": -1}, "balance"),
    ],
)
def test_bad_input(kwargs, field):
    args = {
        "exchange": "binance",
        "contract": "linear",
        "margin_mode": "isolated",
        "side": "long",
        "entry": 60_000,
        "leverage": 10,
        "quantity": 0.1,
        **kwargs,
    }
    with pytest.raises(InvalidArgument) as info:
        liquidation_price(**args)
    assert info.value.details["field"] == field


def test_cross_balance_moves_price_away_and_can_remove_it():
    iso = liquidation_price("binance", "linear", "isolated", "long", 60_000, 10, 1).price
    cross = liquidation_price("binance", "linear", "cross", "long", 60_000, 10, 1, balance=10_000).price
    assert cross < iso
    # A long backed by more than its notional cannot be liquidated by a falling price.
    assert (
        liquidation_price("binance", "linear", "cross", "long", 60_000, 10, 1, balance=60_000).price is None
    )


# --- properties

positions = st.tuples(
    st.sampled_from(
        [
            ("binance", "linear"),
            ("bybit", "linear"),
            ("bybit", "inverse"),
            ("okx", "linear"),
            ("okx", "inverse"),
        ]
    ),
    st.floats(100, 200_000),
    st.floats(1.5, 25),
)


@given(positions)
def test_long_below_entry_below_short_and_leverage_tightens(position):
    (exchange, contract), entry, leverage = position
    quantity = 1_000.0 if contract == "inverse" else 1_000.0 / entry
    long = liquidation_price(exchange, contract, "isolated", "long", entry, leverage, quantity).price
    short = liquidation_price(exchange, contract, "isolated", "short", entry, leverage, quantity).price
    assert long < entry < short
    tighter = liquidation_price(exchange, contract, "isolated", "long", entry, leverage * 2, quantity).price
    assert long < tighter < entry
