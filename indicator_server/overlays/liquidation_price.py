"""Liquidation price of one position, as the exchanges themselves compute it.

Pure maths: no Flask, no I/O. Every formula cites the exchange page it comes from; the maintenance-margin
tiers ("brackets", "risk limits", "position tiers") are config data below: snapshots the exchanges change.

Conventions (the API documents them too):

- ``side`` is ``"long"`` or ``"short"``; one-way mode (one position per symbol).
- Linear (USDT-margined) ``quantity`` is in the base asset (BTC); notional, margin and balance in USD(T).
- Inverse (coin-margined) ``quantity`` is the position size in USD (contracts of 1 USD: Bybit BTCUSD; OKX's
  BTC-USD-SWAP contract is 100 USD, so pass contracts x 100); notional, margin and balance are in the
  coin (BTC).
- ``balance`` (cross margin only) is the balance available to the position *beyond* its initial margin, as in
  Bybit's cross formula (seed 003: ``Qty / (PV + IM + B - MM)``). For Binance the wallet balance is then
  ``WB = initial margin + balance``.
- A liquidation price that would be zero or negative (a long backed by more than its notional) is reported as
  ``None``: the position cannot be liquidated by a falling price.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..errors import InvalidArgument

SIDES = ("long", "short")
MARGIN_MODES = ("isolated", "cross")

BINANCE_SOURCE = "https://www.binance.com/en/support/faq/b3c689c1f50a44cabb3a84e663b81d93"
BYBIT_LINEAR_SOURCE = "https://www.bybit.com/en/help-center/article/Liquidation-Price-USDT-Contract"
BYBIT_INVERSE_SOURCE = (
    "https://www.bybit.com/en/help-center/article/"
    "Liquidation-Price-Calculation-under-Isolated-Mode-Unified-Trading-Account"
)
OKX_SOURCE = "https://www.okx.com/help/v-tiered-maintenance-margin-ratio-rules"


@dataclass(frozen=True)
class Bracket:
    """One maintenance-margin tier: notionals in ``(floor, cap]`` use ``mmr`` and the maintenance amount
    ``cum`` (Binance "cum", Bybit "MM deduction"), and allow at most ``max_leverage``."""

    tier: int
    floor: float
    cap: float
    mmr: float
    cum: float
    max_leverage: float


def brackets_from_table(rows: list[tuple[float, float, float]]) -> tuple[Bracket, ...]:
    """Build brackets from ``(cap, mmr, max_leverage)`` rows, deriving the maintenance amounts.

    Binance: ``cum_n = cum_(n-1) + floor_n * (MMR_n - MMR_(n-1))`` ("Maintenance Amount formula" in
    https://www.binance.com/en/support/faq/ceccfcfb4e3a45e3b48b0b1bb1a8ae46; DOMAIN.md section 2). It makes
    the maintenance margin ``N*MMR - cum`` continuous across tier boundaries.
    """
    out: list[Bracket] = []
    floor, cum, prev_mmr = 0.0, 0.0, None
    for tier, (cap, mmr, max_leverage) in enumerate(rows, start=1):
        if prev_mmr is not None:
            cum += floor * (mmr - prev_mmr)
        out.append(Bracket(tier, floor, cap, mmr, round(cum, 8), max_leverage))
        floor, prev_mmr = cap, mmr
    return tuple(out)


# Binance USD-M BTCUSDT leverage brackets, snapshot from DOMAIN.md section 2 (Binance publishes the live table
# at GET /fapi/v1/leverageBracket and under "Leverage & Margin" on its site).
BINANCE_BTCUSDT = brackets_from_table(
    [
        (50_000, 0.004, 125),
        (250_000, 0.005, 100),
        (3_000_000, 0.01, 50),
        (20_000_000, 0.025, 20),
        (40_000_000, 0.05, 10),
        (100_000_000, 0.10, 5),
    ]
)
# Bybit BTCUSDT risk limit tier 1: positions up to 2,000,000 USDT, MMR 0.5%, IMR 1% (100x). Bybit's
# announcement of the raised BTCUSDT level-1 risk limit; the MMR is the one in Bybit's own liquidation
# example. Larger tiers are not in this snapshot: larger positions are refused rather than priced with a
# guessed rate.
BYBIT_BTCUSDT = brackets_from_table([(2_000_000, 0.005, 100)])
# Bybit BTCUSD (inverse) risk limit tier 1 in BTC: MM base rate 0.5% and IM base rate 1% from Bybit's "Risk
# Limit (Inverse Contract)" table; the 150 BTC base value is from the same table (snapshot; verify against the
# live one).
BYBIT_BTCUSD = brackets_from_table([(150, 0.005, 100)])
# OKX BTC-USDT-SWAP / BTC-USD-SWAP first position tier: MMR 0.4% (DOMAIN.md check value), 125x. The tier cap
# is not in the snapshot we have; 2,000,000 USD (linear) and 20 BTC (inverse) are conservative placeholders.
OKX_BTCUSDT = brackets_from_table([(2_000_000, 0.004, 125)])
OKX_BTCUSD = brackets_from_table([(20, 0.004, 125)])
OKX_TAKER_FEE = 0.0005  # OKX regular-user taker fee on perpetual swaps (0.05%), used as the liquidation fee.

BRACKETS: dict[tuple[str, str], tuple[Bracket, ...]] = {
    ("binance", "linear"): BINANCE_BTCUSDT,
    ("bybit", "linear"): BYBIT_BTCUSDT,
    ("bybit", "inverse"): BYBIT_BTCUSD,
    ("okx", "linear"): OKX_BTCUSDT,
    ("okx", "inverse"): OKX_BTCUSD,
}
EXCHANGES = ("binance", "bybit", "okx")
CONTRACTS = ("linear", "inverse")


@dataclass(frozen=True)
class LiquidationPrice:
    price: float | None
    exchange: str
    contract: str
    margin_mode: str
    side: str
    notional: float
    notional_currency: str
    initial_margin: float
    maintenance_margin: float
    bracket: Bracket
    maintenance_rate: float
    fee_rate: float
    formula: str
    source: str

    def as_dict(self) -> dict:
        out = asdict(self)
        out["bracket"] = asdict(self.bracket)
        return out


def find_bracket(brackets: tuple[Bracket, ...], notional: float, leverage: float) -> Bracket:
    """The tier holding ``notional``; refuse notionals above the table and leverage it does not allow."""
    for bracket in brackets:
        if notional <= bracket.cap:
            if leverage > bracket.max_leverage + 1e-9:
                raise InvalidArgument(
                    f"leverage {leverage:g}x is above the {bracket.max_leverage:g}x the exchange allows for a "
                    f"position of this size (tier {bracket.tier}, notional up to {bracket.cap:,.0f})",
                    details={"field": "leverage", "max_leverage": bracket.max_leverage, "tier": bracket.tier},
                )
            return bracket
    raise InvalidArgument(
        f"position notional {notional:,.2f} is above the largest tier known for this exchange "
        f"({brackets[-1].cap:,.0f})",
        details={"field": "quantity", "max_notional": brackets[-1].cap},
    )


def _positive(price: float) -> float | None:
    return price if price > 0 else None


def binance_usdm(
    side: str,
    entry: float,
    quantity: float,
    wallet_balance: float,
    mmr: float,
    cum: float,
    other_maintenance: float = 0.0,
    other_unrealized_pnl: float = 0.0,
) -> float | None:
    """Binance USD-M, one-way mode: "How to Calculate Liquidation Price of USDⓈ-M Futures Contracts"
    (BINANCE_SOURCE):

    ``LP = (WB - TMM1 + UPNL1 + cumB - Side*Position*EP) / (Position*MMR_B - Side*Position)``,
    Side = 1 long, -1 short. Isolated: WB is the position's isolated wallet balance (its margin, N/L) and
    TMM1 = UPNL1 = 0, which gives DOMAIN.md's ``EP*(1 - 1/L - cum/N)/(1 - MMR)`` (long) and
    ``EP*(1 + 1/L + cum/N)/(1 + MMR)`` (short). Cross: WB is the cross wallet balance; TMM1 and UPNL1 are the
    other positions' maintenance margin and unrealised PnL.
    """
    s = 1.0 if side == "long" else -1.0
    numerator = wallet_balance - other_maintenance + other_unrealized_pnl + cum - s * quantity * entry
    return _positive(numerator / (quantity * mmr - s * quantity))


def bybit_linear(
    side: str,
    entry: float,
    quantity: float,
    initial_margin: float,
    maintenance_margin: float,
    extra_margin: float = 0.0,
) -> float | None:
    """Bybit USDT contracts: "Liquidation Price (USDT Contract)" (BYBIT_LINEAR_SOURCE):

    ``LP_long = EP - (IM - MM)/Size - ExtraMargin/Size``,
    ``LP_short = EP + (IM - MM)/Size + ExtraMargin/Size``, with IM = Size*EP/L and
    MM = Size*EP*MMR - MM deduction. In cross margin the available balance backs the position the way extra
    margin does (the substitution Bybit's inverse cross formula makes, DOMAIN.md section 2).
    """
    cushion = (initial_margin - maintenance_margin + extra_margin) / quantity
    return _positive(entry - cushion if side == "long" else entry + cushion)


def bybit_inverse(
    side: str,
    entry: float,
    quantity_usd: float,
    leverage: float,
    mmr: float,
    mm_deduction: float = 0.0,
    balance: float = 0.0,
) -> float | None:
    """Bybit inverse contracts: "Liquidation Price Calculation under Isolated Mode" (BYBIT_INVERSE_SOURCE),
    cross with balance B from seed 003 / DOMAIN.md: PV = Qty/EP, IM = PV/L, MM = PV*MMR - deduction,
    ``LP_long = Qty/(PV + IM + B - MM)``, ``LP_short = Qty/(PV - IM - B + MM)`` (B = 0 in isolated mode).
    """
    pv = quantity_usd / entry
    cushion = pv / leverage + balance - (pv * mmr - mm_deduction)
    denominator = pv + cushion if side == "long" else pv - cushion
    return quantity_usd / denominator if denominator > 0 else None


def okx_linear(
    side: str, entry: float, quantity: float, margin: float, mmr: float, fee: float
) -> float | None:
    """OKX / generic linear. OKX liquidates when the margin ratio falls to 100%; in isolated mode
    ``margin ratio = (margin + PnL) / (face value x |contracts| x mark price x (MMR + fee))`` (OKX_SOURCE).
    Solving for the mark price gives (also freqtrade's ``dry_run_liquidation_price``, DOMAIN.md section 2):
    ``LP_long = (EP - M/Q)/(1 - MMR - fee)``, ``LP_short = (EP + M/Q)/(1 + MMR + fee)``.
    """
    if side == "long":
        return _positive((entry - margin / quantity) / (1 - mmr - fee))
    return _positive((entry + margin / quantity) / (1 + mmr + fee))


def okx_inverse(
    side: str, entry: float, quantity_usd: float, margin: float, mmr: float, fee: float
) -> float | None:
    """OKX coin-margined, from the same margin-ratio rule with the position value in coin (OKX_SOURCE):
    ``(M + PnL) = Qty/P * (MMR + fee)`` with PnL_long = Qty*(1/EP - 1/P), PnL_short = Qty*(1/P - 1/EP), so
    ``LP_long = Qty*(1 + MMR + fee)/(M + Qty/EP)``, ``LP_short = Qty*(1 - MMR - fee)/(Qty/EP - M)``.
    With fee = 0 this is OKX's published ``(1 + MMR)/(1/EP + M/(face value x contracts))`` for isolated longs.
    """
    if side == "long":
        return quantity_usd * (1 + mmr + fee) / (margin + quantity_usd / entry)
    denominator = quantity_usd / entry - margin
    return quantity_usd * (1 - mmr - fee) / denominator if denominator > 0 else None


def _check(
    exchange: str,
    contract: str,
    margin_mode: str,
    side: str,
    entry: float,
    leverage: float,
    quantity: float,
    balance: float | None,
) -> None:
    if exchange not in EXCHANGES:
        raise InvalidArgument(
            f"unknown exchange {exchange!r}; one of {', '.join(EXCHANGES)}", details={"field": "exchange"}
        )
    if contract not in CONTRACTS:
        raise InvalidArgument(
            f"unknown contract {contract!r}; one of {', '.join(CONTRACTS)}", details={"field": "contract"}
        )
    if (exchange, contract) not in BRACKETS:
        raise InvalidArgument(
            f"{contract} contracts are not supported for {exchange}",
            details={"field": "contract", "supported": [c for e, c in BRACKETS if e == exchange]},
        )
    if margin_mode not in MARGIN_MODES:
        raise InvalidArgument(f"unknown margin_mode {margin_mode!r}", details={"field": "margin_mode"})
    if side not in SIDES:
        raise InvalidArgument(f"unknown side {side!r}; long or short", details={"field": "side"})
    for name, value in (("entry", entry), ("quantity", quantity)):
        if not value > 0:
            raise InvalidArgument(f"{name} must be > 0", details={"field": name})
    if not leverage >= 1:
        raise InvalidArgument("leverage must be >= 1", details={"field": "leverage"})
    if margin_mode == "cross" and balance is None:
        raise InvalidArgument(
            "cross margin needs balance (available balance beyond the initial margin)",
            details={"field": "balance"},
        )
    if balance is not None and balance < 0:
        raise InvalidArgument("balance must be >= 0", details={"field": "balance"})


def liquidation_price(
    exchange: str,
    contract: str,
    margin_mode: str,
    side: str,
    entry: float,
    leverage: float,
    quantity: float,
    balance: float | None = None,
    fee: float | None = None,
    brackets: tuple[Bracket, ...] | None = None,
) -> LiquidationPrice:
    """Liquidation price of a one-way position; ``InvalidArgument`` for input the exchange would refuse."""
    _check(exchange, contract, margin_mode, side, entry, leverage, quantity, balance)
    extra = balance if margin_mode == "cross" else 0.0
    linear = contract == "linear"
    notional = quantity * entry if linear else quantity / entry
    bracket = find_bracket(brackets or BRACKETS[(exchange, contract)], notional, leverage)
    im = notional / leverage
    mm = notional * bracket.mmr - bracket.cum
    fee_rate = 0.0
    if exchange == "binance":
        price = binance_usdm(side, entry, quantity, im + extra, bracket.mmr, bracket.cum)
        formula, source = "LP = (WB + cum - Side*Q*EP) / (Q*MMR - Side*Q), WB = N/L + balance", BINANCE_SOURCE
    elif exchange == "bybit" and linear:
        price = bybit_linear(side, entry, quantity, im, mm, extra)
        formula, source = (
            "LP = EP -/+ (IM - MM + balance)/Size, IM = N/L, MM = N*MMR - deduction",
            BYBIT_LINEAR_SOURCE,
        )
    elif exchange == "bybit":
        price = bybit_inverse(side, entry, quantity, leverage, bracket.mmr, bracket.cum, extra)
        formula, source = "LP = Qty / (PV +/- (IM + balance - MM)), PV = Qty/EP", BYBIT_INVERSE_SOURCE
    else:
        fee_rate = OKX_TAKER_FEE if fee is None else fee
        margin = im + extra
        if linear:
            price = okx_linear(side, entry, quantity, margin, bracket.mmr, fee_rate)
            formula = (
                "LP_long = (EP - M/Q)/(1 - MMR - fee), LP_short = (EP + M/Q)/(1 + MMR + fee), "
                "M = N/L + balance"
            )
        else:
            price = okx_inverse(side, entry, quantity, margin, bracket.mmr, fee_rate)
            formula = "LP_long = Qty(1+MMR+fee)/(M + Qty/EP), LP_short = Qty(1-MMR-fee)/(Qty/EP - M)"
        source = OKX_SOURCE
    return LiquidationPrice(
        price=price,
        exchange=exchange,
        contract=contract,
        margin_mode=margin_mode,
        side=side,
        notional=notional,
        notional_currency="USD" if linear else "coin",
        initial_margin=im,
        maintenance_margin=mm,
        bracket=bracket,
        maintenance_rate=bracket.mmr,
        fee_rate=fee_rate,
        formula=formula,
        source=source,
    )
