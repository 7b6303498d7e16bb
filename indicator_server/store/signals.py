"""The signal log: one row per accepted TradingView alert, with its market context and follow-up outcome.

Times are UTC epoch milliseconds. ``payload`` keeps every field of the alert (unknown ones included) except the
secret; ``raw_body`` keeps a text/plain alert as received, minus any ``secret=`` line. ``context`` and
``outcome`` are JSON objects filled after the reply by the context worker (``context_status`` pending ->
filled/partial/failed/skipped; ``outcome_status`` pending -> done/skipped).
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base

# SQLite only auto-increments an INTEGER PRIMARY KEY (an alias of the rowid); PostgreSQL gets a BIGINT identity.
SignalId = BigInteger().with_variant(Integer(), "sqlite")


class Signal(Base):
    __tablename__ = "signals"

    id: Mapped[int] = mapped_column(SignalId, primary_key=True, autoincrement=True)
    received_at: Mapped[int] = mapped_column(BigInteger, nullable=False)
    exchange: Mapped[str | None] = mapped_column(String(32), nullable=True)
    symbol: Mapped[str | None] = mapped_column(String(64), nullable=True)
    timeframe: Mapped[str | None] = mapped_column(String(8), nullable=True)
    action: Mapped[str | None] = mapped_column(String(64), nullable=True)
    price: Mapped[float | None] = mapped_column(Float, nullable=True)
    bar_time: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    fired_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    alert_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    payload: Mapped[dict] = mapped_column(JSON, nullable=False)
    raw_body: Mapped[str | None] = mapped_column(Text, nullable=True)
    content_type: Mapped[str] = mapped_column(String(16), nullable=False)
    source_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    deliveries: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    last_delivery_at: Mapped[int] = mapped_column(BigInteger, nullable=False)
    dedup_key: Mapped[str | None] = mapped_column(String(80), nullable=True, unique=True)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    context: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    context_status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    context_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    context_next_at: Mapped[int] = mapped_column(BigInteger, nullable=False)
    outcome: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    outcome_status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    outcome_next_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    claimed_until: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)

    __table_args__ = (
        Index("ix_signals_received_at", "received_at"),
        Index("ix_signals_market", "exchange", "symbol", "id"),
        Index("ix_signals_content_hash", "content_hash", "received_at"),
        Index("ix_signals_context_due", "context_status", "context_next_at"),
        Index("ix_signals_outcome_due", "outcome_status", "outcome_next_at"),
    )


# Columns the API and the CSV export show, in order (payload/context/outcome are expanded separately).
SIGNAL_COLUMNS = [
    "id",
    "received_at",
    "exchange",
    "symbol",
    "timeframe",
    "action",
    "price",
    "bar_time",
    "fired_at",
    "alert_id",
    "message",
    "content_type",
    "source_ip",
    "deliveries",
    "last_delivery_at",
    "context_status",
    "outcome_status",
]
