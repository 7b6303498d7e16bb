"""Stored market data: write normalised frames idempotently, read them back as frames.

Writes are upserts on the natural key, so importing the same archive twice, or fetching an overlapping range
from an exchange again, adds no duplicate row (the newer values win).
"""

from __future__ import annotations

import math

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from ..market.base import (
    FUNDING_COLUMNS,
    KLINE_COLUMNS,
    LONG_SHORT_COLUMNS,
    OPEN_INTEREST_COLUMNS,
    empty_frame,
    normalise,
)
from .db import Database
from .models import FundingSample, Kline, LongShortSample, OpenInterestSample

KINDS = {
    "klines": (Kline, KLINE_COLUMNS),
    "open_interest": (OpenInterestSample, OPEN_INTEREST_COLUMNS),
    "funding": (FundingSample, FUNDING_COLUMNS),
    "long_short_ratio": (LongShortSample, LONG_SHORT_COLUMNS),
}
_BATCH = 2000


def _clean(value):
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


class MarketRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _insert(self, model):
        dialect = postgresql if self.db.dialect == "postgresql" else sqlite
        return dialect.insert(model)

    def save(
        self, kind: str, exchange: str, symbol: str, frame: pd.DataFrame, timeframe: str | None = None
    ) -> int:
        """Upsert the rows of a normalised frame; returns how many rows were written."""
        model, columns = KINDS[kind]
        if frame.empty:
            return 0
        keys = {"exchange": exchange, "symbol": symbol}
        if kind == "klines":
            if not timeframe:
                raise ValueError("klines need a timeframe")
            keys["timeframe"] = timeframe
        frame = normalise(frame, columns)
        records = []
        for row in frame.itertuples(index=False):
            record = dict(keys)
            for column, value in zip(columns, row, strict=True):
                record[column] = int(value) if column == "time" else _clean(float(value))
            records.append(record)
        written = 0
        with self.db.begin() as session:
            for offset in range(0, len(records), _BATCH):
                batch = records[offset : offset + _BATCH]
                stmt = self._insert(model).values(batch)
                key_names = [c.name for c in model.__table__.primary_key.columns]
                update = {c: stmt.excluded[c] for c in columns if c != "time"}
                stmt = stmt.on_conflict_do_update(index_elements=key_names, set_=update)
                session.execute(stmt)
                written += len(batch)
        return written

    def load(
        self,
        kind: str,
        exchange: str,
        symbol: str,
        start: int | None = None,
        end: int | None = None,
        timeframe: str | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """Rows with start <= time <= end, oldest first; with ``limit``, the newest ``limit`` of them."""
        model, columns = KINDS[kind]
        stmt = select(*[getattr(model, c) for c in columns]).where(
            model.exchange == exchange, model.symbol == symbol
        )
        if kind == "klines":
            stmt = stmt.where(model.timeframe == timeframe)
        if start is not None:
            stmt = stmt.where(model.time >= start)
        if end is not None:
            stmt = stmt.where(model.time <= end)
        if limit is not None:
            stmt = stmt.order_by(model.time.desc()).limit(limit)
        else:
            stmt = stmt.order_by(model.time)
        with self.db.session() as session:
            rows = session.execute(stmt).all()
        if not rows:
            return empty_frame(columns)
        frame = pd.DataFrame(rows, columns=columns)
        return normalise(frame, columns)

    def span(self, kind: str, exchange: str, symbol: str, timeframe: str | None = None):
        """(first time, last time, row count) stored, or (None, None, 0)."""
        model, _ = KINDS[kind]
        stmt = select(func.min(model.time), func.max(model.time), func.count()).where(
            model.exchange == exchange, model.symbol == symbol
        )
        if kind == "klines":
            stmt = stmt.where(model.timeframe == timeframe)
        with self.db.session() as session:
            first, last, count = session.execute(stmt).one()
        return first, last, int(count)

    def symbols(self, exchange: str) -> list[str]:
        with self.db.session() as session:
            rows = session.execute(select(Kline.symbol).where(Kline.exchange == exchange).distinct()).all()
        return sorted(r[0] for r in rows)
