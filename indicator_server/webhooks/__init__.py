"""TradingView webhook receiver and signal log: parsing, auth, rate limit, idempotent storage, context filler.

``init_app(app)`` (called by the app factory after the services exist) builds the receiver, and starts the
context filler thread when CONTEXT_WORKER is on; ``fill_pending(app)`` runs the filler synchronously (tests,
``CONTEXT_WORKER=false`` deployments driving it from a cron). Under gunicorn, build the app in each worker
(no ``--preload``): a thread started before the fork would not survive it.
"""

from __future__ import annotations

import atexit
from dataclasses import dataclass
from typing import Any

from flask import Flask

from ..market.sim import SimSource
from ..store.signal_repo import SignalRepository
from .metrics import WebhookMetrics
from .ratelimit import make_rate_limiter
from .receiver import Receiver
from .redact import install_log_redaction
from .worker import ContextFiller, FillerThread


@dataclass
class Webhooks:
    settings: Any
    repo: SignalRepository
    receiver: Receiver
    metrics: WebhookMetrics
    filler: ContextFiller
    thread: FillerThread | None = None

    def close(self) -> None:
        if self.thread is not None:
            self.thread.stop()
        self.receiver.close()


class _LiveMarket:
    """Reads ``services().market`` at call time, so tests may swap the market service after the app is built."""

    def __init__(self, svc) -> None:
        self.svc = svc

    def bars(self, *args, **kwargs):
        return self.svc.market.bars(*args, **kwargs)


def _local_symbol_checks(sources) -> dict:
    """Sources whose symbol check is a rule computed in this process (the sim: its names and ``*USDT``), so the
    receiver may answer 404 for an unknown symbol without waiting; every other source's check may call the
    exchange, and is left to the context filler."""
    return {name: source.check_symbol for name, source in sources.items() if isinstance(source, SimSource)}


def init_app(app: Flask) -> Webhooks:
    from ..store import signals  # noqa: F401 - the signal model joins Base.metadata

    svc = app.extensions["indicator"]
    settings = svc.settings
    install_log_redaction(settings.webhook_secrets)  # no token of a URL reaches any log line of this process
    repo = SignalRepository(svc.db)
    metrics = WebhookMetrics()
    limiter = make_rate_limiter(settings.webhook_rate_limit, settings.cache_url, clock=svc.clock)
    receiver = Receiver(settings=settings, repo=repo, sources=svc.sources, limiter=limiter, metrics=metrics,
                        clock=svc.clock, local_checks=_local_symbol_checks(svc.sources))
    filler = ContextFiller(repo=repo, market=_LiveMarket(svc), settings=settings, clock=svc.clock)
    hooks = Webhooks(settings=settings, repo=repo, receiver=receiver, metrics=metrics, filler=filler)
    if settings.context_workers:
        hooks.thread = FillerThread(app, filler)
        receiver.notify = hooks.thread.wake
        hooks.thread.start()
    atexit.register(hooks.close)
    svc.extras["webhooks"] = hooks
    return hooks


def get_webhooks(app: Flask) -> Webhooks:
    return app.extensions["indicator"].extras["webhooks"]


def fill_pending(app: Flask, *, max_rounds: int = 100) -> int:
    """Run the filler until nothing is due (bounded); returns how many rows it processed."""
    hooks = get_webhooks(app)
    total = 0
    with app.app_context():
        for _ in range(max_rounds):
            processed = hooks.filler.run_due()
            total += processed
            if not processed:
                break
    return total
