"""The objects a running app shares: settings, store, market sources, caches.

``init_app`` builds them once per app and keeps them on ``app.extensions["indicator"]``; views reach them with
``services()``. Nothing here is a module-level singleton, so tests can build many apps side by side.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app

from .cache import make_cache
from .config import Settings
from .market.registry import build_sources
from .market.service import MarketService
from .store.db import Database
from .store.market_repo import MarketRepository


@dataclass
class Services:
    settings: Settings
    db: Database
    market_repo: MarketRepository
    sources: dict[str, Any]
    market: MarketService
    cache: Any
    clock: Callable[[], float]
    extras: dict[str, Any] = field(default_factory=dict)


def build_services(
    settings: Settings, *, sources: Mapping[str, Any] | None = None, clock: Callable[[], float] | None = None
) -> Services:
    clock = clock or time.time
    db = Database(settings.database_url)
    db.create_schema()
    repo = MarketRepository(db)
    all_sources = build_sources(settings, clock=clock, skip=tuple(sources or ()))
    all_sources.update(sources or {})
    market = MarketService(settings, all_sources, repo, clock=clock)
    cache = make_cache(settings)
    market.share_breakers(cache)  # an exchange found down by one worker is not waited on by the others
    return Services(
        settings=settings,
        db=db,
        market_repo=repo,
        sources=all_sources,
        market=market,
        cache=cache,
        clock=clock,
    )


def init_app(
    app: Flask,
    settings: Settings,
    *,
    sources: Mapping[str, Any] | None = None,
    clock: Callable[[], float] | None = None,
) -> Services:
    svc = build_services(settings, sources=sources, clock=clock)
    app.extensions["indicator"] = svc
    return svc


def services() -> Services:
    return current_app.extensions["indicator"]
