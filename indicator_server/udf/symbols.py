"""UDF symbols: names, resolutions and the symbol info the Charting Library reads.

A candle symbol is ``EXCHANGE:SYMBOL`` (``SIM:BTCUSDT``, ``BINANCE:BTCUSDT``; a bare ``BTCUSDT`` is the default
exchange). Each overlay series is a symbol of its own, ``EXCHANGE:SYMBOL:SERIES`` (``SIM:BTCUSDT:RSI``), whose bars
hold one value per closed bar as o = h = l = c (``SERIES`` says which value).

Field names and meanings follow TradingView's UDF and symbology docs ("UDF", "Symbology", ``LibrarySymbolInfo``;
charting-library-docs/latest/connecting_data/UDF) and the stock adapter ``udf-compatible-datafeed-base.ts``,
which reads ``name``, ``ticker``, ``exchange``, ``listed_exchange``, ``has_intraday``, ``supported_resolutions``,
``intraday_multipliers``, ``pricescale``, ``minmov``, ``volume_precision``, ``format`` as given here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidArgument, UnsupportedTimeframe

# UDF resolution -> the server's timeframe (indicator_server.timeframes.TIMEFRAMES). "D" is the older spelling of 1D.
RESOLUTIONS: dict[str, str] = {
    "1": "1m",
    "5": "5m",
    "15": "15m",
    "30": "30m",
    "60": "1h",
    "120": "2h",
    "240": "4h",
    "360": "6h",
    "720": "12h",
    "1D": "1d",
}
_ALIASES = {"D": "1D", "1d": "1D"}
SUPPORTED_RESOLUTIONS = list(RESOLUTIONS)
INTRADAY_MULTIPLIERS = [r for r in RESOLUTIONS if r != "1D"]


@dataclass(frozen=True)
class Series:
    """What the bars of one symbol kind hold, and how the chart should format them."""

    name: str
    description: str
    type: str
    format: str  # "price" or "volume" (volume format abbreviates 12.3M)
    pricescale: int | None  # None: derived from the price (candles)
    has_volume: bool


CANDLES = Series("", "{symbol} perpetual on {exchange}: closed OHLCV bars", "crypto", "price", None, True)
SERIES: dict[str, Series] = {
    "OI_DELTA": Series("OI_DELTA", "{symbol} open-interest change per bar in USD (coins x close) on {exchange}",
                       "indicator", "volume", 1, False),
    "CONFLUENCE": Series("CONFLUENCE", "{symbol} confluence score -100..100 on {exchange} (below -35 long cascade "
                         "risk, above +35 short squeeze risk)", "indicator", "price", 100, False),
    "RSI": Series("RSI", "{symbol} RSI(14) on {exchange}, equal to TradingView's ta.rsi(close, 14)",
                  "indicator", "price", 100, False),
    "FUNDING": Series("FUNDING", "{symbol} funding rate in force at the bar's close on {exchange}, "
                      "% per funding interval", "indicator", "price", 100_000, False),
    "LIQ_LONG": Series("LIQ_LONG", "{symbol} modelled long liquidations swept in the bar on {exchange}, USD",
                       "indicator", "volume", 1, False),
    "LIQ_SHORT": Series("LIQ_SHORT", "{symbol} modelled short liquidations swept in the bar on {exchange}, USD",
                        "indicator", "volume", 1, False),
}


@dataclass(frozen=True)
class UdfSymbol:
    exchange: str  # the server's exchange name, lower case (sim, binance)
    symbol: str  # BTCUSDT
    series: str  # "" for candles, else a key of SERIES

    @property
    def kind(self) -> Series:
        return SERIES[self.series] if self.series else CANDLES

    @property
    def ticker(self) -> str:
        return format_ticker(self.exchange, self.symbol, self.series)


def format_ticker(exchange: str, symbol: str, series: str = "") -> str:
    parts = [exchange.upper(), symbol.upper()] + ([series] if series else [])
    return ":".join(parts)


def parse_symbol(text: str | None, exchanges: list[str] | tuple[str, ...], default_exchange: str) -> UdfSymbol:
    """``SIM:BTCUSDT``, ``BTCUSDT`` (default exchange), ``SIM:BTCUSDT:RSI`` or ``BTCUSDT:RSI``, any case.

    Only the shape is checked here; whether the exchange lists the symbol is the market service's call."""
    raw = (text or "").strip()
    if not raw:
        raise InvalidArgument("symbol is required", details={"field": "symbol"})
    parts = [p.strip().upper() for p in raw.split(":")]
    known = {e.upper() for e in exchanges}
    if len(parts) == 3:
        exchange, symbol, series = parts
    elif len(parts) == 2 and parts[1] in SERIES and parts[0] not in known:
        exchange, symbol, series = default_exchange.upper(), parts[0], parts[1]
    elif len(parts) == 2:
        exchange, symbol, series = parts[0], parts[1], ""
    elif len(parts) == 1:
        exchange, symbol, series = default_exchange.upper(), parts[0], ""
    else:
        raise InvalidArgument(f"symbol {raw!r} is not EXCHANGE:SYMBOL or EXCHANGE:SYMBOL:SERIES",
                              details={"symbol": raw})
    if series and series not in SERIES:
        raise InvalidArgument(f"unknown series {series!r}; choose from {', '.join(SERIES)}",
                              details={"symbol": raw, "series": list(SERIES)})
    if not symbol:
        raise InvalidArgument("symbol is required", details={"field": "symbol"})
    return UdfSymbol(exchange=exchange.lower(), symbol=symbol, series=series)


