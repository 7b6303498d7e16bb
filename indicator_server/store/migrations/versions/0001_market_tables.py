"""Market tables: klines, open_interest, funding, long_short_ratio (as store/models.py had them before Alembic).

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _keys(*names):
    return [sa.Column(name, sa.String(32 if name == "exchange" else 64 if name == "symbol" else 8),
                      primary_key=True, nullable=False) for name in names]


def _time():
    return sa.Column("time", sa.BigInteger(), primary_key=True, nullable=False)


def upgrade() -> None:
    op.create_table(
        "klines", *_keys("exchange", "symbol", "timeframe"), _time(),
        *[sa.Column(name, sa.Float(), nullable=False) for name in ("open", "high", "low", "close", "volume")],
        sa.Column("quote_volume", sa.Float(), nullable=True), sa.Column("taker_buy_volume", sa.Float(), nullable=True),
        sa.Column("taker_buy_quote_volume", sa.Float(), nullable=True), sa.Column("trades", sa.Float(), nullable=True),
    )
    op.create_table(
        "open_interest", *_keys("exchange", "symbol"), _time(),
        sa.Column("open_interest", sa.Float(), nullable=True),
        sa.Column("open_interest_usd", sa.Float(), nullable=True),
    )
    op.create_table(
        "funding", *_keys("exchange", "symbol"), _time(),
        sa.Column("funding_rate", sa.Float(), nullable=False), sa.Column("interval_hours", sa.Float(), nullable=True),
    )
    op.create_table(
        "long_short_ratio", *_keys("exchange", "symbol"), _time(),
        sa.Column("long_short_ratio", sa.Float(), nullable=True),
        sa.Column("long_account", sa.Float(), nullable=True),
    )


def downgrade() -> None:
    for table in ("long_short_ratio", "funding", "open_interest", "klines"):
        op.drop_table(table)
