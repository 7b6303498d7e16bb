"""Pine Script v6 generated from a liquidation estimate: the server's clusters (boxes), max-pain prices (dashed
lines with labels) and strongest open levels (lines), at their prices, with a header saying from which data and
model it was made and until when it is current.

Pine cannot fetch data (DOMAIN.md section 8), so the numbers are baked into the script. Pure: no Flask.
The text is a function of the data only (no wall-clock time), so every worker generates the same bytes and the
ETag is stable; "generated for" is the close of the last bar the data holds.

Pine facts relied on (TradingView Pine Script v6 reference manual): ``indicator(max_lines_count, max_boxes_count,
max_labels_count)`` at most 500 each; ``xloc.bar_time`` places drawings by UNIX time in ms, past or future;
string literals escape ``\\`` and ``"`` with a backslash and support ``\\n``; comments run to the end of the line.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

PINE_MAX_DRAWINGS = 500
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


def pine_string(text: str) -> str:
    """A Pine string literal: backslash and quotes escaped, newlines as \\n, other control characters dropped."""
    text = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\r\n", "\n").replace("\n", "\\n")
    return '"' + _CONTROL.sub("", text) + '"'


def comment_text(text: str) -> str:
    """Text safe inside a // comment: no line breaks (they would end the comment and inject code)."""
    return _CONTROL.sub(" ", str(text))


def pine_float(value: float, decimals: int = 8) -> str:
    if value is None or not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    text = f"{value:.{max(1, decimals)}f}".rstrip("0")  # at least one decimal: a float literal
    return text + "0" if text.endswith(".") else text


