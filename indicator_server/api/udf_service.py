"""UDF answers built from the market service and the overlay builders (no Flask here).

Each series reuses the builder of its JSON overlay with the JSON endpoint's default parameters, so a UDF bar holds
the value the JSON overlay shows for that bar (candles: ``build_candles``; OI_DELTA: ``build_oi_delta``'s
``delta_usd``; CONFLUENCE / RSI / FUNDING: ``build_confluence``'s ``score`` / ``rsi`` / ``funding_rate`` x 100;
LIQ_LONG / LIQ_SHORT: ``build_liquidations``' ``swept`` long_usd / short_usd).

The liquidation model starts with no open positions at the first bar of its lookback, so the LIQ series run it
over ``liq_warmup_bars`` earlier bars as well (at least 7 days) and keep the page's bars: paging backwards then
joins without a step at each page boundary, and a page equals the JSON overlay asked with ``lookback`` = page +
warm-up bars and the same ``end``.
"""

from __future__ import annotations

from typing import Any

from ..errors import InvalidArgument, UpstreamError
from ..timeframes import DAY_MS, timeframe_ms
from ..udf.bars import MAX_BARS, Window, candle_columns, history_response, keep_window, line_columns
from ..udf.marks import regime_marks, signal_marks
from ..udf.symbols import UdfSymbol, symbol_info
from .liquidations import MAX_LOOKBACK_BARS, build_liquidations
from .overlay_builders import build_candles, build_confluence, build_oi_delta

OI_DELTA_PARAMS = {"zscore_window": 50}  # the JSON endpoint's defaults
CONFLUENCE_PARAMS = {"rsi_length": 14, "clusters": True}
RSI_PARAMS = {"rsi_length": 14, "clusters": False}  # RSI and funding do not depend on the cluster component
LIQ_PARAMS = {"bins": 500, "leverage": None, "include": ["swept"], "heatmap_format": "sparse", "heatmap_rows": 500,
              "max_levels": 500}
_LINE_FIELDS = {"CONFLUENCE": ("score", 1.0), "RSI": ("rsi", 1.0), "FUNDING": ("funding_rate", 100.0)}


