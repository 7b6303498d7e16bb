"""SQLAlchemy models of what the server stores.

Market tables hold normalised rows keyed by (exchange, symbol, ..., time) so re-importing or re-fetching the
same data adds no duplicate row. Open interest, funding and long/short ratios are stored as point samples in
time (independent of any bar size) and joined to bars as of each bar's close.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Kline(Base):
    __tablename__ = "klines"

    exchange: Mapped[str] = mapped_column(String(32), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(64), primary_key=True)
    timeframe: Mapped[str] = mapped_column(String(8), primary_key=True)
    time: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    open: Mapped[float] = mapped_column(Float)
    high: Mapped[float] = mapped_column(Float)
    low: Mapped[float] = mapped_column(Float)
    close: Mapped[float] = mapped_column(Float)
    volume: Mapped[float] = mapped_column(Float)
    quote_volume: Mapped[float | None] = mapped_column(Float, nullable=True)
    taker_buy_volume: Mapped[float | None] = mapped_column(Float, nullable=True)
    taker_buy_quote_volume: Mapped[float | None] = mapped_column(Float, nullable=True)
    trades: Mapped[float | None] = mapped_column(Float, nullable=True)


class OpenInterestSample(Base):
    __tablename__ = "open_interest"

    exchange: Mapped[str] = mapped_column(String(32), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(64), primary_key=True)
    time: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    open_interest: Mapped[float | None] = mapped_column(Float, nullable=True)
    open_interest_usd: Mapped[float | None] = mapped_column(Float, nullable=True)


class FundingSample(Base):
    __tablename__ = "funding"

    exchange: Mapped[str] = mapped_column(String(32), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(64), primary_key=True)
    time: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    funding_rate: Mapped[float] = mapped_column(Float)
    interval_hours: Mapped[float | None] = mapped_column(Float, nullable=True)


class LongShortSample(Base):
    __tablename__ = "long_short_ratio"

    exchange: Mapped[str] = mapped_column(String(32), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(64), primary_key=True)
    time: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    long_short_ratio: Mapped[float | None] = mapped_column(Float, nullable=True)
    long_account: Mapped[float | None] = mapped_column(Float, nullable=True)
