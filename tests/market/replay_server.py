"""A local stand-in for Binance USD-M futures REST, for tests and benchmarks (127.0.0.1 only).

Answers ``/fapi/v1/klines``, ``/fapi/v1/fundingRate``, ``/fapi/v1/premiumIndex``,
``/futures/data/openInterestHist`` and ``/futures/data/globalLongShortAccountRatio`` in Binance's JSON formats
(decimal strings where Binance sends strings) with Binance's parameter semantics, from the rows described in
``replay_data``. Only BTCUSDT exists; any other symbol gets ``{"code":-1121,"msg":"Invalid symbol."}``.

Semantics (Binance's documentation; the stricter reading where it is silent):

- klines: limit default 500, max 1500 (larger limits are clamped); ``startTime`` -> the first ``limit`` rows
  from it; only ``endTime`` -> the last ``limit`` rows up to it; neither -> the latest ``limit``. Rows open at
  or before ``now``; the bar containing ``now`` is served too (its ``closeTime`` is after ``now``: still open,
  though its values are the recorded final ones).
- fundingRate: limit default 100, max 1000, ascending, ``startTime`` + ``limit``; neither time -> latest 200.
- openInterestHist / globalLongShortAccountRatio: period required (5m..1d), limit default 30, max 500; only
  the latest 30 days before ``now`` exist, and a ``startTime`` older than that is refused with -1130 (as
  Binance does). Pages are end-anchored: more rows than ``limit`` in range -> the *latest* ``limit`` of them
  (with only ``startTime`` the range runs to ``now``). ``timestamp`` is a JSON number, as the live API sends.
- premiumIndex: mark price = close of the last closed 1h kline, index price 0.02% below, ``lastFundingRate``
  the next recorded rate after ``now``, ``nextFundingTime`` the next 8h boundary.

``now`` (epoch ms) is settable; it defaults to 2026-08-01T00:00Z, just after the data ends. Faults are
scripted per path (:meth:`ReplayServer.script`); every request is logged (:attr:`ReplayServer.log`).

Standalone: ``python -m tests.market.replay_server --port 8765 [--now 2026-07-31T12:30:00Z]``.
"""

from __future__ import annotations

import argparse
import json
import socket
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np

from . import replay_data as data

DEFAULT_NOW_MS = 1_785_542_400_000  # 2026-08-01T00:00:00Z
THIRTY_DAYS_MS = 30 * data.DAY_MS
KLINES, FUNDING, PREMIUM = "/fapi/v1/klines", "/fapi/v1/fundingRate", "/fapi/v1/premiumIndex"
OPEN_INTEREST, LONG_SHORT = "/futures/data/openInterestHist", "/futures/data/globalLongShortAccountRatio"


class BinanceError(Exception):
    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(msg)
        self.code, self.msg, self.status = code, msg, status