def liq_warmup_bars(timeframe: str) -> int:
    """Earlier bars the liquidation model runs over before a page: 7 days, at least 100 bars."""
    return max(100, 7 * DAY_MS // timeframe_ms(timeframe))


def _args(sym: UdfSymbol, timeframe: str, window: Window) -> dict[str, Any]:
    return {"exchange": sym.exchange, "symbol": sym.symbol, "timeframe": timeframe, "limit": window.limit,
            "start": None, "end": window.end}


def _liquidations(market, sym: UdfSymbol, timeframe: str, window: Window) -> dict[str, Any]:
    total = min(window.limit + liq_warmup_bars(timeframe), MAX_LOOKBACK_BARS)
    for _ in range(2):
        args = dict(_args(sym, timeframe, window), limit=total, lookback=str(total))
        try:
            return build_liquidations(market, args, dict(LIQ_PARAMS, lookback=str(total)))
        except InvalidArgument as exc:  # the history starts inside the warm-up: run from its first bar
            first = exc.details.get("first_available")
            if first is None or "requested_bars" not in exc.details:
                break
            _, end_bar = market.resolve_range(timeframe, 1, None, window.end)
            total = (end_bar - int(first)) // timeframe_ms(timeframe) + 1
            if total < 1:
                break
    return {"meta": {"end": None, "freshness": {"stale": False}}, "swept": []}


def series_payload(market, sym: UdfSymbol, timeframe: str, window: Window) -> tuple[dict[str, Any], dict]:
    """(meta of the builder, UDF columns) of the page's bars that have a value."""
    args = _args(sym, timeframe, window)
    if not sym.series:
        payload = build_candles(market, args, {})
        return payload["meta"], candle_columns(payload["series"])
    if sym.series == "OI_DELTA":
        payload = build_oi_delta(market, args, dict(OI_DELTA_PARAMS))
        rows = payload["series"]
        return payload["meta"], line_columns([r["time"] for r in rows], [r["delta_usd"] for r in rows])
    if sym.series in _LINE_FIELDS:
        name, scale = _LINE_FIELDS[sym.series]
        params = dict(CONFLUENCE_PARAMS if sym.series == "CONFLUENCE" else RSI_PARAMS)
        payload = build_confluence(market, args, params)
        rows = payload["series"]
        return payload["meta"], line_columns([r["time"] for r in rows], [r[name] for r in rows], scale)
    payload = _liquidations(market, sym, timeframe, window)
    field = "long_usd" if sym.series == "LIQ_LONG" else "short_usd"
    rows = payload.get("swept") or []
    return payload["meta"], line_columns([r["time"] for r in rows], [r[field] for r in rows])


def _page_bounds(market, timeframe: str, window: Window) -> tuple[int, int]:
    """(first, last) bar open time of the page, ms."""
    return market.resolve_range(timeframe, window.limit, None, window.end)


def next_time(market, sym: UdfSymbol, timeframe: str, before_ms: int) -> int | None:
    """Open time (s) of the latest bar with a value before ``before_ms``, looking back at most MAX_BARS bars:
    None means the history ends there (a longer gap counts as its beginning)."""
    if before_ms <= 0:
        return None
    _, cols = series_payload(market, sym, timeframe, Window(end=before_ms - 1, limit=MAX_BARS))
    earlier = [t for t in cols["t"] if t * 1000 < before_ms]
    return earlier[-1] if earlier else None


def history_payload(market, sym: UdfSymbol, timeframe: str, window: Window | None,
                    empty_before_ms: int | None = None) -> dict[str, Any]:
    """{"meta": builder meta (for the cache), "udf": the /history answer}. ``window`` None: the request's range
    holds no closed bar; ``empty_before_ms`` is then where to look for an earlier one."""
    if window is None:
        udf = history_response({"t": []}, next_time(market, sym, timeframe, empty_before_ms or 0))
        return {"meta": {"end": None, "freshness": {"stale": False}}, "udf": udf}
    first, last = _page_bounds(market, timeframe, window)
    meta, cols = series_payload(market, sym, timeframe, window)
    cols = keep_window(cols, first // 1000, last // 1000)
    nxt = None if cols["t"] else next_time(market, sym, timeframe, first)
    return {"meta": meta, "udf": history_response(cols, nxt)}


def resolve_symbol(market, sym: UdfSymbol) -> dict[str, Any]:
    """Symbol info, after the exchange confirmed the symbol; the price scale follows the last daily close."""
    source = market.source(sym.exchange)
    canonical = market.check_symbol(source, sym.symbol)
    sym = UdfSymbol(source.name, canonical, sym.series)
    last = None
    if not sym.series:
        try:
            frame = market.bars(source.name, canonical, "1d", limit=1).requested
            last = float(frame["close"].iloc[-1]) if len(frame) else None
        except UpstreamError:
            last = None  # the default scale still lets the chart open
    return symbol_info(sym, last_price=last)


def regime_args(market, sym: UdfSymbol, timeframe: str, from_s: int, to_s: int) -> dict[str, Any]:
    """Confluence bars of [from_s, to_s] (the latest MAX_BARS of them) and the one before the first."""
    step = timeframe_ms(timeframe)
    _, last = market.resolve_range(timeframe, 1, None, to_s * 1000)
    bars = max(1, (last - max(0, from_s * 1000)) // step + 1)
    return {"exchange": sym.exchange, "symbol": sym.symbol, "timeframe": timeframe,
            "limit": min(bars, MAX_BARS) + 1, "start": None, "end": to_s * 1000}


def regime_payload(market, args: dict[str, Any], from_s: int, to_s: int) -> dict[str, Any]:
    """Timescale marks of the confluence regime changes in [from_s, to_s] (``regime_args``' bars)."""
    payload = build_confluence(market, args, dict(CONFLUENCE_PARAMS))
    return {"meta": payload["meta"], "udf": regime_marks(payload["series"], from_s, to_s)}


def marks_table(repo, sym: UdfSymbol, from_s: int, to_s: int, *, limit: int = 1000) -> dict[str, list]:
    """Signals of the symbol's exchange and market whose chart time is in [from_s, to_s]."""
    from ..store.signal_repo import SignalFilters

    # a signal arrives after its bar opened: received_at >= bar_time, and within a day or two of it
    filters = SignalFilters(exchange=sym.exchange, symbol=sym.symbol, since=from_s * 1000,
                            until=to_s * 1000 + 2 * DAY_MS)
    return signal_marks(repo.query(filters, limit=limit), from_s, to_s)


def listed_symbols(svc) -> dict[str, list[str]]:
    """Symbols to offer in search, per exchange: what the source lists (the sim), else SIM_SYMBOLS, plus stored."""
    out: dict[str, list[str]] = {}
    for name, source in svc.sources.items():
        symbols = list(getattr(source, "symbols", None) or svc.settings.sim_symbols)
        if name != "sim":
            symbols += [s for s in svc.market_repo.symbols(name) if s not in symbols]
        out[name] = symbols
    return out
