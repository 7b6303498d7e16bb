"""The signal log (TradingView alerts with market context and outcomes).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signals",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.Column("exchange", sa.String(32), nullable=True),
        sa.Column("symbol", sa.String(64), nullable=True),
        sa.Column("timeframe", sa.String(8), nullable=True),
        sa.Column("action", sa.String(64), nullable=True),
        sa.Column("price", sa.Float(), nullable=True),
        sa.Column("bar_time", sa.BigInteger(), nullable=True),
        sa.Column("fired_at", sa.BigInteger(), nullable=True),
        sa.Column("alert_id", sa.String(128), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("raw_body", sa.Text(), nullable=True),
        sa.Column("content_type", sa.String(16), nullable=False),
        sa.Column("source_ip", sa.String(64), nullable=True),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.Column("last_delivery_at", sa.BigInteger(), nullable=False),
        sa.Column("dedup_key", sa.String(80), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("context", sa.JSON(), nullable=True),
        sa.Column("context_status", sa.String(16), nullable=False),
        sa.Column("context_attempts", sa.Integer(), nullable=False),
        sa.Column("context_next_at", sa.BigInteger(), nullable=False),
        sa.Column("outcome", sa.JSON(), nullable=True),
        sa.Column("outcome_status", sa.String(16), nullable=False),
        sa.Column("outcome_next_at", sa.BigInteger(), nullable=True),
        sa.Column("claimed_until", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("dedup_key"),
    )
    op.create_index("ix_signals_received_at", "signals", ["received_at"])
    op.create_index("ix_signals_market", "signals", ["exchange", "symbol", "id"])
    op.create_index("ix_signals_content_hash", "signals", ["content_hash", "received_at"])
    op.create_index("ix_signals_context_due", "signals", ["context_status", "context_next_at"])
    op.create_index("ix_signals_outcome_due", "signals", ["outcome_status", "outcome_next_at"])


def downgrade() -> None:
    op.drop_table("signals")
