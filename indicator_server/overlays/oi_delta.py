"""Open-interest delta per bar and the price/OI quadrant (DOMAIN.md section 4).

For bar t, with OI sampled at the bar's close (``MarketService.bars``) and ``close`` its closing price:

- ``delta = OI_t - OI_{t-1}`` in base-asset units (contracts converted to coins by the source);
- ``delta_usd = delta * close_t``: the notional of positions opened (+) or closed (-) during the bar, priced
  at the bar's close. The difference of ``open_interest_usd`` is *not* used because it also moves when price
  moves with no position change (Binance's ``sumOpenInterestValue`` is OI times the mark price);
- ``delta_pct = 100 * delta / OI_{t-1}``;
- ``zscore``: rolling z-score of ``delta`` over ``zscore_window`` bars (``overlays.zscore``);
- ``quadrant`` from the signs of the price change ``close_t - close_{t-1}`` and of ``delta``:
  price up + OI up = ``longs_opening``; price down + OI up = ``shorts_opening``;
  price up + OI down = ``short_covering``; price down + OI down = ``long_closing`` (long liquidation /
  closing).
  ``None`` when either change is zero or unknown.

OI gaps (Binance serves only the last 30 days of ``openInterestHist``) stay NaN: a delta needs OI on both
bars, so nothing is interpolated across a gap, and the z-score is NaN until a full window of deltas
follows the gap.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from indicator_server.overlays.zscore import rolling_zscore

OI_ZSCORE_WINDOW = 50
"""Default look-back of the delta z-score, in bars (about two days of 1h bars, fifty 4h bars)."""

QUADRANTS = ("longs_opening", "shorts_opening", "short_covering", "long_closing")

OI_DELTA_COLUMNS = [
    "time",
    "close",
    "open_interest",
    "open_interest_usd",
    "delta",
    "delta_usd",
    "delta_pct",
    "zscore",
    "quadrant",
]


def classify_quadrant(price_change: np.ndarray, oi_change: np.ndarray) -> np.ndarray:
    """Quadrant label per bar (object array of str or None) from the price and OI changes."""
    price_change = np.asarray(price_change, dtype="float64")
    oi_change = np.asarray(oi_change, dtype="float64")
    labels = np.full(price_change.shape, None, dtype=object)
    labels[(price_change > 0) & (oi_change > 0)] = "longs_opening"
    labels[(price_change < 0) & (oi_change > 0)] = "shorts_opening"
    labels[(price_change > 0) & (oi_change < 0)] = "short_covering"
    labels[(price_change < 0) & (oi_change < 0)] = "long_closing"
    return labels


def compute_oi_delta(bars: pd.DataFrame, zscore_window: int = OI_ZSCORE_WINDOW) -> pd.DataFrame:
    """OI delta overlay for a ``BAR_COLUMNS`` frame; one row per bar on ``bars.index`` (module docstring)."""
    close = bars["close"].astype("float64")
    oi = bars["open_interest"].astype("float64")
    previous_oi = oi.shift(1)
    delta = oi - previous_oi
    with np.errstate(divide="ignore", invalid="ignore"):
        delta_pct = 100.0 * delta / previous_oi.where(previous_oi > 0)
    out = pd.DataFrame(
        {
            "time": bars["time"],
            "close": close,
            "open_interest": oi,
            "open_interest_usd": bars["open_interest_usd"].astype("float64"),
            "delta": delta,
            "delta_usd": delta * close,
            "delta_pct": delta_pct,
            "zscore": rolling_zscore(delta, zscore_window),
        },
        index=bars.index,
    )
    out["quadrant"] = pd.Series(
        classify_quadrant(close.diff().to_numpy(), delta.to_numpy()), index=bars.index, dtype=object
    )
    return out
