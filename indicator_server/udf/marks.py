"""UDF /marks (the signal log on the bars) and /timescale_marks (confluence regime changes on the time axis).

Formats from TradingView's UDF docs: /marks answers a table, ``{"id": [...], "time": [...], "color": [...],
"text": [...], "label": [...], "labelFontColor": [...], "minSize": [...]}``; /timescale_marks answers an array of
``{"id", "time", "color", "label", "tooltip"}`` objects. Times are Unix seconds. The stock adapter
(``udf-compatible-datafeed-base.ts``) accepts both shapes for both calls; these are the documented ones.
"""

from __future__ import annotations

from typing import Any

MARK_COLUMNS = ["id", "time", "color", "text", "label", "labelFontColor", "minSize"]
_ACTION_COLORS = {"buy": "green", "long": "green", "sell": "red", "short": "red", "close": "blue", "exit": "blue"}

REGIME_MARKS = {
    "long_cascade_risk": ("#F23645", "L", "long cascade risk: crowded longs"),
    "short_squeeze_risk": ("#089981", "S", "short squeeze risk: crowded shorts"),
    "neutral": ("#787B86", "N", "back to neutral"),
}


def signal_time_ms(signal: Any) -> int:
    """Where a signal sits on the chart: the alert's bar ({{time}}), else when it fired, else when it arrived."""
    for value in (signal.bar_time, signal.fired_at, signal.received_at):
        if value is not None:
            return int(value)
    return 0


def _signal_text(signal: Any) -> str:
    head = " ".join(str(p) for p in (
        (signal.action or "alert").upper(), signal.symbol, signal.timeframe,
        f"@ {signal.price:g}" if signal.price is not None else None) if p)
    lines = [head]
    if signal.message:
        lines.append(str(signal.message))
    context = signal.context or {}
    if context.get("score") is not None:
        lines.append(f"confluence {context['score']:+.1f} ({context.get('regime') or 'n/a'})")
    if context.get("rsi") is not None:
        lines.append(f"RSI {context['rsi']:.1f}")
    lines.append(f"signal #{signal.id}, {signal.deliveries} deliver{'y' if signal.deliveries == 1 else 'ies'}")
    return "\n".join(lines)


def signal_marks(signals: list[Any], from_s: int, to_s: int) -> dict[str, list]:
    """The marks table of the signals whose chart time is in [from_s, to_s], oldest first."""
    table: dict[str, list] = {k: [] for k in MARK_COLUMNS}
    chosen = [s for s in signals if from_s * 1000 <= signal_time_ms(s) <= to_s * 1000 + 999]
    for signal in sorted(chosen, key=lambda s: (signal_time_ms(s), s.id)):
        action = (signal.action or "").lower()
        table["id"].append(int(signal.id))
        table["time"].append(signal_time_ms(signal) // 1000)
        table["color"].append(_ACTION_COLORS.get(action, "yellow"))
        table["text"].append(_signal_text(signal))
        table["label"].append((action[:1] or "?").upper())
        table["labelFontColor"].append("white")
        table["minSize"].append(14)
    return table


def regime_marks(rows: list[dict[str, Any]], from_s: int, to_s: int) -> list[dict[str, Any]]:
    """A mark at each bar whose confluence regime differs from the bar before (both known), in [from_s, to_s].

    ``rows`` are confluence payload rows (``time`` ms, ``score``, ``regime``, ``reasons``), oldest first; the row
    before the range only serves as the "before" of the first bar."""
    out = []
    for before, row in zip(rows, rows[1:], strict=False):
        regime, previous = row.get("regime"), before.get("regime")
        time_s = int(row["time"]) // 1000
        if regime is None or previous is None or regime == previous or not from_s <= time_s <= to_s:
            continue
        color, label, title = REGIME_MARKS.get(regime, ("#787B86", "?", regime))
        score = row.get("score")
        tooltip = [title, f"score {score:+.1f} (was {previous.replace('_', ' ')})" if score is not None else ""]
        tooltip += [str(r) for r in (row.get("reasons") or [])[:3]]
        out.append({"id": f"regime-{time_s}", "time": time_s, "color": color, "label": label,
                    "tooltip": [t for t in tooltip if t]})
    return out
