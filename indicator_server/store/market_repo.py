"""Stored market data: write normalised frames idempotently, read them back as frames.

Writes are upserts on the natural key, so importing the same archive twice, or fetching an overlapping range
from an exchange again, adds no duplicate row (the newer values win).
"""

from __future__ import annotations

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
        # NaN -> None (NULL); astype(object) hands the driver Python ints and floats.
        values = frame.astype(object).where(frame.notna(), None)
        records = [{**keys, **row} for row in values.to_dict("records")]
        stmt = self._insert(model)
        key_names = [c.name for c in model.__table__.primary_key.columns]
        stmt = stmt.on_conflict_do_update(
            index_elements=key_names, set_={c: stmt.excluded[c] for c in columns if c != "time"}
        )
        with self.db.begin() as session:
            # One statement, compiled once, run as an executemany (SQLAlchemy batches it with insertmanyvalues):
            # 15-25x faster than compiling a 2,000-row VALUES clause per batch (benchmarks/bench_import.py).
            session.connection().execute(stmt, records)
        return len(records)

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
