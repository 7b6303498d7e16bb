"""Named regimes of the simulated world: who trades a symbol, how, and what its price does.

A symbol's regime is chosen by its name: a base that starts with a regime's code (``HOLD``, ``SCALP``, ``TREND``,
``RANGE``) is in that regime, every other symbol (BTCUSDT, ETHUSDT, SIM7USDT, ...) is ``default``. The rest of the
name only seeds the randomness, so SCALP1USDT and SCALP2USDT are two independent worlds of the same regime.

Every regime sets, over the sim's 8 leverage tiers (2, 3, 5, 10, 20, 25, 50, 100x):

- ``tier_weights``: share of new notional per tier;
- holding time: log-normal with median ``hold_hours_at_2x / (L/2)^hold_exponent`` and log-spread ``hold_sigma``
  (never the exponential decay the liquidation model assumes);
- entries inside the opening bar: shares ``entry_vwap`` (VWAP + ``entry_noise`` x range, normal), ``entry_dip``
  (longs near the bar's low, shorts near its high), ``entry_breakout`` (longs near the high, shorts near the low);
  then ``entry_round`` of all cohorts snap to the nearest round number inside the bar's range when there is one;
- crowding: ``long_bias`` (long share when nothing leans), ``momentum`` (lean with the 24 h return; negative is
  contrarian), ``band_reversion`` (lean against the price's position in its band: buy the range low, sell the
  high), ``trend_lean`` (lean with the regime's drift), ``open_flow_share`` (share of quote volume that opens);
- the price: ``band_ratio`` (band high / band low, symbols without a known profile), ``drift_per_day`` (log drift
  of the band's centre, sign chosen per seed), ``vol_scale`` (x the profile's daily volatility);
- the price impact of forced orders ``impact_y`` (square-root law, ``impact.py``);
- funding: ``premium_offset`` + ``premium_per_imbalance`` x crowding is the premium index (``funding.py``);
- ``base_oi_share``: open interest held unleveraged/hedged (never liquidated), x the expected leveraged one.

The ``default`` regime is calibrated to Binance BTCUSDT and Coinglass BTC daily data dated before 2025-05-01
(tests/market/test_sim_realism.py prints the comparison).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .params import LEVERAGE_TIERS


@dataclass(frozen=True)
class Regime:
    name: str
    code: str
    description: str
    tier_weights: tuple[float, ...]
    hold_hours_at_2x: float
    hold_exponent: float
    hold_sigma: float
    entry_vwap: float
    entry_dip: float
    entry_breakout: float
    entry_round: float
    entry_noise: float
    long_bias: float
    momentum: float
    band_reversion: float
    trend_lean: float
    open_flow_share: float
    band_ratio: float
    drift_per_day: float
    vol_scale: float
    impact_y: float
    premium_offset: float
    premium_per_imbalance: float
    base_oi_share: float = 1.0  # unleveraged/hedged open interest as a share of the expected leveraged one

    def as_dict(self) -> dict:
        """JSON-ready parameters (tiers with their weights)."""
        out = asdict(self)
        out["tier_weights"] = {f"{lev:g}x": w for lev, w in zip(LEVERAGE_TIERS, self.tier_weights, strict=True)}
        return out


def _w(*weights: float) -> tuple[float, ...]:
    total = sum(weights)
    return tuple(w / total for w in weights)


REGIMES: dict[str, Regime] = {r.name: r for r in (
    Regime("default", "", "BTC-like market calibrated to Binance BTCUSDT and Coinglass BTC daily data",
           tier_weights=_w(0.35, 0.20, 0.20, 0.12, 0.03, 0.02, 0.04, 0.04),
           hold_hours_at_2x=168.0, hold_exponent=0.7, hold_sigma=1.0,
           entry_vwap=0.7, entry_dip=0.15, entry_breakout=0.15, entry_round=0.1, entry_noise=0.25,
           long_bias=0.56, momentum=0.12, band_reversion=0.0, trend_lean=0.0, open_flow_share=0.025,
           band_ratio=3.0, drift_per_day=0.0, vol_scale=1.0, impact_y=1.0,
           premium_offset=-0.00054, premium_per_imbalance=0.0005, base_oi_share=2.0),
    Regime("long-hold", "HOLD", "low leverage (2-10x mostly), holds of days, entries on dips",
           tier_weights=_w(0.30, 0.28, 0.22, 0.13, 0.04, 0.02, 0.01, 0.0),
           hold_hours_at_2x=120.0, hold_exponent=0.25, hold_sigma=0.6,
           entry_vwap=0.2, entry_dip=0.75, entry_breakout=0.05, entry_round=0.15, entry_noise=0.2,
           long_bias=0.6, momentum=-0.1, band_reversion=0.0, trend_lean=0.0, open_flow_share=0.08,
           band_ratio=3.0, drift_per_day=0.0, vol_scale=0.9, impact_y=0.5,
           premium_offset=-0.0002, premium_per_imbalance=0.001),
    Regime("scalping", "SCALP", "high leverage (25-100x), holds of hours, breakout entries, strong impact",
           tier_weights=_w(0.0, 0.0, 0.02, 0.06, 0.14, 0.30, 0.30, 0.18),
           hold_hours_at_2x=10.0, hold_exponent=0.45, hold_sigma=0.8,
           entry_vwap=0.25, entry_dip=0.05, entry_breakout=0.7, entry_round=0.1, entry_noise=0.3,
           long_bias=0.5, momentum=0.2, band_reversion=0.0, trend_lean=0.0, open_flow_share=0.15,
           band_ratio=2.5, drift_per_day=0.0, vol_scale=1.1, impact_y=4.0,
           premium_offset=0.0, premium_per_imbalance=0.002),
    Regime("crowded-trend", "TREND", "a persistent drift, the crowd piling in with it, elevated funding",
           tier_weights=_w(0.03, 0.05, 0.12, 0.25, 0.22, 0.16, 0.12, 0.05),
           hold_hours_at_2x=48.0, hold_exponent=0.5, hold_sigma=0.9,
           entry_vwap=0.5, entry_dip=0.1, entry_breakout=0.4, entry_round=0.1, entry_noise=0.25,
           long_bias=0.5, momentum=0.3, band_reversion=0.0, trend_lean=0.2, open_flow_share=0.12,
           band_ratio=1.6, drift_per_day=0.003, vol_scale=1.0, impact_y=1.0,
           premium_offset=0.0, premium_per_imbalance=0.004),
    Regime("range", "RANGE", "a narrow band, low volatility, longs near the range low and shorts near its high",
           tier_weights=_w(0.04, 0.06, 0.15, 0.30, 0.22, 0.13, 0.08, 0.02),
           hold_hours_at_2x=30.0, hold_exponent=0.5, hold_sigma=0.9,
           entry_vwap=0.4, entry_dip=0.5, entry_breakout=0.1, entry_round=0.2, entry_noise=0.25,
           long_bias=0.5, momentum=-0.1, band_reversion=0.35, trend_lean=0.0, open_flow_share=0.1,
           band_ratio=1.18, drift_per_day=0.0, vol_scale=0.5, impact_y=0.7,
           premium_offset=-0.0002, premium_per_imbalance=0.001),
)}
_BY_CODE = sorted(((r.code, r.name) for r in REGIMES.values() if r.code), key=lambda c: -len(c[0]))


def regime_of(symbol: str) -> str:
    """The regime a symbol is in, by the start of its name (module docstring)."""
    name = str(symbol).strip().upper()
    return next((regime for code, regime in _BY_CODE if name.startswith(code)), "default")


def regime_for(symbol: str) -> Regime:
    return REGIMES[regime_of(symbol)]
