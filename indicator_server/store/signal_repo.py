"""Reading and writing the signal log.

``record`` is the receiver's one write: it stores an alert exactly once. Two gunicorn workers may receive the
same alert at the same moment (TradingView resends, users double-fire), so the duplicate check and the insert
run under one lock: ``BEGIN IMMEDIATE`` on SQLite (the database write lock, taken before the check) and a
transaction-scoped advisory lock on the alert's key on PostgreSQL. A duplicate only bumps ``deliveries``.
"""

from __future__ import annotations

import hashlib
import threading
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, or_, select, text, update

from .db import Database
from .signals import Signal


def _lock_key(key: str) -> int:
    """A signed 64-bit number for ``pg_advisory_xact_lock`` derived from the alert's key."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)


# Built once: parameters travel separately, so SQLAlchemy compiles each statement once per process.
_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(:k)")
_BY_KEY = select(Signal.id).where(Signal.dedup_key == bindparam("key"))
_BY_HASH = (
    select(Signal.id)
    # no "dedup_key IS NULL" here: SQLite would pick the dedup_key index and scan every id-less alert; a body
    # with an id never hashes like one without (the id is part of the hashed body)
    .where(Signal.content_hash == bindparam("hash"), Signal.received_at >= bindparam("since"))
    .order_by(Signal.id.desc())
    .limit(1)
)
_COUNT_DELIVERY = (
    update(Signal)
    .where(Signal.id == bindparam("sid"))
    .values(deliveries=Signal.deliveries + 1, last_delivery_at=bindparam("now"))
)
_INSERT = Signal.__table__.insert().returning(Signal.id)


@dataclass(frozen=True)
class SignalFilters:
    exchange: str | None = None
    symbol: str | None = None
    action: str | None = None
    since: int | None = None
    until: int | None = None


class SignalRepository:
    def __init__(self, db: Database) -> None:
        self.db = db
        # SQLite makes a waiting writer sleep in 1-100 ms steps (PERFORMANCE.md): threads of one process (the
        # request and the context filler) queue on a Python lock instead, which wakes them at once.
        self._write_lock = threading.Lock() if db.dialect == "sqlite" else nullcontext()

    # -- the receiver's write ---------------------------------------------------------------------------------
    def record(self, values: dict[str, Any], *, now_ms: int, window_ms: int) -> tuple[int, bool]:
        """Insert the alert, or count one more delivery of the stored one; returns (id, duplicate).

        ``values`` holds the Signal columns; ``dedup_key`` (from the alert's own id) deduplicates forever,
        otherwise ``content_hash`` deduplicates within ``window_ms``.
        """
        dedup_key = values.get("dedup_key")
        content_hash = values["content_hash"]
        with self._write_lock, self.db.engine.connect() as conn:
            if self.db.dialect == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            elif self.db.dialect == "postgresql":
                conn.execute(_ADVISORY_LOCK, {"k": _lock_key(dedup_key or content_hash)})
            if dedup_key:
                existing = conn.execute(_BY_KEY, {"key": dedup_key}).scalar()
            else:
                existing = conn.execute(_BY_HASH, {"hash": content_hash, "since": now_ms - window_ms}).scalar()
            if existing is not None:
                conn.execute(_COUNT_DELIVERY, {"sid": existing, "now": now_ms})
                conn.commit()
                return int(existing), True
            row = dict(values, received_at=now_ms, last_delivery_at=now_ms, deliveries=1,
                       context_status=values.get("context_status", "pending"), context_attempts=0,
                       context_next_at=now_ms, outcome_status=values.get("outcome_status", "pending"),
                       claimed_until=0)
            new_id = conn.execute(_INSERT, row).scalar_one()
            conn.commit()
            return int(new_id), False

    # -- reading ----------------------------------------------------------------------------------------------
    def get(self, signal_id: int) -> Signal | None:
        with self.db.session() as session:
            return session.get(Signal, signal_id)

    def query(self, filters: SignalFilters, *, limit: int, before_id: int | None = None) -> list[Signal]:
        """Newest first (by id), at most ``limit`` rows with id < ``before_id`` (keyset pagination)."""
        stmt = select(Signal)
        if filters.exchange:
            stmt = stmt.where(Signal.exchange == filters.exchange)
        if filters.symbol:
            stmt = stmt.where(Signal.symbol == filters.symbol)
        if filters.action:
            stmt = stmt.where(Signal.action == filters.action)
        if filters.since is not None:
            stmt = stmt.where(Signal.received_at >= filters.since)
        if filters.until is not None:
            stmt = stmt.where(Signal.received_at <= filters.until)
        if before_id is not None:
            stmt = stmt.where(Signal.id < before_id)
        stmt = stmt.order_by(Signal.id.desc()).limit(limit)
        with self.db.session() as session:
            return list(session.scalars(stmt).all())

    def count(self) -> int:
        with self.db.session() as session:
            return int(session.execute(select(func.count()).select_from(Signal)).scalar_one())

    # -- background work --------------------------------------------------------------------------------------
    def claim_due(self, *, now_ms: int, lease_ms: int, limit: int = 20) -> list[Signal]:
        """Rows whose context or outcome is due, leased to this caller so another worker skips them."""
        due = or_(
            (Signal.context_status == "pending") & (Signal.context_next_at <= now_ms),
            (Signal.outcome_status == "pending")
            & (Signal.context_status != "pending")
            & (Signal.outcome_next_at <= now_ms),
        )
        lease_until = now_ms + lease_ms  # callers add jitter so two workers' leases differ
        with self.db.session() as session:
            candidates = session.scalars(
                select(Signal.id).where(due, Signal.claimed_until <= now_ms).order_by(Signal.id).limit(limit)
            ).all()
        if not candidates:
            return []
        with self._write_lock, self.db.begin() as session:
            session.execute(
                update(Signal)
                .where(Signal.id.in_(candidates), Signal.claimed_until <= now_ms)
                .values(claimed_until=lease_until)
            )
        with self.db.session() as session:
            return list(session.scalars(
                select(Signal).where(Signal.id.in_(candidates), Signal.claimed_until == lease_until)
                .order_by(Signal.id)
            ).all())

    def save_work(self, results: list[tuple[int, dict[str, Any]]]) -> None:
        """Write context/outcome results of a batch in one transaction and release their leases."""
        if not results:
            return
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for signal_id, values in results:
            groups.setdefault(tuple(sorted(values)), []).append({"_id": signal_id, **values})
        with self._write_lock, self.db.engine.begin() as conn:
            for keys, params in groups.items():
                stmt = (update(Signal.__table__).where(Signal.__table__.c.id == bindparam("_id"))
                        .values(claimed_until=0, **{k: bindparam(k) for k in keys}))
                conn.execute(stmt, params)
