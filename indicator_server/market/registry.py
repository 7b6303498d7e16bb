"""The market data sources this server can offer, built from settings."""

from __future__ import annotations

from ..config import Settings


def build_sources(settings: Settings, *, clock) -> dict:
    from .binance import BinanceSource
    from .sim import SimSource

    return {
        "sim": SimSource(clock=clock, symbols=settings.sim_symbols),
        "binance": BinanceSource(
            settings.binance_base_url,
            connect_timeout=settings.http_connect_timeout,
            read_timeout=settings.http_read_timeout,
            retries=settings.http_retries,
            backoff=settings.http_backoff,
            max_backoff=settings.http_max_backoff,
            clock=clock,
        ),
    }
