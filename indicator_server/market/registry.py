"""The market data sources this server can offer, built from settings."""

from __future__ import annotations

from ..config import Settings
from ..errors import UnknownExchange


def _sim(settings: Settings, clock):
    from .sim import SimSource

    return SimSource(clock=clock, symbols=settings.sim_symbols)


def _binance(settings: Settings, clock):
    from .binance import BinanceSource

    return BinanceSource(
        settings.binance_base_url,
        connect_timeout=settings.http_connect_timeout,
        read_timeout=settings.http_read_timeout,
        retries=settings.http_retries,
        backoff=settings.http_backoff,
        max_backoff=settings.http_max_backoff,
        clock=clock,
    )


FACTORIES = {"sim": _sim, "binance": _binance}


def build_sources(settings: Settings, *, clock, skip=()) -> dict:
    """One source per name in ``settings.exchanges`` (except those in ``skip``, which the caller supplies)."""
    sources = {}
    for name in settings.exchanges:
        if name in skip:
            continue
        if name not in FACTORIES:
            raise UnknownExchange(f"EXCHANGES names {name!r}; known: {', '.join(FACTORIES)}")
        sources[name] = FACTORIES[name](settings, clock)
    return sources
