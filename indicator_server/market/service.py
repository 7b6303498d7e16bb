"""Market data for the overlays: one call that resolves a request into closed bars with OI, funding and L/S ratio.

``MarketService.bars`` turns (exchange, symbol, timeframe, limit, start, end) into a bar range, fetches what the
range needs from the exchange's source, writes exchange data through to the store and reads the store back, so
that data imported from archives (or fetched earlier) serves ranges the exchange no longer does (Binance keeps open
interest for 30 days only). When the exchange fails and the store holds the range, the stored data is served and
marked stale; when it holds nothing, the upstream error propagates (503/504/502). An exchange that just failed is
not asked again for a while (its :class:`.breaker.Breaker`), and a symbol the store holds is not checked with the
exchange, so a stored range never waits on an exchange that does not answer.

Offline (``BINANCE_OFFLINE=true``) and when the exchange fails, a timeframe the store lacks is derived from a finer
stored one (:mod:`.derive`: 4h and 1d from 1h, ...). Offline, a request without ``start``/``end`` ends at the newest
stored bar (not at the last closed bar, which the store may not hold), marked stale with a warning saying up to
when data is stored.

Range rules (Binance's own ``klines`` semantics, which users know): without ``start`` the series ends at ``end``
(default: the last closed bar) and holds ``limit`` bars; with ``start`` it begins there and holds at most ``limit``
bars up to ``end``. ``warmup`` extra earlier bars are fetched for indicators that need history (RSI seeding,
rolling z-scores) and are not part of the answer.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from ..config import Settings
from ..errors import InvalidArgument, UnknownExchange, UnknownSymbol, UpstreamError
from ..timeframes import HOUR_MS, MINUTE_MS, timeframe_ms
from .assemble import add_liquidations, assemble_bars
from .derive import complete_klines, newest_stored_open

log = logging.getLogger(__name__)

# How far an exchange's latest stored sample may lag the range end before we ask the exchange again.
_FUNDING_SLACK_MS = 8 * HOUR_MS
_SYMBOLS_REREAD_SECONDS = 5.0


@dataclass
class Bars:
    """Closed bars (BAR_COLUMNS) including ``warmup`` earlier rows; ``first`` is the first requested row."""

    frame: pd.DataFrame
    first: int
    meta: dict[str, Any]
    funding: pd.DataFrame
    warnings: list[str] = field(default_factory=list)

    @property
    def requested(self) -> pd.DataFrame:
        return self.frame.iloc[self.first :].reset_index(drop=True)


@dataclass
class _Piece:
    frame: pd.DataFrame
    warnings: list[str]
    stale: bool = False
    origin: str = "live"


class MarketService:
    def __init__(self, settings: Settings, sources: dict[str, Any], repo, clock=time.time) -> None:
        self.settings = settings
        self.sources = sources
        self.repo = repo
        self.clock = clock
        self._memo: dict[tuple, tuple[float, _Piece]] = {}
        self._symbols: dict[str, tuple[float, list[str]]] = {}  # exchange -> (read at, stored symbols)
        self._lock = threading.Lock()

    def share_breakers(self, shared) -> None:
        """Keep the sources' breaker state in ``shared`` too (a cache with get/set seen by every worker)."""
        for source in self.sources.values():
            breaker = getattr(source, "breaker", None)
            if breaker is not None:
                breaker.shared = shared

    # -- resolution -------------------------------------------------------------------------------------------
    def source(self, exchange: str | None):
        name = (exchange or self.settings.default_exchange).lower()
        try:
            return self.sources[name]
        except KeyError:
            raise UnknownExchange(
                f"exchange {name!r} is not served here",
                details={"exchange": name, "supported": sorted(self.sources)},
            ) from None

    def _offline(self, source) -> bool:
        return source.name == "binance" and self.settings.binance_offline

    def _persist(self, source) -> bool:
        return source.name != "sim"

    def check_symbol(self, source, symbol: str) -> str:
        symbol = (symbol or "").strip().upper()
        if not symbol:
            raise InvalidArgument("symbol is required", details={"field": "symbol"})
        canonical = getattr(source, "canonical_symbol", None)
        wanted = canonical(symbol) if canonical is not None else symbol
        stored = self._stored_symbols(source, wanted)
        if canonical is not None and wanted in stored:
            return wanted  # the store holds it: no need to ask the exchange
        if self._offline(source):
            stored = self._stored_symbols(source, symbol, fresh=True)
            if symbol not in stored:
                raise UnknownSymbol(
                    f"no stored {source.name} data for {symbol}; import archives first (indicator-server import)",
                    details={"symbol": symbol, "stored": stored},
                )
            return symbol
        try:
            return source.check_symbol(symbol)
        except UpstreamError:
            if symbol in self._stored_symbols(source, symbol, fresh=True):
                return symbol
            raise

    def _stored_symbols(self, source, wanted: str, *, fresh: bool = False) -> list[str]:
        """The symbols the store holds for ``source``; re-read when ``wanted`` is missing (at most every 5 s unless
        ``fresh``: before refusing a symbol or serving it from the store)."""
        if not self._persist(source):
            return []
        with self._lock:
            hit = self._symbols.get(source.name)
        if hit and (wanted in hit[1] or (not fresh and time.monotonic() - hit[0] < _SYMBOLS_REREAD_SECONDS)):
            return hit[1]
        symbols = self.repo.symbols(source.name)  # symbols are never removed: a kept list only grows stale
        with self._lock:
            self._symbols[source.name] = (time.monotonic(), symbols)
        return symbols

    def resolve_range(
        self, timeframe: str, limit: int, start: int | None, end: int | None
    ) -> tuple[int, int]:
        """(first bar open time, last bar open time) of the answer; both are closed bars."""
        step = timeframe_ms(timeframe)
        now = int(self.clock() * 1000)
        last_closed = now - now % step - step
        end_bar = last_closed if end is None else min(end - end % step, last_closed)
        if start is not None:
            start_bar = start if start % step == 0 else start - start % step + step
            end_bar = min(end_bar, start_bar + (limit - 1) * step)
        else:
            start_bar = end_bar - (limit - 1) * step
        if start_bar > end_bar:
            raise InvalidArgument(
                "the range holds no closed bar: start must be before end and before the last closed bar",
                details={"start": start, "end": end, "last_closed_bar": last_closed},
            )
        return start_bar, end_bar

    # -- the one public call ----------------------------------------------------------------------------------
    def bars(
        self,
        exchange: str | None,
        symbol: str,
        timeframe: str,
        *,
        limit: int = 500,
        start: int | None = None,
        end: int | None = None,
        warmup: int = 0,
        liquidations: bool = False,
    ) -> Bars:
        """Closed bars of ``symbol``, assembled (klines, OI, funding, long/short ratio). ``liquidations``: also the
        venue's liquidation prints per bar (``long_liquidated_usd`` / ``short_liquidated_usd``) where it publishes
        them: only the liquidation model asks, so other overlays neither pay for the prints nor carry a warning
        when they are unavailable."""
        source = self.source(exchange)
        step = timeframe_ms(timeframe)
        symbol = self.check_symbol(source, symbol)
        notes: list[str] = []
        if self._offline(source) and start is None and end is None:
            end, notes = self._newest_offline_end(source, symbol, timeframe)
        start_bar, end_bar = self.resolve_range(timeframe, limit, start, end)
        fetch_start = start_bar - warmup * step
        close_end = end_bar + step

        klines = self._get(source, "klines", symbol, timeframe, fetch_start, end_bar)
        oi = self._get(source, "open_interest", symbol, timeframe, fetch_start, close_end)
        funding = self._get(source, "funding", symbol, None, fetch_start - 3 * 8 * HOUR_MS, close_end)
        ratio = self._get(source, "long_short_ratio", symbol, timeframe, fetch_start, close_end)

        frame = assemble_bars(
            klines.frame,
            oi.frame,
            funding.frame,
            ratio.frame,
            step,
            sample_tolerance=max(2 * step, 30 * MINUTE_MS),
        )
        liquidation_notes: list[str] = []
        if liquidations and source.has.get("liquidations"):
            prints = self._get(source, "liquidations", symbol, timeframe, fetch_start, close_end - 1)
            liquidation_notes = prints.warnings
            frame = add_liquidations(frame, None if prints.stale else prints.frame, step)
        warnings = _unique(notes + klines.warnings + oi.warnings + funding.warnings + ratio.warnings
                           + liquidation_notes)
        first = int(np.searchsorted(frame["time"].to_numpy(), start_bar)) if len(frame) else 0
        requested = frame.iloc[first:]
        if requested.empty:
            warnings.append("no bars in the requested range")
        elif len(requested) < (end_bar - start_bar) // step + 1:
            warnings.append(
                f"{len(requested)} of {(end_bar - start_bar) // step + 1} bars available in the requested range"
            )
        missing_oi = int(requested["open_interest"].isna().sum()) if len(requested) else 0
        if missing_oi:
            warnings.append(f"{missing_oi} of {len(requested)} bars have no open interest")
        now = self.clock()
        last_time = int(requested["time"].iloc[-1]) if len(requested) else None
        stale = bool(notes) or klines.stale or oi.stale or funding.stale
        meta = {
            "exchange": source.name,
            "symbol": symbol,
            "timeframe": timeframe,
            "start": int(requested["time"].iloc[0]) if len(requested) else None,
            "end": last_time,
            "bars": int(len(requested)),
            "freshness": {
                "generated_at": int(now * 1000),
                "last_bar_close": last_time + step if last_time is not None else None,
                "age_seconds": round(now - (last_time + step) / 1000, 3) if last_time is not None else None,
                "source": "store" if klines.origin == "store" else klines.origin,
                "stale": bool(stale),
            },
            "warnings": warnings,
        }
        live = self._live_state(source, symbol, end_bar, timeframe)
        if live is not None:
            meta["live"] = live
        return Bars(frame=frame, first=first, meta=meta, funding=funding.frame, warnings=warnings)

    def _newest_offline_end(self, source, symbol: str, timeframe: str) -> tuple[int | None, list[str]]:
        """Offline default range: end at the newest stored (or derivable) bar when it is older than the last closed."""
        step = timeframe_ms(timeframe)
        now = int(self.clock() * 1000)
        last_closed = now - now % step - step
        newest = newest_stored_open(self.repo, source.name, symbol, timeframe)
        if newest is None:
            return None, [f"no {timeframe} bars of {symbol} stored, nor finer bars to derive them from"]
        if newest >= last_closed:
            return None, []
        return newest, [
            f"BINANCE_OFFLINE: Binance is not asked and the store holds {symbol} {timeframe} bars up to "
            f"{_iso(newest + step)} only; serving the newest stored bars (the last closed bar is "
            f"{_iso(last_closed)})"
        ]

    def _live_state(self, source, symbol: str, end_bar: int, timeframe: str) -> dict[str, Any] | None:
        """Mark price and the funding rate of the coming event, when the venue has them and the answer is live."""
        if not hasattr(source, "fetch_premium_index") or self._offline(source):
            return None
        now = int(self.clock() * 1000)
        if end_bar < now - now % timeframe_ms(timeframe) - timeframe_ms(timeframe):
            return None  # a historical range: the current mark says nothing about it
        key = (source.name, "premium", symbol)
        with self._lock:
            hit = self._memo.get(key)
            if hit and hit[0] > time.monotonic():
                return hit[1]
        try:
            premium = source.fetch_premium_index(symbol)
        except UpstreamError as exc:
            log.warning("%s premium index %s: %s", source.name, symbol, exc.message)
            return None
        state = {
            "mark_price": premium["mark_price"],
            "index_price": premium["index_price"],
            "predicted_funding_rate": premium["last_funding_rate"],
            "next_funding_time": premium["next_funding_time"],
            "time": premium["time"],
        }
        with self._lock:
            self._memo[key] = (time.monotonic() + max(1.0, self.settings.market_cache_seconds), state)
        return state

    # -- fetching with store write-through --------------------------------------------------------------------
    def _get(self, source, kind: str, symbol: str, timeframe: str | None, start: int, end: int) -> _Piece:
        key = (source.name, kind, symbol, timeframe, start, end)
        ttl = self.settings.market_cache_seconds
        now = time.monotonic()
        with self._lock:
            hit = self._memo.get(key)
            if hit and hit[0] > now:
                return hit[1]
        piece = self._load(source, kind, symbol, timeframe, start, end)
        if ttl > 0:
            with self._lock:
                if len(self._memo) > 256:
                    self._memo = {k: v for k, v in self._memo.items() if v[0] > now}
                self._memo[key] = (now + ttl, piece)
        return piece

    def _call(self, source, kind: str, symbol: str, timeframe: str | None, start: int, end: int):
        if kind == "klines":
            return source.fetch_klines(symbol, timeframe, start, end)
        if kind == "open_interest":
            return source.fetch_open_interest(symbol, timeframe, start, end)
        if kind == "funding":
            return source.fetch_funding(symbol, start, end)
        if kind == "liquidations":
            return source.fetch_liquidations(symbol, start, end)
        return source.fetch_long_short_ratio(symbol, timeframe, start, end)

    def _load(self, source, kind: str, symbol: str, timeframe: str | None, start: int, end: int) -> _Piece:
        if kind == "liquidations":
            return self._load_prints(source, symbol, start, end)
        if not self._persist(source):
            fetched = self._call(source, kind, symbol, timeframe, start, end)
            return _Piece(fetched.frame, list(fetched.warnings), origin=source.name)
        tf = timeframe if kind == "klines" else None
        stored = self.repo.load(kind, source.name, symbol, start, end, timeframe=tf)
        if self._offline(source):
            stored, notes = complete_klines(self.repo, source.name, symbol, timeframe, start, end, stored, kind)
            return _Piece(stored, notes, origin="store")
        fetch_from = self._fetch_from(kind, stored, timeframe, start, end)
        if fetch_from is None:
            return _Piece(stored, [], origin="store")
        if kind == "klines":  # a range the store can derive whole from finer bars needs no exchange
            derived, notes = complete_klines(self.repo, source.name, symbol, timeframe, start, end, stored)
            if notes and len(derived) >= (end - start) // timeframe_ms(timeframe) + 1:
                return _Piece(derived, notes, origin="store")
        try:
            fetched = self._call(source, kind, symbol, timeframe, fetch_from, end)
        except UpstreamError as exc:
            stored, notes = complete_klines(self.repo, source.name, symbol, timeframe, start, end, stored, kind)
            if stored.empty or kind != "klines":
                if kind == "klines":
                    raise
                # Secondary series: serve the bars without them rather than failing the whole overlay.
                log.warning("%s %s %s unavailable: %s", source.name, kind, symbol, exc.message)
                return _Piece(stored, [f"{kind} unavailable from {source.name}: {exc.message}"], stale=True)
            return _Piece(
                stored,
                [f"{source.name} unavailable ({exc.message}); serving stored data", *notes],
                stale=True,
                origin="store",
            )
        try:
            self.repo.save(kind, source.name, symbol, fetched.frame, timeframe=tf)
        except Exception:  # the answer matters more than the write-through
            log.exception("could not store %s %s %s", source.name, kind, symbol)
            return _Piece(fetched.frame, list(fetched.warnings))
        merged = self.repo.load(kind, source.name, symbol, start, end, timeframe=tf)
        return _Piece(merged, list(fetched.warnings))

    def _load_prints(self, source, symbol: str, start: int, end: int) -> _Piece:
        """Liquidation prints with time in [start, end], straight from the venue (its own breaker and retries): the
        store has no table for them, so they are not persisted; offline or failing, the bars carry NaN (unknown)
        rather than zero liquidations."""
        if self._offline(source):
            return _Piece(pd.DataFrame(), [], stale=True, origin="store")
        try:
            fetched = self._call(source, "liquidations", symbol, None, start, end)
        except UpstreamError as exc:
            log.warning("%s liquidations %s unavailable: %s", source.name, symbol, exc.message)
            return _Piece(pd.DataFrame(), [f"liquidations unavailable from {source.name}: {exc.message}"], stale=True)
        return _Piece(fetched.frame, list(fetched.warnings), origin=source.name)

    def _fetch_from(self, kind: str, stored: pd.DataFrame, timeframe: str | None, start: int, end: int):
        """Where the exchange must be asked from, or None when the store already covers [start, end]."""
        if stored.empty:
            return start
        times = stored["time"].to_numpy()
        if kind == "klines":
            step = timeframe_ms(timeframe)
            expected = (end - start) // step + 1
            if len(times) >= expected:
                return None
            contiguous = times[0] == start and np.all(np.diff(times) == step)
            return int(times[-1]) + step if contiguous else start
        slack = _FUNDING_SLACK_MS if kind == "funding" else timeframe_ms(timeframe or "5m")
        if times[-1] >= end - slack and times[0] <= start + slack:
            return None
        if times[0] <= start + slack:
            return int(times[-1]) + 1
        return start


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%MZ")


def _unique(items: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)
