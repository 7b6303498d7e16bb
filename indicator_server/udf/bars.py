"""UDF /history: which bars a request asks for, the bar columns of each series, and the response table.

From TradingView's UDF docs ("Bars"): ``from`` is the leftmost required bar (included), ``to`` the rightmost (not
included), both Unix seconds; ``countback`` is the number of bars ending before ``to`` and has priority over
``from`` ("if countback is set, from should be ignored"). The answer is ``{"s": "ok", "t", "o", "h", "l", "c",
"v"}`` with times in seconds, ascending, or ``{"s": "no_data", "nextTime"}`` where nextTime is "the time of the
closest available bar in the past" (seconds, like ``t``); a ``no_data`` without nextTime tells the library the
history ends there. The stock adapter (``history-provider.ts``) multiplies ``t`` by 1000 and hands nextTime over
as is; with ``limitedServerResponse = {maxResponseLength, expectedOrder: "latestFirst"}`` it re-asks with
``to`` = its earliest bar while a page is full, so a page that is cut keeps the latest bars.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

# The overlays' own limit (overlay_schemas.MAX_LIMIT): one /history page holds at most this many bars.
MAX_BARS = 5000


@dataclass(frozen=True)
class Window:
    """The bars of one page: ``limit`` bars ending at the bar that contains ``end`` (ms, included)."""

    end: int
    limit: int


def plan_window(step_ms: int, last_closed_ms: int, *, from_s: int | None, to_s: int,
                countback: int | None) -> Window | None:
    """The page a request asks for, capped at MAX_BARS latest bars; None when [from, to) holds no closed bar."""
    to_ms = int(to_s) * 1000
    if to_ms <= 0:
        return None
    end = to_ms - 1  # "to" is not included
    if countback is not None:
        return Window(end=end, limit=min(int(countback), MAX_BARS))
    end_bar = min(end - end % step_ms, last_closed_ms)
    from_ms = max(0, int(from_s or 0) * 1000)
    first_bar = -(-from_ms // step_ms) * step_ms
    bars = (end_bar - first_bar) // step_ms + 1
    if bars <= 0:
        return None
    return Window(end=end, limit=min(bars, MAX_BARS))


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def candle_columns(rows: list[dict[str, Any]]) -> dict[str, list]:
    """Candle payload rows (``time`` ms, open, high, low, close, volume) -> UDF columns; incomplete bars dropped."""
    cols: dict[str, list] = {"t": [], "o": [], "h": [], "l": [], "c": [], "v": []}
    for row in rows:
        values = [_number(row.get(k)) for k in ("open", "high", "low", "close")]
        if any(v is None for v in values):
            continue
        cols["t"].append(int(row["time"]) // 1000)
        for key, value in zip("ohlc", values, strict=True):
            cols[key].append(value)
        cols["v"].append(_number(row.get("volume")) or 0.0)
    return cols


def line_columns(times_ms: list[int], values: list[Any], scale: float = 1.0) -> dict[str, list]:
    """One value per bar as o = h = l = c; bars without a value (warm-up, missing data) are left out, since UDF
    columns hold numbers only (the adapter parseFloat()s each one)."""
    cols: dict[str, list] = {"t": [], "o": [], "h": [], "l": [], "c": []}
    for time_ms, value in zip(times_ms, values, strict=True):
        number = _number(value)
        if number is None:
            continue
        number *= scale
        cols["t"].append(int(time_ms) // 1000)
        for key in "ohlc":
            cols[key].append(number)
    return cols


def keep_window(cols: dict[str, list], first_s: int, end_s: int) -> dict[str, list]:
    """Only the bars with first_s <= t <= end_s (the builders may return earlier warm-up bars)."""
    keep = [i for i, t in enumerate(cols["t"]) if first_s <= t <= end_s]
    return {k: [v[i] for i in keep] for k, v in cols.items()}


def history_response(cols: dict[str, list], next_time_s: int | None) -> dict[str, Any]:
    """``{"s": "ok", t, o, h, l, c[, v]}``, or ``no_data`` (with nextTime when earlier bars exist)."""
    if cols["t"]:
        return {"s": "ok", **cols}
    if next_time_s is None:
        return {"s": "no_data"}
    return {"s": "no_data", "nextTime": int(next_time_s)}
