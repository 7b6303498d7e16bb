"""``SimSource``: the deterministic simulated exchange ``sim`` (no network), and its ground-truth API.

See the package docstring for the world it simulates. Bars exist from ``GENESIS_MS`` (2024-01-01T00:00Z) up to the
last bar closed at ``clock()``; a bar is closed when ``time + timeframe <= now``. Frames are cached per
(symbol, timeframe, bar range), so repeated identical requests are served from memory.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from functools import lru_cache

import numpy as np
import pandas as pd

from ...errors import InvalidArgument, UnknownSymbol
from ...timeframes import TIMEFRAMES, timeframe_ms
from ..base import (
    FUNDING_COLUMNS,
    KLINE_COLUMNS,
    LIQUIDATION_COLUMNS,
    LONG_SHORT_COLUMNS,
    OPEN_INTEREST_COLUMNS,
    Fetched,
    empty_frame,
    normalise,
)
from . import cohorts, daily, impact, minutes, prices, truth
from .funding import INTERVAL_MS, funding_events
from .params import FUNDING_INTERVAL_HOURS, GENESIS_MS, SYMBOL_RE
from .prices import BAR_FIELDS, bars
from .regimes import REGIMES, regime_of
from .traders import base_open_interest, max_hold_bars, simulate

GENESIS_NOTE = "the simulated world begins at 2024-01-01T00:00Z; nothing exists before it"
MAX_BARS = 50_000  # per request: bounds memory (a 1m request also simulates 20,160 warm-up bars x 16 cohorts)


def _frame(columns: list[str], data: dict[str, np.ndarray]) -> pd.DataFrame:
    if len(data["time"]) == 0:
        return empty_frame(columns)
    return normalise(pd.DataFrame(data), columns)


def _empty_prints() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="float64") for c in LIQUIDATION_COLUMNS})
    return frame.astype({"time": "int64", "side": "object"})


@lru_cache(maxsize=32)
def _klines(symbol: str, timeframe: str, first: int, stop: int) -> pd.DataFrame:
    b = bars(symbol, timeframe, first, stop)
    data = {"time": GENESIS_MS + np.arange(first, max(stop, first), dtype="int64") * TIMEFRAMES[timeframe]}
    data.update({name: b[i] for i, name in enumerate(BAR_FIELDS)})
    return _frame(KLINE_COLUMNS, data)


@lru_cache(maxsize=16)
def _positions_totals(symbol: str, timeframe: str, first: int, stop: int) -> pd.DataFrame:
    """Per bar: open interest and account totals at the close (cohorts from ``max_hold_bars`` earlier on)."""
    if stop <= first:
        return pd.DataFrame({"time": np.empty(0, dtype="int64")})
    sim = simulate(symbol, timeframe, max(0, first - max_hold_bars(timeframe)), stop)
    lead = first - sim.first
    oi = base_open_interest(symbol) + sim.long_qty[lead:] + sim.short_qty[lead:]
    long_acc, short_acc = sim.long_accounts[lead:], sim.short_accounts[lead:]
    total_acc = long_acc + short_acc
    return pd.DataFrame({
        "time": sim.time[lead:],
        "open_interest": oi,
        "open_interest_usd": oi * sim.close[lead:],
        "long_short_ratio": np.where(short_acc > 0, long_acc / np.where(short_acc > 0, short_acc, 1.0), np.nan),
        "long_account": np.where(total_acc > 0, long_acc / np.where(total_acc > 0, total_acc, 1.0), np.nan),
    })


def clear_caches() -> None:
    """Drop every cached price block, simulation and frame (benchmarks; memory pressure)."""
    for cached in (_klines, _positions_totals, _totals_frame, truth.positions_frame, truth.liquidations_frame, simulate,
                   prices._minute_block, prices._fine_block, prices._coarse_block, daily._daily,
                   impact.block_impact, minutes.raw_block, truth.liquidation_prints, cohorts._draw_block):
        cached.cache_clear()


@lru_cache(maxsize=64)
def _totals_frame(symbol: str, timeframe: str, first: int, stop: int, kind: str) -> pd.DataFrame:
    columns = OPEN_INTEREST_COLUMNS if kind == "open_interest" else LONG_SHORT_COLUMNS
    totals = _positions_totals(symbol, timeframe, first, stop)
    return _frame(columns, {c: totals[c].to_numpy() for c in columns} if len(totals) else {"time": []})


class SimSource:
    """A deterministic simulated USD-M perpetual exchange: prices, volume, traders, open interest, funding."""

    name = "sim"
    has = {"klines": True, "open_interest": True, "funding": True, "long_short_ratio": True, "liquidations": True}

    def __init__(self, *, clock: Callable[[], float] = time.time,
                 symbols: Iterable[str] = ("BTCUSDT", "ETHUSDT", "SOLUSDT")) -> None:
        self.clock = clock
        self.symbols = tuple(symbols)

    # -- the MarketSource protocol -------------------------------------------------------------------------
    def check_symbol(self, symbol: str) -> str:
        canonical = str(symbol).strip().upper()
        if canonical in self.symbols or SYMBOL_RE.match(canonical):
            return canonical
        raise UnknownSymbol(
            f"the sim exchange has no symbol {symbol!r}: use a USDT perpetual name such as "
            f"{', '.join(self.symbols)} (any 2-15 capital letters or digits followed by USDT)",
            details={"symbol": symbol, "examples": list(self.symbols), "pattern": SYMBOL_RE.pattern},
        )

    def fetch_klines(self, symbol: str, timeframe: str, start: int, end: int) -> Fetched:
        sym, first, stop, warnings = self._bars(symbol, timeframe, start, end)
        return Fetched(_klines(sym, timeframe, first, stop).copy(), warnings)

    def fetch_open_interest(self, symbol: str, timeframe: str, start: int, end: int) -> Fetched:
        return self._samples(symbol, timeframe, start, end, "open_interest")

    def fetch_long_short_ratio(self, symbol: str, timeframe: str, start: int, end: int) -> Fetched:
        return self._samples(symbol, timeframe, start, end, "long_short")

    def _samples(self, symbol: str, timeframe: str, start: int, end: int, kind: str) -> Fetched:
        """Snapshots stamped at the instant they describe, as Binance stamps openInterestHist: the state at a
        bar's close carries the close time (the next bar's open), so a join "as of the bar's close" finds it."""
        step = timeframe_ms(timeframe)
        sym, first, stop, warnings = self._bars(symbol, timeframe, int(start) - step, int(end) - step)
        frame = _totals_frame(sym, timeframe, first, stop, kind).copy()
        frame["time"] = frame["time"] + step
        return Fetched(frame, warnings)

    def fetch_funding(self, symbol: str, start: int, end: int) -> Fetched:
        sym = self.check_symbol(symbol)
        warnings = [GENESIS_NOTE] if start < GENESIS_MS else []
        first = max(1, -(-(int(start) - GENESIS_MS) // INTERVAL_MS))
        stop = min((int(end) - GENESIS_MS) // INTERVAL_MS, (self._now() - GENESIS_MS) // INTERVAL_MS) + 1
        if stop <= first:
            return Fetched(empty_frame(FUNDING_COLUMNS), warnings)
        times, rates, _ = funding_events(sym, first, stop)
        data = {"time": times, "funding_rate": rates,
                "interval_hours": np.full(len(times), float(FUNDING_INTERVAL_HOURS))}
        return Fetched(_frame(FUNDING_COLUMNS, data), warnings)

    def fetch_liquidations(self, symbol: str, start: int, end: int) -> Fetched:
        """Liquidation prints with ``time`` in [start, end] from the 1h cohorts (``base.LIQUIDATION_COLUMNS``), as
        an exchange's forceOrder history gives them: one print per liquidated cohort, at the minute of its hour's
        low (longs) or high (shorts), ``side`` the side of the position force-closed, ``price`` its liquidation
        price (no slippage: the forced order is filled at that price; the impact it causes is in the bars),
        ``quantity`` in base units and ``usd`` = quantity x price. Only hours closed at the clock are printed;
        per hour they sum to ``true_liquidations(symbol, "1h", ..., value="liquidation")``."""
        sym, first, stop, warnings = self._bars(symbol, "1h", int(start) - timeframe_ms("1h") + 1, end)
        frame = truth.liquidation_prints(sym, first, stop).copy()
        frame = frame[(frame["time"] >= int(start)) & (frame["time"] <= int(end))].reset_index(drop=True)
        return Fetched(frame if len(frame) else _empty_prints(), warnings)

    def regime(self, symbol: str) -> str:
        """The regime the symbol is in (``regimes.py``: HOLD*, SCALP*, TREND*, RANGE*, else default)."""
        return regime_of(self.check_symbol(symbol))

    def regime_params(self, symbol: str) -> dict:
        """The symbol's regime parameters (JSON-ready), with its price profile."""
        from .params import profile

        sym = self.check_symbol(symbol)
        p = profile(sym)
        return {**REGIMES[regime_of(sym)].as_dict(), "symbol": sym,
                "profile": {"start_price": p.start_price, "band_low": p.band_low, "band_high": p.band_high,
                            "daily_vol": p.daily_vol, "daily_quote_volume": p.daily_quote_volume,
                            "drift_per_day": p.drift}}

    # -- ground truth (pure: no Flask) -----------------------------------------------------------------------
    def positions(self, symbol: str, timeframe: str, start: int, end: int) -> pd.DataFrame:
        """One row per cohort opened on bars with open time in [start, end]: opened_at (ms), side, leverage,
        entry_price, notional_usd, quantity, liquidation_price, closed_at (ms of the bar it closed in, NaN while
        open at the clock), close_reason ("liquidated", "closed" or NaN), accounts."""
        sym, first, stop, _ = self._bars(symbol, timeframe, start, end)
        return truth.positions_frame(sym, timeframe, first, stop, self._closed(timeframe)).copy()

    def true_liquidations(self, symbol: str, timeframe: str, start: int, end: int, *,
                          value: str = "entry") -> pd.DataFrame:
        """Per bar in [start, end]: long and short USD liquidated in that bar and the number of cohorts."""
        sym, first, stop, _ = self._bars(symbol, timeframe, start, end)
        return truth.liquidations_frame(sym, timeframe, first, stop, truth.check_value(value)).copy()

    def true_liquidation_map(self, symbol: str, timeframe: str, at: int, price_edges, *,
                             value: str = "entry") -> pd.DataFrame:
        """Still-open long and short USD per bin of liquidation price (``price_edges``) at the close of the bar
        whose open time is ``at`` (floored to the timeframe); ``attrs`` carry that bar's time and close."""
        sym = self.check_symbol(symbol)
        bar = (int(at) - GENESIS_MS) // timeframe_ms(timeframe)
        if bar < 0 or bar >= self._closed(timeframe):
            raise InvalidArgument("at must be the open time of a closed bar of the simulated world",
                                  details={"at": at, "genesis": GENESIS_MS})
        return truth.liquidation_map(sym, timeframe, bar, np.asarray(price_edges, dtype="float64"), value)

    def base_open_interest(self, symbol: str) -> float:
        """The constant unleveraged/hedged open interest (base units) included in ``fetch_open_interest``."""
        return base_open_interest(self.check_symbol(symbol))

    # -- helpers -----------------------------------------------------------------------------------------------
    def _now(self) -> int:
        return int(self.clock() * 1000)

    def _closed(self, timeframe: str) -> int:
        """Bars of the timeframe closed at the clock."""
        return max(0, (self._now() - GENESIS_MS) // timeframe_ms(timeframe))

    def _bars(self, symbol: str, timeframe: str, start: int, end: int) -> tuple[str, int, int, list[str]]:
        """Canonical symbol and the bar index range [first, stop) of closed bars with open time in [start, end]."""
        sym = self.check_symbol(symbol)
        step = timeframe_ms(timeframe)
        warnings = [GENESIS_NOTE] if start < GENESIS_MS else []
        first = max(0, -(-(int(start) - GENESIS_MS) // step))
        stop = min((int(end) - GENESIS_MS) // step + 1, self._closed(timeframe))
        if stop - first > MAX_BARS:
            raise InvalidArgument(
                f"the sim exchange serves at most {MAX_BARS} bars per request; ask for a shorter range",
                details={"bars": stop - first, "max_bars": MAX_BARS, "timeframe": timeframe})
        return sym, first, max(stop, first), warnings
