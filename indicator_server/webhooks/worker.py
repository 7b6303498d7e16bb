"""The context filler: fills each new signal's market context right after the reply, retries what market
data could not serve yet, and fills follow-up outcomes as their bars close.

All its work is found in the database (``context_status``/``outcome_status`` pending and due), so a restart
loses nothing; rows are leased (``claimed_until``) so several workers share the work without doing it twice.
Contexts are memoised per (exchange, symbol, timeframe, bar) for a minute: a burst of alerts on one market
costs one market-data call.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import OrderedDict
from typing import Any

import orjson

from ..timeframes import timeframe_ms
from .context import PERMANENT_ERRORS, compute_context, latency_fields
from .outcomes import fill_outcome, next_due, parse_outcome_bars

log = logging.getLogger(__name__)
LEASE_MS = 60_000
MAX_ATTEMPTS = 200
MAX_BACKOFF_MS = 600_000
MEMO_MS = 60_000


def backoff_ms(attempts: int) -> int:
    return min(MAX_BACKOFF_MS, 5_000 * 2 ** min(attempts, 10))


class ContextFiller:
    def __init__(self, *, repo, market, settings, clock) -> None:
        self.repo = repo
        self.market = market
        self.settings = settings
        self.clock = clock
        self.outcome_bars = parse_outcome_bars(settings.signal_outcome_bars)
        self._memo: OrderedDict[tuple, tuple[int, dict[str, Any], str]] = OrderedDict()
        self._failures: dict[tuple, Exception] = {}

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def run_due(self, limit: int = 200) -> int:
        """Process what is due now; returns how many rows were processed."""
        now = self.now_ms()
        rows = self.repo.claim_due(now_ms=now, lease_ms=LEASE_MS + random.randrange(1000), limit=limit)
        self._failures = {}  # market errors of this round: one unreachable market is asked once per batch
        results = []
        for row in rows:
            try:
                if row.context_status == "pending":
                    results.append((row.id, self.fill_context(row, now)))
                else:
                    results.append((row.id, self.fill_outcome(row, now)))
            except Exception:  # one bad row must not stop the others; its lease expires and it is retried
                log.exception("context filler: signal %s", row.id)
        self.repo.save_work(results)  # one write transaction per batch: the receiver waits less for the lock
        return len(rows)

    def _context(self, row) -> tuple[dict[str, Any], str]:
        key = (row.exchange, row.symbol, row.timeframe, row.received_at // 60_000)
        now = self.now_ms()
        hit = self._memo.get(key)
        if key in self._failures:
            raise self._failures[key]
        if hit and now - hit[0] < MEMO_MS:
            context, status = dict(hit[1]), hit[2]
        else:
            try:
                context, status = compute_context(self.market, row)
            except Exception as exc:
                self._failures[key] = exc
                raise
            # plain JSON types only (numpy scalars, NaN -> null): one odd value must not fail the batch's write
            context = orjson.loads(orjson.dumps(context, option=orjson.OPT_SERIALIZE_NUMPY, default=str))
            self._memo[key] = (now, dict(context), status)
            while len(self._memo) > 256:
                self._memo.popitem(last=False)
        context.update(latency_fields(row.received_at, row.fired_at, row.bar_time))
        if row.price is not None and context.get("close"):
            context["price_vs_close_pct"] = (row.price / context["close"] - 1) * 100
        return context, status

    def fill_context(self, row, now: int) -> dict[str, Any]:
        attempts = row.context_attempts + 1
        try:
            context, status = self._context(row)
        except PERMANENT_ERRORS as exc:
            context = {"error": exc.message, **latency_fields(row.received_at, row.fired_at, row.bar_time)}
            return dict(context=context, context_status="failed", context_attempts=attempts,
                        outcome_status="skipped")
        except Exception as exc:  # market data unreachable or not there yet: keep pending, retry later
            give_up = attempts >= MAX_ATTEMPTS
            context = {"pending_reason": f"{type(exc).__name__}: {exc}"[:300],
                       **latency_fields(row.received_at, row.fired_at, row.bar_time)}
            return dict(context=context, context_attempts=attempts,
                        context_status="failed" if give_up else "pending",
                        outcome_status="skipped" if give_up else "pending",
                        context_next_at=now + backoff_ms(attempts - 1))
        step = timeframe_ms(context["timeframe"])
        return dict(context=context, context_status=status, context_attempts=attempts,
                    outcome_status="pending", outcome=row.outcome or {},
                    outcome_next_at=next_due(row.outcome or {}, context["bar_time"], step, self.outcome_bars))

    def fill_outcome(self, row, now: int) -> dict[str, Any]:
        context = row.context or {}
        t0, c0, timeframe = context.get("bar_time"), context.get("close"), context.get("timeframe")
        if t0 is None or not c0 or not timeframe:
            return dict(outcome_status="skipped")
        step = timeframe_ms(timeframe)
        outcome = dict(row.outcome or {})
        due = [n for n in self.outcome_bars if str(n) not in outcome and t0 + (n + 1) * step <= now]
        closes: dict[int, float] = {}
        if due:
            try:
                bars = self.market.bars(row.exchange, row.symbol, timeframe, start=t0, limit=max(due) + 1)
                closes = dict(zip(bars.frame["time"].astype(int), bars.frame["close"].astype(float), strict=True))
            except Exception as exc:
                log.info("outcome of signal %s: market data unavailable (%s)", row.id, type(exc).__name__)
                return dict(outcome_next_at=now + 60_000)
        outcome = fill_outcome(outcome, closes, t0=t0, step=step, c0=c0, action=row.action,
                               bars=self.outcome_bars, now_ms=now)
        upcoming = next_due(outcome, t0, step, self.outcome_bars)
        if upcoming is not None and upcoming <= now:
            upcoming = now + 60_000  # the bar has closed but is not served yet
        return dict(outcome=outcome, outcome_status="pending" if upcoming else "done", outcome_next_at=upcoming)


class FillerThread:
    """Runs ``ContextFiller.run_due`` in the background; ``wake()`` after an insert makes it start at once."""

    def __init__(self, app, filler: ContextFiller, poll_seconds: float = 2.0, batch_delay: float = 0.5) -> None:
        self.app = app
        self.filler = filler
        self.poll_seconds = poll_seconds
        self.batch_delay = batch_delay
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="signal-context", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                with self.app.app_context():
                    processed = self.filler.run_due()
            except Exception:
                log.exception("context filler loop")
                processed = 0
            if not processed:
                if self._wake.wait(self.poll_seconds):
                    # gather a burst into one batch: fewer write transactions competing with the receiver
                    self._stop.wait(self.batch_delay)
