"""TradingView's names to this server's: exchange, symbol, timeframe, times, action.

TradingView sends ``{{exchange}}`` as ``BINANCE``, ``{{ticker}}`` as ``BTCUSDT.P`` (perpetual) or, in a
``{{exchange}}:{{ticker}}`` template, ``BINANCE:BTCUSDT.P``; ``{{interval}}`` is minutes (``1``, ``60``, ``240``)
or ``1D``/``D``/``1W``/``1M``; ``{{time}}``/``{{timenow}}`` are ``yyyy-MM-ddTHH:mm:ssZ`` (DOMAIN.md section 8).
The server's own names (``binance``, ``sim``, ``BTCUSDT``, ``1h``) pass unchanged.
"""

from __future__ import annotations

import math
import re
from datetime import datetime

from ..timeframes import TIMEFRAMES

KNOWN_ACTIONS = ("buy", "sell", "long", "short", "close", "exit")

_MINUTES = {1: "1m", 5: "5m", 15: "15m", 30: "30m", 60: "1h", 120: "2h", 240: "4h", 360: "6h", 720: "12h",
            1440: "1d"}
_LETTER_INTERVALS = {"D": "1d", "1D": "1d"}
_PERP_SUFFIXES = (".P", "PERP", ".PERP")
_ASCII_DIGITS = re.compile(r"[0-9]+")


def ascii_int(text: str) -> int | None:
    """The number written in ASCII digits, else None: ``str.isdigit()`` is also true of ``"²"``, ``"٦٠"`` or
    ``"６０"``, which ``int()`` then refuses or reads as a number the sender did not type."""
    return int(text) if _ASCII_DIGITS.fullmatch(text) else None


def normalise_exchange(value: str | None) -> str | None:
    if value is None or not str(value).strip():
        return None
    return str(value).strip().lower()


def split_ticker(ticker: str) -> tuple[str | None, str]:
    """``BINANCE:BTCUSDT.P`` -> ("binance", "BTCUSDT"); ``BTCUSDT`` -> (None, "BTCUSDT")."""
    prefix = None
    text = ticker.strip()
    if ":" in text:
        prefix, text = text.split(":", 1)
        prefix = normalise_exchange(prefix)
    return prefix, normalise_symbol(text)


def normalise_symbol(value: str) -> str:
    symbol = value.strip().upper()
    for suffix in _PERP_SUFFIXES:
        if symbol.endswith(suffix) and len(symbol) > len(suffix):
            symbol = symbol[: -len(suffix)]
            break
    return re.sub(r"[/_\-]", "", symbol)


def normalise_interval(value: str | int | float | None) -> str | None:
    """The server timeframe, or None when TradingView's interval has no server equivalent (1W, 3, 1S...)."""
    if value is None:
        return None
    if isinstance(value, float):
        if not value.is_integer():
            return None
        value = int(value)
    text = str(value).strip()
    if text in TIMEFRAMES:
        return text
    minutes = ascii_int(text)
    if minutes is not None:
        return _MINUTES.get(minutes)
    return _LETTER_INTERVALS.get(text.upper() if text.upper() in _LETTER_INTERVALS else text)


def parse_time_ms(value: str | int | float | None) -> int | None:
    """ISO 8601 (``2024-01-01T00:00:00Z``) or epoch seconds / milliseconds -> epoch ms; None if unreadable."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).strip()
        if not text or not text.isascii():  # float() reads "١٧٠٠" too: only ASCII is a time
            return None
        try:
            number = float(text)
        except ValueError:
            try:
                parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                return None
            if parsed.tzinfo is None:
                return None
            return int(parsed.timestamp() * 1000)
    if not math.isfinite(number) or number <= 0:
        return None
    ms = number if number > 1e11 else number * 1000
    if ms > 1e14:  # beyond the year 5138: not a time
        return None
    return int(ms)


def normalise_action(value: str | None) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split()).lower()
    return text[:64] or None
