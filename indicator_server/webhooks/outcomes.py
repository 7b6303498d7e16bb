"""Follow-up outcome of a signal: the price change N bars after the bar at receipt (N from SIGNAL_OUTCOME_BARS).

With ``t0`` the open time and ``c0`` the close of the bar at receipt (the context's ``bar_time`` and ``close``),
outcome N is the close ``cN`` of the bar opening at ``t0 + N * step`` (it closes at ``t0 + (N + 1) * step``):
``change_pct = 100 * (cN / c0 - 1)``; ``signed_change_pct`` is the same for buy/long and its negative for
sell/short (positive = the alert was right), None for other actions. A bar still missing ``GIVE_UP_MS`` after
it closed is recorded as unavailable.
"""

from __future__ import annotations

import math
from typing import Any

from .normalise import ascii_int

LONG_ACTIONS = ("buy", "long")
SHORT_ACTIONS = ("sell", "short")
GIVE_UP_MS = 24 * 3600 * 1000


def parse_outcome_bars(values) -> list[int]:
    """SIGNAL_OUTCOME_BARS as positive ints; anything but ASCII digits (``"²"`` too) is ignored."""
    numbers = (ascii_int(str(v).strip()) for v in values)
    out = sorted({n for n in numbers if n})
    return out or [1]


def due_time(t0: int, step: int, n: int) -> int:
    """When the bar ``n`` bars after the receipt bar closes."""
    return t0 + (n + 1) * step


def next_due(outcome: dict[str, Any], t0: int, step: int, bars: list[int]) -> int | None:
    pending = [due_time(t0, step, n) for n in bars if str(n) not in outcome]
    return min(pending) if pending else None


def direction(action: str | None) -> int | None:
    if action in LONG_ACTIONS:
        return 1
    if action in SHORT_ACTIONS:
        return -1
    return None


def fill_outcome(outcome: dict[str, Any], closes: dict[int, float], *, t0: int, step: int, c0: float,
                 action: str | None, bars: list[int], now_ms: int) -> dict[str, Any]:
    """Add every N whose bar has closed (``closes`` maps bar open time -> close) to a copy of ``outcome``."""
    out = dict(outcome)
    sign = direction(action)
    for n in bars:
        key = str(n)
        if key in out or due_time(t0, step, n) > now_ms:
            continue
        time = t0 + n * step
        close = closes.get(time)
        if close is None or not math.isfinite(close) or not c0:
            if now_ms - due_time(t0, step, n) > GIVE_UP_MS:
                out[key] = {"bar_time": time, "close": None, "change_pct": None, "signed_change_pct": None,
                            "unavailable": True}
            continue
        change = (close / c0 - 1) * 100
        out[key] = {"bar_time": time, "close": close, "change_pct": change,
                    "signed_change_pct": change * sign if sign is not None else None}
    return out