def timeframe_for(resolution: str | None) -> str:
    """UDF resolution (``60``, ``1D``) -> server timeframe (``1h``, ``1d``); others are unsupported."""
    key = (resolution or "").strip()
    key = _ALIASES.get(key, key)
    try:
        return RESOLUTIONS[key]
    except KeyError:
        raise UnsupportedTimeframe(
            f"resolution {resolution!r} is not supported; use one of {' '.join(SUPPORTED_RESOLUTIONS)}",
            details={"resolution": resolution, "supported": SUPPORTED_RESOLUTIONS},
        ) from None


def price_decimals(price: float | None) -> int:
    """Decimals showing six significant digits of ``price`` (71472.1 -> 1, 2608.82 -> 2, 0.5123 -> 6)."""
    if price is None or not math.isfinite(price) or price <= 0:
        return 2
    return int(min(8, max(0, 5 - math.floor(math.log10(price)))))


def symbol_info(sym: UdfSymbol, *, last_price: float | None = None) -> dict[str, Any]:
    """The /symbols answer (``LibrarySymbolInfo`` fields) for a symbol whose exchange serves it."""
    kind = sym.kind
    pricescale = kind.pricescale or 10 ** price_decimals(last_price)
    name = sym.symbol + (f":{sym.series}" if sym.series else "")
    return {
        "name": name,
        "ticker": sym.ticker,
        "full_name": sym.ticker,
        "description": kind.description.format(symbol=sym.symbol, exchange=sym.exchange),
        "type": kind.type,
        "exchange": sym.exchange.upper(),
        "listed_exchange": sym.exchange.upper(),
        "session": "24x7",
        "timezone": "Etc/UTC",
        "format": kind.format,
        "pricescale": pricescale,
        "minmov": 1,
        "has_intraday": True,
        "intraday_multipliers": INTRADAY_MULTIPLIERS,
        "has_daily": True,
        "has_weekly_and_monthly": False,
        "has_empty_bars": False,
        "has_no_volume": not kind.has_volume,
        "visible_plots_set": "ohlcv" if kind.has_volume else "ohlc",
        "volume_precision": 3 if kind.has_volume else 0,
        "supported_resolutions": SUPPORTED_RESOLUTIONS,
        # only closed bars are served: the newest bar appears when it closes, up to one bar late
        "data_status": "delayed_streaming",
    }


def search_items(listed: dict[str, list[str]], query: str, *, type_: str = "", exchange: str = "",
                 limit: int = 30) -> list[dict[str, Any]]:
    """/search answer: every listed candle symbol and its overlay series matching ``query`` (substring, any case).

    ``listed`` maps exchange name -> symbols; ``exchange`` and ``type_`` filter as the Charting Library's search
    dialog sends them ("" = all)."""
    needle = (query or "").strip().upper()
    out: list[dict[str, Any]] = []
    for exch, symbols in listed.items():
        if exchange and exchange.upper() != exch.upper():
            continue
        for symbol in symbols:
            for series in ("", *SERIES):
                sym = UdfSymbol(exch, symbol, series)
                kind = sym.kind
                if type_ and type_ != kind.type:
                    continue
                if needle and needle not in sym.ticker:
                    continue
                out.append({
                    "symbol": sym.symbol + (f":{series}" if series else ""),
                    "full_name": sym.ticker,
                    "description": kind.description.format(symbol=symbol, exchange=exch),
                    "exchange": exch.upper(),
                    "ticker": sym.ticker,
                    "type": kind.type,
                })
                if len(out) >= limit:
                    return out
    return out
