"""How many digits every float of a JSON overlay answer keeps: one rule per field name, applied once at the edge.

The maths runs in full float64; only the answer is rounded, in ``api.overlay_builders.records`` (candles,
OI delta, confluence, and through them the UDF series and the webhook context) and in
``overlays.liquidations.payload.result_payload`` (levels, map, heatmap, clusters, swept). Pure: numpy only.

Rules, by field name (``rule_for``):

- USD amounts (``*_usd``, ``quote_volume``, ``max_usd``, the heatmap's ``values``/``data``, ``by_leverage``):
  cents, 2 decimals.
- Funding rates (``funding_rate``, ``predicted_funding_rate``): 8 decimals, as Binance publishes them
  (``"0.00010000"``).
- Percentages, z-scores, oscillators and scores (``*_pct``, ``*zscore``, ``funding_annualized``, ``rsi``,
  ``score``, ``component_*`` and the confluence ``components``, ``long_short_ratio``): 6 decimals. RSI stays
  within 1e-6 of TradingView's value (DOMAIN.md section 6).
- Anything else (prices, volumes, open interest and its delta, leverage): 12 significant digits, finer than any
  exchange's tick or lot size and coarse enough to drop float noise such as ``65432.10000000001``.

Integers (times, counts) are never touched; NaN stays NaN (null in JSON).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

USD_DECIMALS = 2
RATE_DECIMALS = 8
RATIO_DECIMALS = 6
SIGNIFICANT_DIGITS = 12

_USD_NAMES = frozenset({"quote_volume", "max_usd", "values", "data", "by_leverage", "notional_usd", "initial_usd"})
_RATE_NAMES = frozenset({"funding_rate", "predicted_funding_rate"})
_RATIO_NAMES = frozenset({"rsi", "score", "components", "funding_annualized", "long_short_ratio", "zscore"})


def rule_for(name: str | None) -> tuple[str, int] | None:
    """``("decimals", n)`` or ``("significant", n)`` for a field name; None for a name with no rule of its own
    (it inherits its parent's in ``round_payload``)."""
    if name is None:
        return None
    if name.endswith("_usd") or name in _USD_NAMES:
        return ("decimals", USD_DECIMALS)
    if name in _RATE_NAMES:
        return ("decimals", RATE_DECIMALS)
    if (name in _RATIO_NAMES or name.endswith(("_pct", "zscore")) or name.startswith("component_")):
        return ("decimals", RATIO_DECIMALS)
    return None


DEFAULT_RULE = ("significant", SIGNIFICANT_DIGITS)


def round_array(values: np.ndarray, rule: tuple[str, int]) -> np.ndarray:
    """A float array rounded by ``rule`` (integer arrays come back as they are)."""
    values = np.asarray(values)
    if values.dtype.kind != "f":
        return values
    kind, n = rule
    if kind == "decimals":
        # beyond 10**(15 - n) a double has no n decimals left to drop (and x * 10**n loses the last bit)
        with np.errstate(invalid="ignore"):
            return np.where(np.abs(values) < 10.0 ** (15 - n), np.round(values, n), values) + 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        exponent = np.floor(np.log10(np.abs(values)))
    shift = np.where(np.isfinite(exponent), n - 1 - exponent, 0.0)
    # Divide by an exact power of ten (or multiply for large numbers): the quotient of an integer by 10**k is
    # the double nearest the decimal, so 65432.1 comes out as 65432.1.
    up = np.where(shift >= 0, 10.0 ** np.clip(shift, 0, 300), 1.0)
    down = np.where(shift < 0, 10.0 ** np.clip(-shift, 0, 300), 1.0)
    return np.where(np.isfinite(values) & (values != 0), np.round(values * up / down) * down / up, values) + 0.0


def round_number(value: float, rule: tuple[str, int]) -> float:
    if isinstance(value, bool) or not isinstance(value, float) or not math.isfinite(value):
        return value
    return float(round_array(np.array([value]), rule)[0])


def round_payload(obj: Any, name: str | None = None, rule: tuple[str, int] = DEFAULT_RULE) -> Any:
    """``obj`` with every float rounded by the rule of the nearest enclosing field name (``rule_for``)."""
    rule = rule_for(name) or rule
    if isinstance(obj, dict):
        return {k: round_payload(v, str(k), rule) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [round_payload(v, None, rule) for v in obj]
    if isinstance(obj, np.ndarray):
        return round_array(obj, rule)
    if isinstance(obj, float | np.floating):
        return round_number(float(obj), rule)
    return obj


def round_frame_columns(frame, columns: list[str]):
    """A copy of ``frame[columns]`` with each float column rounded by its name's rule."""
    sub = frame[columns].copy()
    for column in columns:
        if sub[column].dtype.kind == "f":
            sub[column] = round_array(sub[column].to_numpy(), rule_for(column) or DEFAULT_RULE)
    return sub
