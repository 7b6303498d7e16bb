"""Settings, read from the environment once, typed, and documented in the README.

Every variable the server reads is declared here with its default; nothing else in the package reads
``os.environ``. ``Settings.from_env()`` parses them; tests build a ``Settings`` directly and hand it to
``create_app``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from typing import Any


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


@dataclass(frozen=True)
class Settings:
    """The server's configuration. Field metadata carries the environment variable and its documentation."""

    database_url: str = field(
        default="sqlite:///instance/indicator-server.db",
        metadata={"env": "DATABASE_URL", "doc": "SQLAlchemy URL of the store; SQLite file by default."},
    )
    default_exchange: str = field(
        default="sim",
        metadata={"env": "DEFAULT_EXCHANGE", "doc": "Exchange used when a request names none."},
    )
    exchanges: tuple[str, ...] = field(
        default=("sim", "binance"),
        metadata={"env": "EXCHANGES", "doc": "Comma-separated market data sources the server offers."},
    )
    binance_base_url: str = field(
        default="https://fapi.binance.com",
        metadata={"env": "BINANCE_BASE_URL", "doc": "Base URL of Binance USD-M futures REST."},
    )
    binance_offline: bool = field(
        default=False,
        metadata={
            "env": "BINANCE_OFFLINE",
            "doc": "Serve exchange=binance only from the store (imported archives), never calling Binance.",
        },
    )
    http_connect_timeout: float = field(
        default=3.05, metadata={"env": "HTTP_CONNECT_TIMEOUT", "doc": "Seconds to connect to an exchange."}
    )
    http_read_timeout: float = field(
        default=10.0, metadata={"env": "HTTP_READ_TIMEOUT", "doc": "Seconds to wait for an exchange's reply."}
    )
    http_retries: int = field(
        default=3,
        metadata={
            "env": "HTTP_RETRIES",
            "doc": "Retries after 429, 5xx and timeouts (never after other 4xx).",
        },
    )
    http_backoff: float = field(
        default=0.5,
        metadata={
            "env": "HTTP_BACKOFF",
            "doc": "First backoff in seconds, doubled each retry (Retry-After wins).",
        },
    )
    http_max_backoff: float = field(
        default=8.0,
        metadata={"env": "HTTP_MAX_BACKOFF", "doc": "Longest single wait between retries, seconds."},
    )
    cache_url: str = field(
        default="memory://",
        metadata={
            "env": "CACHE_URL",
            "doc": "Overlay cache: memory:// (per process), file:///dir (shared by the workers on this machine) "
                   "or redis://host:port/db (shared by instances). Under gunicorn, unset means a fresh file:// "
                   "directory for this server's workers.",
        },
    )
    cache_max_entries: int = field(
        default=512, metadata={"env": "CACHE_MAX_ENTRIES", "doc": "Entries kept by the memory:// and file:// caches."}
    )
    market_cache_seconds: float = field(
        default=5.0,
        metadata={
            "env": "MARKET_CACHE_SECONDS",
            "doc": "How long fetched market data is reused before the exchange is asked again.",
        },
    )
    sim_symbols: tuple[str, ...] = field(
        default=("BTCUSDT", "ETHUSDT", "SOLUSDT"),
        metadata={
            "env": "SIM_SYMBOLS",
            "doc": "Symbols the sim lists; it also serves any other *USDT symbol.",
        },
    )
    log_level: str = field(default="INFO", metadata={"env": "LOG_LEVEL", "doc": "Python logging level."})
    webhook_secrets: tuple[str, ...] = field(
        default=(),
        metadata={
            "env": "WEBHOOK_SECRET",
            "doc": "Shared secret(s) TradingView alerts must carry; comma-separated to rotate.",
            "secret": True,
        },
    )
    webhook_allowed_ips: tuple[str, ...] = field(
        default=(),
        metadata={
            "env": "WEBHOOK_ALLOWED_IPS",
            "doc": "Comma-separated source IPs allowed to post alerts; 'tradingview' for TradingView's four.",
        },
    )
    trusted_proxies: int = field(
        default=0,
        metadata={"env": "TRUSTED_PROXIES", "doc": "How many proxies in front set X-Forwarded-For."},
    )
    webhook_rate_limit: int = field(
        default=600,
        metadata={"env": "WEBHOOK_RATE_LIMIT", "doc": "Alerts per minute from one address; 0 turns it off."},
    )
    webhook_max_body: int = field(
        default=65536, metadata={"env": "WEBHOOK_MAX_BODY", "doc": "Largest accepted alert body, bytes."}
    )
    webhook_dedup_window: int = field(
        default=300,
        metadata={
            "env": "WEBHOOK_DEDUP_WINDOW",
            "doc": "Seconds within which an identical alert body without an id counts as a duplicate.",
        },
    )
    signal_outcome_bars: tuple[str, ...] = field(
        default=("1", "4", "24"),
        metadata={
            "env": "SIGNAL_OUTCOME_BARS",
            "doc": "Bars after a signal at which its price change is kept.",
        },
    )
    context_workers: bool = field(
        default=True,
        metadata={
            "env": "CONTEXT_WORKER",
            "doc": "Run the background thread that fills signal context and outcomes in this process.",
        },
    )

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        environ = dict(os.environ if environ is None else environ)
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(f.metadata["env"])
            if raw is None:
                continue
            values[f.name] = _parse(f.type, raw, f.metadata["env"])
        return cls(**values)

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def _parse(type_name: Any, raw: str, env: str) -> Any:
    kind = str(type_name)
    try:
        if kind == "bool":
            return _bool(raw)
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind.startswith("tuple"):
            return _list(raw)
        return raw
    except ValueError as exc:
        raise ValueError(f"{env}: {exc}") from exc


def documented_variables() -> list[tuple[str, str, str]]:
    """(variable, default, doc) for every setting: the README's table is checked against this."""
    rows = []
    for f in fields(Settings):
        default = f.default
        if isinstance(default, tuple):
            default = ",".join(default)
        rows.append((f.metadata["env"], str(default), f.metadata["doc"]))
    return rows
