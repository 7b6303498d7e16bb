"""The market context of a signal: what the market looked like when the alert arrived.

The bar at receipt is the last bar closed when the alert was received (its open time is
``floor(received_at) - timeframe``). Fields are named as in the overlays. Latencies: ``latency_ms`` is receipt
minus ``{{timenow}}`` (TradingView's delivery delay), ``bar_latency_ms`` receipt minus ``{{time}}`` (the alert's
bar open time). A signal on a timeframe the server does not serve (1W, 3m...) gets its context on
``FALLBACK_TIMEFRAME``, and says so.
"""

from __future__ import annotations

import math
from typing import Any

from ..errors import InvalidArgument, UnknownExchange, UnknownSymbol, UnsupportedTimeframe
from ..timeframes import timeframe_ms
from .overlay_adapters import overlay_fields

FALLBACK_TIMEFRAME = "1h"
WARMUP_BARS = 300  # RSI parity with TradingView and the overlays' z-score windows need history
PERMANENT_ERRORS = (UnknownSymbol, UnknownExchange, UnsupportedTimeframe, InvalidArgument)
_BAR_FIELDS = ("open", "high", "low", "close", "volume", "open_interest", "open_interest_usd", "funding_rate",
               "funding_interval_hours", "long_short_ratio")


class NoBars(Exception):
    """The source answered but holds no bar at receipt yet (retried later)."""


def _num(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def latency_fields(received_at: int, fired_at: int | None, bar_time: int | None) -> dict[str, int | None]:
    return {
        "latency_ms": received_at - fired_at if fired_at is not None else None,
        "bar_latency_ms": received_at - bar_time if bar_time is not None else None,
    }


def compute_context(market, signal) -> tuple[dict[str, Any], str]:
    """(context, status) with status ``filled`` or ``partial``; raises PERMANENT_ERRORS, NoBars or upstream
    errors (the caller retries those)."""
    timeframe = signal.timeframe or FALLBACK_TIMEFRAME
    step = timeframe_ms(timeframe)
    end = signal.received_at - step
    bars = market.bars(signal.exchange, signal.symbol, timeframe, limit=2, end=end, warmup=WARMUP_BARS)
    frame = bars.frame
    if frame.empty or int(frame["time"].iloc[-1]) != end - end % step:
        raise NoBars(f"no {timeframe} bar at {end - end % step} yet")
    last = frame.iloc[-1]
    context: dict[str, Any] = {"timeframe": timeframe, "bar_time": int(last["time"])}
    if signal.timeframe is None:
        context["timeframe_note"] = f"the alert's interval is not served; context on {FALLBACK_TIMEFRAME}"
    context.update({name: _num(last.get(name)) for name in _BAR_FIELDS})
    values, missing = overlay_fields(frame)
    context.update(values)
    for name in missing:
        context.setdefault(name, None)
    context.update(latency_fields(signal.received_at, signal.fired_at, signal.bar_time))
    if signal.price is not None and context["close"]:
        context["price_vs_close_pct"] = (signal.price / context["close"] - 1) * 100
    freshness = (bars.meta or {}).get("freshness", {})
    context["market"] = {"stale": bool(freshness.get("stale", False)),
                         "warnings": list((bars.meta or {}).get("warnings", []))[:10]}
    context["missing"] = missing
    return context, ("partial" if missing else "filled")