def _utc(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(int(ms) / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def _usd(usd: float) -> str:
    a = abs(usd)
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if a >= size:
            return f"${usd / size:.2f}{unit}"
    return f"${usd:.0f}"


def _price_decimals(price: float | None) -> int:
    """Decimals written: 2 at 100,000 and above, more for smaller prices (8 significant figures or so)."""
    if price is None or not math.isfinite(price) or price <= 0:
        return 2
    return int(min(10, max(2, 7 - math.floor(math.log10(price)))))


def header_lines(meta: dict[str, Any], counts: dict[str, int], current_until: int, generator: str) -> list[str]:
    fresh = meta.get("freshness") or {}
    model = meta.get("model") or {}
    params = meta.get("parameters") or {}
    request = ", ".join(f"{k} {'all' if v is None else ','.join(map(str, v)) if isinstance(v, list) else v}"
                        for k, v in params.items())
    lines = [
        f"Liquidation levels for {meta.get('symbol')} {meta.get('timeframe')} on {meta.get('exchange')}, generated "
        f"by {generator}",
        f"Generated for: the bar closing {_utc(fresh.get('last_bar_close'))} ({fresh.get('last_bar_close')} ms); "
        "the text depends on the data only, not on the clock",
        f"Data:          exchange {meta.get('exchange')}, symbol {meta.get('symbol')}, timeframe "
        f"{meta.get('timeframe')}, {meta.get('bars')} bars opening {_utc(meta.get('start'))} .. "
        f"{_utc(meta.get('end'))}",
        f"Freshness:     last bar close {_utc(fresh.get('last_bar_close'))}, source {fresh.get('source')}, "
        f"stale {str(bool(fresh.get('stale'))).lower()}",
        f"Model:         {model.get('name')} {model.get('version')} (an estimate: no exchange publishes positions)",
    ]
    lines += [f"  {key} = {_compact(value)}" for key, value in (model.get("params") or {}).items()]
    lines += [
        f"Request:       {request}",
        f"Current until: {_utc(current_until)} ({current_until} ms), the next bar close; fetch the script again then",
        f"Draws:         {counts['boxes']} cluster boxes, {counts['lines']} lines, {counts['labels']} labels "
        f"(Pine allows {PINE_MAX_DRAWINGS} of each)",
    ]
    lines += [f"Warning:       {w}" for w in meta.get("warnings") or []]
    out = []
    for line in lines:  # lint-clean: no line over 120 characters
        out += textwrap.wrap(comment_text(line), 116, initial_indent="// ", subsequent_indent="//                ",
                             break_on_hyphens=False) or ["//"]
    return out


def _compact(value: Any) -> str:
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return "; ".join(",".join(f"{k}={v}" for k, v in item.items()) for item in value)
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def _call(name: str, args: Iterable[str]) -> list[str]:
    """A call wrapped over lines (continuations indented 6 spaces: not a multiple of 4, as Pine requires)."""
    args = list(args)
    lines, current = [], f"{name}("
    for i, arg in enumerate(args):
        piece = arg + (", " if i < len(args) - 1 else ")")
        if len(current) + len(piece) > 110 and current.strip() != f"{name}(":
            lines.append(current.rstrip())
            current = "      "
        current += piece
    lines.append(current)
    return lines


def _block(indent: str, lines: list[str]) -> list[str]:
    return [indent + line for line in lines]


def generate_pine(meta: dict[str, Any], result, levels: list[dict[str, Any]], *, max_clusters: int = 20,
                  generator: str = "indicator-server") -> str:
    """The script for ``meta`` (the liquidations endpoint's meta), ``result`` (a ``LiquidationResult`` with
    clusters and max pain) and ``levels`` (open levels, largest first: ``payload.active_levels``)."""
    fresh = meta.get("freshness") or {}
    step = int(fresh["last_bar_close"]) - int(meta["end"]) if fresh.get("last_bar_close") and meta.get("end") else 0
    current_until = int(fresh.get("last_bar_close") or 0) + step
    start = int(meta.get("start") or current_until)
    decimals = _price_decimals(result.price)
    clusters = list(result.clusters or [])[:max_clusters]
    pains = [(side, p) for side, p in sorted((result.max_pain or {}).items()) if p]
    counts = {"boxes": len(clusters), "lines": len(levels) + len(pains), "labels": len(pains)}
    if max(counts.values()) > PINE_MAX_DRAWINGS:
        raise ValueError(f"too many drawings for Pine: {counts}")
    symbol, tf, exchange = (str(meta.get(k, "")) for k in ("symbol", "timeframe", "exchange"))
    model = meta.get("model") or {}
    title = f"Liquidations {symbol} {tf} ({exchange}, {model.get('name')} {model.get('version')})"
    out = ["//@version=6", *header_lines(meta, counts, current_until, generator)]
    out += _call("indicator", [pine_string(title), f"shorttitle={pine_string('Liq ' + symbol)}", "overlay=true",
                               "max_lines_count=500", "max_boxes_count=500", "max_labels_count=500"])
    out += [
        "",
        'showClusters = input.bool(true, "Clusters", group="Show")',
        'showMaxPain = input.bool(true, "Max pain", group="Show")',
        'showLevels = input.bool(true, "Strongest levels", group="Show")',
        'longColor = input.color(#F23645, "Long liquidations (below price)", group="Colours")',
        'shortColor = input.color(#089981, "Short liquidations (above price)", group="Colours")',
        "",
        f"SYMBOL = {pine_string(symbol)}",
        f"GENERATED_FOR = {int(fresh.get('last_bar_close') or 0)}",
        f"CURRENT_UNTIL = {current_until}",
        f"WINDOW_START = {start}",
    ]
    body: list[str] = []
    if clusters:
        body.append("if showClusters")
        for c in clusters:
            color = "longColor" if c["side"] == "long" else "shortColor"
            text = f"{c['side']} cluster {_usd(c['notional_usd'])} ({c['distance_pct']:.2f}%)"
            body += _block("    ", _call("box.new", [
                str(start), pine_float(c["price_high"], decimals), str(current_until),
                pine_float(c["price_low"], decimals), "xloc=xloc.bar_time", "extend=extend.right",
                f"border_color=color.new({color}, 60)", f"bgcolor=color.new({color}, 85)", f"text={pine_string(text)}",
                "text_size=size.small", f"text_color={color}", "text_halign=text.align_right"]))
    if pains:
        body.append("if showMaxPain")
        for side, p in pains:
            color = "longColor" if side == "long" else "shortColor"
            text = f"max pain {side} {p['price']:,.{decimals}f}\n{_usd(p['notional_usd'])} liquidated on the way"
            y = pine_float(p["price"], decimals)
            body += _block("    ", _call("line.new", [
                str(start), y, str(current_until), y, "xloc=xloc.bar_time", "extend=extend.both", f"color={color}",
                "style=line.style_dashed", "width=2"]))
            body += _block("    ", _call("label.new", [
                str(current_until), y, pine_string(text), "xloc=xloc.bar_time", "style=label.style_label_left",
                f"color=color.new({color}, 20)", "textcolor=color.white", "size=size.small"]))
    if levels:
        body.append("if showLevels")
        for rank, lv in enumerate(levels):
            color = "longColor" if lv["side"] == "long" else "shortColor"
            y = pine_float(lv["price"], decimals)
            body += _block("    ", _call("line.new", [
                str(int(lv["opened_at"])), y, str(current_until), y, "xloc=xloc.bar_time", "extend=extend.right",
                f"color=color.new({color}, {30 if rank < 10 else 60})", f"width={2 if rank < 5 else 1}"]))
    out += ["", "if barstate.isfirst", *_block("    ", body)] if body else ["", "// nothing to draw"]
    caption = f"{exchange} {symbol} {tf} · {model.get('name')} {model.get('version')}"
    out += [
        "",
        "var table info = table.new(position.top_right, 1, 2, bgcolor=color.new(color.black, 20))",
        "if barstate.islast",
        "    stale = timenow > CURRENT_UNTIL",
        '    other = not str.contains(syminfo.ticker, SYMBOL)',
        *_block("    ", _call("table.cell", ["info", "0", "0", f"{pine_string(caption)} + (other ? "
                                                                   '" (drawn for " + SYMBOL + ")" : "")',
                                 "text_color=color.white", "text_size=size.small"])),
        '    until = str.format_time(CURRENT_UNTIL, "yyyy-MM-dd HH:mm", "UTC") + " UTC"',
        '    table.cell(info, 0, 1, stale ? "out of date since " + until + ": fetch again" : "current until " + until,',
        "      text_color=stale ? color.orange : color.silver, text_size=size.small)",
        'plot(na, "liquidation levels", display=display.none)',
        "",
    ]
    return "\n".join(out)