@dataclass
class Scripted:
    """One scripted answer. ``body=None`` means the real answer (possibly delayed or truncated)."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    truncate: int | None = None
    content_type: str = "application/json"

    @classmethod
    def rate_limited(cls, retry_after: int | None = 2) -> Scripted:
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        body = {
            "code": -1003,
            "msg": "Too many requests; current limit of IP(127.0.0.1) is 2400 requests per minute. "
            "Please use the websocket for live updates to avoid polling the API.",
        }
        return cls(429, body, headers)

    @classmethod
    def banned(cls, retry_after: int = 120) -> Scripted:
        body = {"code": -1003, "msg": "Way too many requests; IP(127.0.0.1) banned until 1785542520000. "
                "Please use the websocket for live updates to avoid bans."}
        return cls(418, body, {"Retry-After": str(retry_after)})

    @classmethod
    def server_error(cls, status: int = 503) -> Scripted:
        if status == 503:
            return cls(503, "Service Unavailable.", content_type="text/plain")
        return cls(status, {"code": -1000, "msg": "An unknown error occured while processing the request."})

    @classmethod
    def slow(cls, delay: float) -> Scripted:
        return cls(delay=delay)

    @classmethod
    def truncated(cls, keep: int = 40) -> Scripted:
        return cls(truncate=keep)

    @classmethod
    def html(cls, status: int = 200) -> Scripted:
        page = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
        return cls(status, page, content_type="text/html")

    @classmethod
    def invalid_symbol(cls) -> Scripted:
        return cls(400, {"code": -1121, "msg": "Invalid symbol."})


@dataclass(frozen=True)
class LoggedRequest:
    path: str
    params: dict[str, str]
    status: int


def _missing(name: str) -> BinanceError:
    return BinanceError(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")


def _int_param(params: dict[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise BinanceError(-1100, f"Illegal characters found in parameter '{name}'; legal range is "
                                  "'^[0-9]{1,20}$'.") from None


def _symbol(params: dict[str, str], required: bool = True) -> str | None:
    symbol = params.get("symbol")
    if not symbol:
        if required:
            raise _missing("symbol")
        return None
    if symbol != data.SYMBOL:
        raise BinanceError(-1121, "Invalid symbol.")
    return symbol


def _limit(params: dict[str, str], default: int, maximum: int) -> int:
    limit = _int_param(params, "limit")
    if limit is None:
        return default
    if limit <= 0:
        raise BinanceError(-1130, "Data sent for parameter 'limit' is not valid.")
    return min(limit, maximum)


def _window(times: np.ndarray, start: int | None, end: int | None, limit: int, anchor_end: bool) -> slice:
    """Indices of rows in [start, end] (inclusive), ``limit`` of them from the start or the end."""
    lo = 0 if start is None else int(np.searchsorted(times, start, side="left"))
    hi = len(times) if end is None else int(np.searchsorted(times, end, side="right"))
    if hi <= lo:
        return slice(0, 0)
    if anchor_end:
        return slice(max(lo, hi - limit), hi)
    return slice(lo, min(hi, lo + limit))


class ReplayServer:
    """Threaded HTTP server on 127.0.0.1; ``port=0`` picks a free port. A context manager, or start()/stop()."""

    def __init__(
        self, *, port: int = 0, now_ms: int = DEFAULT_NOW_MS, data_dir: Path = data.DATA_DIR
    ) -> None:
        self.now_ms = now_ms
        self.klines = data.load_klines(data_dir)
        self.funding = data.load_funding(data_dir)
        self.log: list[LoggedRequest] = []
        self._scripts: dict[str, deque[Scripted]] = defaultdict(deque)
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ReplayServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="binance-replay", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # Test controls
    def script(self, path: str, *responses: Scripted) -> None:
        """Queue answers for ``path``; each request takes the next one, then real answers resume."""
        with self._lock:
            self._scripts[path].extend(responses)

    def requests(self, path: str | None = None) -> list[LoggedRequest]:
        with self._lock:
            return [entry for entry in self.log if path is None or entry.path == path]

    def reset(self) -> None:
        with self._lock:
            self.log.clear()
            self._scripts.clear()
        self.now_ms = DEFAULT_NOW_MS

    def next_script(self, path: str) -> Scripted | None:
        with self._lock:
            queue = self._scripts.get(path)
            return queue.popleft() if queue else None

    def record(self, path: str, params: dict[str, str], status: int) -> None:
        with self._lock:
            self.log.append(LoggedRequest(path, params, status))

    # Endpoints
    def answer(self, path: str, params: dict[str, str]) -> Any:
        handlers = {KLINES: self._klines, FUNDING: self._funding, PREMIUM: self._premium,
                    OPEN_INTEREST: self._open_interest, LONG_SHORT: self._long_short}
        if path not in handlers:
            raise BinanceError(-5000, "Path not found", status=404)
        return handlers[path](params)

    def _times(self, params: dict[str, str]) -> tuple[int | None, int | None]:
        start, end = _int_param(params, "startTime"), _int_param(params, "endTime")
        if start is not None and end is not None and start > end:
            raise BinanceError(-1023, "Start time is greater than end time.")
        return start, end

    def _klines(self, params: dict[str, str]) -> list:
        _symbol(params)
        interval = params.get("interval")
        if not interval:
            raise _missing("interval")
        if interval not in self.klines:
            raise BinanceError(-1120, "Invalid interval.")
        series = self.klines[interval]
        limit = _limit(params, 500, 1500)
        start, end = self._times(params)
        end = self.now_ms if end is None else min(end, self.now_ms)
        return series.rows[_window(series.times, start, end, limit, anchor_end=start is None)]

    def _funding(self, params: dict[str, str]) -> list:
        _symbol(params, required=False)
        start, end = self._times(params)
        if start is None and end is None:
            limit = _limit(params, 200, 1000)
        else:
            limit = _limit(params, 100, 1000)
        end = self.now_ms if end is None else min(end, self.now_ms)
        return self.funding.rows[_window(self.funding.times, start, end, limit, anchor_end=start is None)]

    def _premium(self, params: dict[str, str]) -> Any:
        symbol = _symbol(params, required=False)
        mark = data.price_at(self.now_ms, self.klines["1h"])
        upcoming = int(np.searchsorted(self.funding.times, self.now_ms, side="right"))
        rate = self.funding.rows[min(upcoming, len(self.funding.rows) - 1)]["fundingRate"]
        eight_hours = 8 * data.HOUR_MS
        row = {
            "symbol": data.SYMBOL,
            "markPrice": f"{mark:.8f}",
            "indexPrice": f"{mark * 0.9998:.8f}",
            "estimatedSettlePrice": f"{mark * 0.9999:.8f}",
            "lastFundingRate": rate,
            "interestRate": "0.00010000",
            "nextFundingTime": self.now_ms - self.now_ms % eight_hours + eight_hours,
            "time": self.now_ms,
        }
        return row if symbol else [row]

    def _stat_rows(self, params: dict[str, str], make_row) -> list:
        _symbol(params)
        period = params.get("period")
        if not period:
            raise _missing("period")
        if period not in data.STAT_PERIODS:
            raise BinanceError(-1130, "Data sent for parameter 'period' is not valid.")
        step = data.INTERVAL_MS[period]
        limit = _limit(params, 30, 500)
        start, end = self._times(params)
        oldest = self.now_ms - THIRTY_DAYS_MS
        if start is not None and start < oldest:
            raise BinanceError(-1130, "Data sent for parameter 'startTime' is not valid.")
        first = oldest + (-oldest) % step
        last = self.now_ms - self.now_ms % step
        lo = first if start is None else max(first, start + (-start) % step)
        hi = last if end is None else min(last, end - end % step)
        if hi < lo:
            return []
        times = np.arange(lo, hi + 1, step, dtype=np.int64)[-limit:]
        return [make_row(int(ms)) for ms in times]

    def _open_interest(self, params: dict[str, str]) -> list:
        hourly = self.klines["1h"]
        return self._stat_rows(params, lambda ms: data.open_interest_row(ms, hourly))

    def _long_short(self, params: dict[str, str]) -> list:
        return self._stat_rows(params, data.long_short_row)


def _handler_for(server: ReplayServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes: without this, Nagle + delayed ACK add ~40 ms per request.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            params = {key: values[-1] for key, values in parse_qs(parts.query).items()}
            scripted = server.next_script(parts.path) or Scripted()
            if scripted.delay and server.stopping.wait(scripted.delay):
                return
            if scripted.body is not None:
                status, body = scripted.status, scripted.body
            else:
                try:
                    status, body = 200, server.answer(parts.path, params)
                except BinanceError as exc:
                    status, body = exc.status, {"code": exc.code, "msg": exc.msg}
            server.record(parts.path, params, status)
            if isinstance(body, str):
                payload = body.encode()
            else:
                payload = json.dumps(body, separators=(",", ":")).encode()
            if scripted.truncate is not None:
                payload = payload[: scripted.truncate]
            content_type = scripted.content_type if scripted.body is not None else "application/json"
            try:
                self.send_response(status)
                self.send_header("Content-Type", f"{content_type};charset=UTF-8")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in scripted.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

    return Handler


def _parse_now(text: str) -> int:
    if text.isdigit():
        return int(text)
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).timestamp() * 1000)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve recorded Binance USD-M data on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--now", default=str(DEFAULT_NOW_MS), help="epoch ms or ISO time (default: data end)")
    parser.add_argument("--data-dir", type=Path, default=data.DATA_DIR)
    args = parser.parse_args(argv)
    server = ReplayServer(port=args.port, now_ms=_parse_now(args.now), data_dir=args.data_dir.resolve())
    print(f"Binance replay on {server.url} (now={server.now_ms}); Ctrl-C stops", flush=True)
    server.start()
    try:
        server.stopping.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
