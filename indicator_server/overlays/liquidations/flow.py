"""Steps 1, 2, 3 and 5 of the OI-flow model (DOMAIN.md section 3): entry price, new notional, long/short split,
leverage tiers and how open exposure shrinks. Arrays in, arrays out; one value per bar.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..liquidation_price import Bracket
from .params import LiquidationParams

LN2 = float(np.log(2.0))


def column(bars: pd.DataFrame, name: str) -> np.ndarray:
    if name in bars:
        return bars[name].to_numpy(dtype="float64", na_value=np.nan)
    return np.full(len(bars), np.nan)


def bar_hours(bars: pd.DataFrame) -> float:
    """The bar length in hours (median spacing of ``time``; 1 when it cannot be told)."""
    if len(bars) < 2:
        return 1.0
    step = float(np.median(np.diff(bars["time"].to_numpy(dtype="int64"))))
    return step / 3_600_000.0 if step > 0 else 1.0


def entry_prices(bars: pd.DataFrame, method: str) -> np.ndarray:
    """Where a bar's new positions opened: VWAP = quote_volume / volume where the venue gives both (DOMAIN.md
    section 3 step 1), else hlc3 = (high + low + close) / 3; or "hlc3"/"close" by choice."""
    close = column(bars, "close")
    if method == "close":
        return close
    hlc3 = (column(bars, "high") + column(bars, "low") + close) / 3.0
    if method == "hlc3":
        return hlc3
    volume, quote = column(bars, "volume"), column(bars, "quote_volume")
    with np.errstate(divide="ignore", invalid="ignore"):
        vwap = quote / volume
    ok = np.isfinite(vwap) & (vwap > 0)
    return np.where(ok, vwap, hlc3)


def _candle_share(bars: pd.DataFrame) -> np.ndarray:
    o, h, lo, c = (column(bars, n) for n in ("open", "high", "low", "close"))
    rng = h - lo
    with np.errstate(divide="ignore", invalid="ignore"):
        share = 0.5 + 0.5 * (c - o) / rng
    return np.where(np.isfinite(share), np.clip(share, 0.0, 1.0), 0.5)


def long_shares(bars: pd.DataFrame, params: LiquidationParams) -> np.ndarray:
    """Share of a bar's new exposure that is long (DOMAIN.md section 3 step 2); the rest is short.

    taker: taker-buy base volume / volume (Binance klines' takerBuyBase); candle: 0.5 + 0.5 (C - O)/(H - L);
    ratio: long account share r/(1 + r) of the long/short account ratio r; even: 0.5; blend: weighted mean.
    Where taker or ratio data is missing the candle share stands in.
    """
    candle = _candle_share(bars)
    with np.errstate(divide="ignore", invalid="ignore"):
        taker = column(bars, "taker_buy_volume") / column(bars, "volume")
    taker = np.where(np.isfinite(taker), np.clip(taker, 0.0, 1.0), candle)
    ratio = column(bars, "long_short_ratio")
    account = column(bars, "long_account")
    with np.errstate(invalid="ignore"):
        from_ratio = np.where(np.isfinite(ratio) & (ratio >= 0), ratio / (1.0 + ratio), np.nan)
    ratio_share = np.where(np.isfinite(account), account, from_ratio)
    ratio_share = np.where(np.isfinite(ratio_share), np.clip(ratio_share, 0.0, 1.0), candle)
    if params.split == "taker":
        return taker
    if params.split == "candle":
        return candle
    if params.split == "ratio":
        return ratio_share
    if params.split == "even":
        return np.full(len(bars), 0.5)
    w = np.asarray(params.split_weights, dtype="float64")
    return (w[0] * taker + w[1] * candle + w[2] * ratio_share) / w.sum()


def open_interest_base(bars: pd.DataFrame) -> np.ndarray:
    """OI in base units, forward-filled; from ``open_interest_usd / close`` where only the USD value is given."""
    oi = column(bars, "open_interest")
    usd = column(bars, "open_interest_usd")
    with np.errstate(divide="ignore", invalid="ignore"):
        oi = np.where(np.isfinite(oi), oi, usd / column(bars, "close"))
    oi = np.where(oi > 0, oi, np.nan)
    return pd.Series(oi).ffill().to_numpy()


def effective_flow(bars: pd.DataFrame, params: LiquidationParams) -> tuple[str, list[str]]:
    """The flow source actually used ("oi", "volume" or "blend") and why it differs from the asked one."""
    if params.flow_source == "volume":
        return "volume", []
    oi = open_interest_base(bars)
    present = np.isfinite(oi).sum()
    if present < 2:
        return "volume", ["no open interest in the bars: new positions follow volume instead "
                          f"(volume_open_fraction={params.volume_open_fraction}, "
                          f"half-life {params.volume_half_life_hours:g}h)"]
    warnings = []
    missing = len(oi) - present
    if missing > 0.1 * len(oi):
        warnings.append(f"open interest is missing for {missing} of {len(oi)} bars: they add no new positions")
    return params.flow_source, warnings


def new_notional(bars: pd.DataFrame, params: LiquidationParams, entry: np.ndarray, flow: str) -> np.ndarray:
    """USD notional of positions opened in each bar (DOMAIN.md section 3 step 1), times ``notional_scale``.

    OI flow: max(OI_t - OI_(t-1), 0) x entry price (the first bar has no delta). Volume flow:
    ``volume_open_fraction`` x quote volume (volume x entry price where the quote volume is missing).
    """
    out = np.zeros(len(bars))
    if flow in ("oi", "blend"):
        oi = open_interest_base(bars)
        delta = np.diff(oi, prepend=np.nan)
        oi_flow = np.where(np.isfinite(delta) & (delta > 0), delta, 0.0) * entry
        out += (params.oi_weight if flow == "blend" else 1.0) * oi_flow
    if flow in ("volume", "blend"):
        quote = column(bars, "quote_volume")
        quote = np.where(np.isfinite(quote), quote, column(bars, "volume") * entry)
        vol_flow = params.volume_open_fraction * np.where(np.isfinite(quote) & (quote > 0), quote, 0.0)
        out += (1.0 - params.oi_weight if flow == "blend" else 1.0) * vol_flow
    out = np.where(np.isfinite(out), out, 0.0)
    return out * params.notional_scale


def log_survival(bars: pd.DataFrame, params: LiquidationParams, flow: str,
                 tiers: tuple[float, ...] | None = None) -> np.ndarray:
    """Cumulative log of the share of exposure still open, L_t (non-increasing, L_0 = 0).

    A level opened in bar j holds notional x exp(L_t - L_j) at the close of bar t (DOMAIN.md section 3 step 5).
    Per bar: + log(OI_t / OI_(t-1)) when OI falls and ``oi_closure`` is "proportional" (OI flows only); - ln2 x
    bar_hours / half-life for the decay (``decay_half_life_hours``, or ``volume_half_life_hours`` for the pure
    volume flow). Kept as a sum of logs so long histories do not underflow (PERFORMANCE.md).

    With ``half_life_leverage_exponent`` alpha > 0 the decay depends on the tier: an n x K array, column k for
    tier L_k (``tiers``, default the params' own) decaying at ln2 / (h x (L_k / 10)^-alpha) per hour, i.e. the
    decay term times (L_k / 10)^alpha (a holding time falling as a power of leverage, as a log-normal hold whose
    median scales with L^-alpha would; the OI closures are shared by every tier). alpha = 0: one column, 1-D.
    """
    n = len(bars)
    closure, decay = np.zeros(n), np.zeros(n)
    if flow in ("oi", "blend") and params.oi_closure == "proportional":
        oi = open_interest_base(bars)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = oi[1:] / oi[:-1]
        falling = np.isfinite(ratio) & (ratio < 1.0) & (ratio > 0)
        closure[1:] += np.log(np.where(falling, ratio, 1.0))
    half_life = params.decay_half_life_hours
    if half_life is None and flow == "volume":
        half_life = params.volume_half_life_hours
    if half_life is not None:
        decay[1:] -= LN2 * bar_hours(bars) / half_life
    alpha = params.half_life_leverage_exponent
    if alpha == 0 or half_life is None:
        return np.cumsum(closure + decay)
    rate = (np.asarray(params.leverage_tiers if tiers is None else tiers, dtype="float64") / 10.0) ** alpha
    return np.cumsum(closure)[:, None] + np.cumsum(decay)[:, None] * rate[None, :]


def bracket_for(brackets: tuple[Bracket, ...], notional: float) -> Bracket:
    """The maintenance bracket holding ``notional`` (the last one above the table)."""
    for bracket in brackets:
        if notional <= bracket.cap:
            return bracket
    return brackets[-1]


def liquidation_factors(params: LiquidationParams) -> tuple[np.ndarray, np.ndarray]:
    """Liquidation price / entry price per tier, long and short: the Binance USD-M isolated formula
    (DOMAIN.md section 2; Binance FAQ b3c689c1f50a44cabb3a84e663b81d93), position notional N = position_size_usd:
    ``long = (1 - 1/L - cum/N) / (1 - MMR)``, ``short = (1 + 1/L + cum/N) / (1 + MMR)``."""
    n = params.position_size_usd
    b = bracket_for(params.brackets, n)
    lev = np.asarray(params.leverage_tiers, dtype="float64")
    long_f = (1.0 - 1.0 / lev - b.cum / n) / (1.0 - b.mmr)
    short_f = (1.0 + 1.0 / lev + b.cum / n) / (1.0 + b.mmr)
    return np.maximum(long_f, 0.0), short_f


def tier_weights(params: LiquidationParams) -> np.ndarray:
    w = np.asarray(params.leverage_weights, dtype="float64")
    return w / w.sum()
