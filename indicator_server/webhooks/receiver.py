"""The receiver: admit, parse, authenticate, validate, normalise and store one alert.

It never waits for market data and asks no exchange anything: it refuses an exchange it does not serve and a
ticker that cannot be a symbol name (404 ``unknown_symbol``); a source whose symbol check is a rule computed
here (``local_checks``: the sim) answers at once, and for the others (Binance) whether the symbol exists is left
to the context filler, which marks such a signal ``context_status: failed`` with the exchange's answer in
``context.error`` (a symbol check on an unreachable Binance held every ack up to 0.5 s). Every rejection is an
``ApiError`` (a 4xx) raised before anything is written.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from marshmallow import ValidationError

from ..api.signal_schemas import TradingViewAlertSchema
from ..errors import InvalidArgument, PayloadTooLarge, UnknownExchange, UnknownSymbol
from ..store.signal_repo import SignalRepository
from .auth import AddressPolicy, check_secret
from .normalise import (
    KNOWN_ACTIONS,
    normalise_action,
    normalise_exchange,
    normalise_interval,
    parse_time_ms,
    split_ticker,
)
from .parsing import SECRET_KEYS, ParsedBody, parse_body

log = logging.getLogger(__name__)
_SYMBOL = re.compile(r"^[A-Z0-9]{2,30}$")
_ALERT_SCHEMA = TradingViewAlertSchema()


class Receiver:
    def __init__(self, *, settings, repo: SignalRepository, sources: Mapping[str, Any], limiter,
                 metrics, clock: Callable[[], float], notify: Callable[[], None] = lambda: None,
                 local_checks: Mapping[str, Callable[[str], str]] | None = None) -> None:
        self.settings = settings
        self.repo = repo
        self.sources = sources
        # exchange -> a symbol check that does no I/O (canonical symbol, or raises UnknownSymbol)
        self.local_checks = dict(local_checks or {})
        self.limiter = limiter
        self.metrics = metrics
        self.clock = clock
        self.notify = notify
        self.policy = AddressPolicy(settings.webhook_allowed_ips, settings.trusted_proxies)

    # -- before the body is read ------------------------------------------------------------------------------
    def admit(self, address: str, content_length: int | None) -> None:
        self.policy.check(address)
        self.limiter.hit(address)
        if content_length is not None and content_length > self.settings.webhook_max_body:
            raise self.too_large()

    def too_large(self) -> PayloadTooLarge:
        limit = self.settings.webhook_max_body
        return PayloadTooLarge(f"alert bodies are limited to {limit} bytes", details={"limit": limit})

    # -- the body ---------------------------------------------------------------------------------------------
    def receive(self, raw: bytes, *, token: str | None, address: str) -> tuple[int, bool]:
        if len(raw) > self.settings.webhook_max_body:
            raise self.too_large()
        parsed = parse_body(raw)
        check_secret(parsed.fields.get("secret"), token, self.settings.webhook_secrets)
        values = self._columns(parsed)
        values["source_ip"] = address[:64]
        now_ms = int(self.clock() * 1000)
        signal_id, duplicate = self.repo.record(values, now_ms=now_ms,
                                                window_ms=self.settings.webhook_dedup_window * 1000)
        if not duplicate:
            self.notify()
        return signal_id, duplicate

    def _columns(self, parsed: ParsedBody) -> dict[str, Any]:
        try:
            alert = _ALERT_SCHEMA.load(parsed.fields)
        except ValidationError as exc:
            raise InvalidArgument("the alert has fields of the wrong type: " + ", ".join(sorted(
                str(k) for k in exc.messages)), details={"fields": exc.messages}) from None
        exchange, symbol = self._market(alert.get("exchange"), alert.get("ticker"))
        strategy = alert.get("strategy") or {}
        order = strategy.get("order") or {}
        action = normalise_action(alert.get("action") or order.get("action"))
        price = next((p for p in (alert.get("price"), alert.get("close"), order.get("price")) if p is not None),
                     None)
        alert_id = alert.get("id") or None
        payload = {k: v for k, v in parsed.fields.items() if k not in SECRET_KEYS}
        message = alert.get("message")
        return {
            "exchange": exchange,
            "symbol": symbol,
            "timeframe": normalise_interval(alert.get("interval")),
            "action": action,
            "price": price,
            "bar_time": parse_time_ms(alert.get("time")),
            "fired_at": parse_time_ms(alert.get("timenow")),
            "alert_id": alert_id,
            "message": message,
            "payload": payload,
            "raw_body": parsed.raw_text,
            "content_type": parsed.kind,
            "dedup_key": hashlib.sha256(b"id:" + alert_id.encode()).hexdigest() if alert_id else None,
            "content_hash": parsed.content_hash(),
            "context_status": "pending" if symbol else "skipped",
            "outcome_status": "pending" if symbol else "skipped",
        }

    def _market(self, exchange_field: str | None, ticker: str | None) -> tuple[str | None, str | None]:
        if not ticker or not ticker.strip():
            return normalise_exchange(exchange_field), None
        prefix, symbol = split_ticker(ticker)
        exchange = normalise_exchange(exchange_field) or prefix or self.settings.default_exchange
        if exchange not in self.sources:
            raise UnknownExchange(f"exchange {exchange!r} is not served here",
                                  details={"exchange": exchange, "supported": sorted(self.sources)})
        if not _SYMBOL.match(symbol):
            raise UnknownSymbol(f"unknown ticker {ticker!r}", details={"ticker": ticker})
        check = self.local_checks.get(exchange)
        return exchange, (check(symbol) if check else symbol)

    def close(self) -> None:
        """Nothing to release (kept for the app's shutdown hook)."""


__all__ = ["KNOWN_ACTIONS", "Receiver"]
