"""Import Binance public-data archive files (https://data.binance.vision) into the store.

Binance publishes USD-M futures history as daily and monthly ``.zip`` files holding one CSV each; layout and
columns are documented in the README of github.com/binance/binance-public-data:

``klines``  ``BTCUSDT-1h-2025-01.zip`` / ``BTCUSDT-1h-2025-01-15.zip``: open_time, open, high, low, close,
    volume, close_time, quote_volume, count, taker_buy_volume, taker_buy_quote_volume, ignore. Files from 2025
    on may carry microsecond timestamps (binance-public-data issues #386, #387): told by magnitude, made ms.
``metrics``  ``BTCUSDT-metrics-2025-01-01.zip``, 5-minute rows: create_time ('YYYY-MM-DD HH:MM:SS', UTC),
    symbol, sum_open_interest, sum_open_interest_value, count_toptrader_long_short_ratio,
    sum_toptrader_long_short_ratio, count_long_short_ratio, sum_taker_long_short_vol_ratio (names as in
    binance-public-data issue #211).
``fundingRate``  ``BTCUSDT-fundingRate-2025-01.zip``: calc_time, funding_interval_hours, last_funding_rate;
    calc_time is floored to the second, as the REST source does.

Older files have no header row, newer ones have one; both are read, as are the camelCase headers of the REST
API (``openTime, ..., takerBuyBase, takerBuyQuote``; ``fundingTime, fundingIntervalHours, fundingRate``).
Files are read in chunks, so a year of 1m klines imports with bounded memory; every chunk is upserted, so
importing a file twice adds no duplicate row.
"""

from __future__ import annotations

import io
import re
import sys
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy.exc import SQLAlchemyError
from tqdm import tqdm

from ..timeframes import TIMEFRAMES

ARCHIVE_KINDS = ("klines", "metrics", "fundingRate")
_KINDS_TEXT = ", ".join(ARCHIVE_KINDS)
CHUNK_ROWS = 20_000

# Positional columns of each kind, in Binance's order (files without a header row).
COLUMNS = {
    "klines": ["open_time", "open", "high", "low", "close", "volume", "close_time", "quote_volume", "count",
               "taker_buy_volume", "taker_buy_quote_volume", "ignore"],
    "metrics": ["create_time", "symbol", "sum_open_interest", "sum_open_interest_value",
                "count_toptrader_long_short_ratio", "sum_toptrader_long_short_ratio",
                "count_long_short_ratio", "sum_taker_long_short_vol_ratio"],
    "fundingRate": ["calc_time", "funding_interval_hours", "last_funding_rate"],
}
_REQUIRED = {
    "klines": ["open_time", "open", "high", "low", "close", "volume"],
    "metrics": ["create_time"],
    "fundingRate": ["calc_time", "last_funding_rate"],
}
_TIME_COLUMN = {"open_time": "klines", "create_time": "metrics", "calc_time": "fundingRate"}
# Header spellings of the REST API (and /work/shared/data) -> archive names; keys lower-case, no underscores.
_ALIASES = {
    "trades": "count", "numberoftrades": "count", "takerbuybase": "taker_buy_volume",
    "takerbuybaseassetvolume": "taker_buy_volume", "takerbuyquote": "taker_buy_quote_volume",
    "takerbuyquoteassetvolume": "taker_buy_quote_volume", "quoteassetvolume": "quote_volume",
    "fundingtime": "calc_time", "fundingintervalhours": "funding_interval_hours",
    "fundingrate": "last_funding_rate", "timestamp": "create_time",
}
for _names in COLUMNS.values():
    _ALIASES.update({name.replace("_", ""): name for name in _names})

_NAME = re.compile(r"^(?P<symbol>[A-Za-z0-9_]+)-(?P<what>[A-Za-z0-9]+)-(?P<date>\d{4}-\d{2}(?:-\d{2})?)$")
_INTERVAL = re.compile(r"^\d+[smhdwM]$")
_SUFFIXES = {".zip", ".csv"}
_NOT_TRADE_KLINES = ("markPriceKlines", "indexPriceKlines", "premiumIndexKlines")


class ArchiveError(Exception):
    """A file that cannot be imported; the message says why and, where it helps, which flag to pass."""


@dataclass(frozen=True)
class ArchiveFile:
    path: Path
    kind: str
    symbol: str
    timeframe: str | None


@dataclass
class FileResult:
    path: str
    kind: str | None = None
    symbol: str | None = None
    timeframe: str | None = None
    rows_read: int = 0
    written: dict[str, int] = field(default_factory=dict)  # store kind -> rows upserted (new or already stored)
    new: dict[str, int] = field(default_factory=dict)  # store kind -> rows the store did not hold before
    first: int | None = None
    last: int | None = None
    error: str | None = None


@dataclass
class ImportReport:
    files: list[FileResult] = field(default_factory=list)

    @property
    def errors(self) -> dict[str, str]:
        return {f.path: f.error for f in self.files if f.error}

    @property
    def ok(self) -> bool:
        return bool(self.files) and not self.errors

    @property
    def symbols(self) -> list[str]:
        return sorted({f.symbol for f in self.files if f.symbol and f.rows_read})

    def per_kind(self) -> dict[str, dict]:
        """Store kind -> {rows_read, rows_written, rows_new, first, last} over all files.

        ``rows_written`` counts the rows handed to the store (an upsert), ``rows_new`` those it did not hold
        before: a re-import writes rows but adds none."""
        totals: dict[str, dict] = {}
        for f in self.files:
            for kind, written in f.written.items():
                t = totals.setdefault(kind, {"rows_read": 0, "rows_written": 0, "rows_new": 0, "first": None,
                                             "last": None})
                t["rows_read"] += f.rows_read
                t["rows_written"] += written
                t["rows_new"] += f.new.get(kind, 0)
                if f.first is not None:
                    t["first"] = f.first if t["first"] is None else min(t["first"], f.first)
                    t["last"] = f.last if t["last"] is None else max(t["last"], f.last)
        return totals

    @property
    def rows_read(self) -> dict[str, int]:
        return {kind: t["rows_read"] for kind, t in self.per_kind().items()}

    @property
    def rows_written(self) -> dict[str, int]:
        return {kind: t["rows_written"] for kind, t in self.per_kind().items()}

    @property
    def rows_new(self) -> dict[str, int]:
        return {kind: t["rows_new"] for kind, t in self.per_kind().items()}

    @property
    def span(self) -> tuple[int | None, int | None]:
        firsts = [f.first for f in self.files if f.first is not None]
        lasts = [f.last for f in self.files if f.last is not None]
        return (min(firsts) if firsts else None, max(lasts) if lasts else None)


def find_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files named by ``paths``, directories walked (sorted) for .zip/.csv; other paths kept as given."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in _SUFFIXES)
        else:
            found.append(path)
    return found


def describe(path: Path, *, symbol: str | None = None, timeframe: str | None = None,
             kind: str | None = None) -> ArchiveFile:
    """Kind, symbol and timeframe of a file from Binance's file name, overridden by the explicit arguments."""
    if not path.is_file():
        raise ArchiveError(f"{path}: no such file")
    if path.suffix.lower() not in _SUFFIXES:
        raise ArchiveError(f"{path}: not a .zip or .csv file")
    match = _NAME.match(path.stem)
    name_kind = name_tf = None
    if match:
        what = match["what"]
        if what in ("metrics", "fundingRate"):
            name_kind = what
        elif _INTERVAL.match(what):
            name_kind, name_tf = "klines", what
        elif kind is None:
            raise ArchiveError(f"{path}: Binance '{what}' files are not imported; {_KINDS_TEXT} are")
    if kind is None and name_kind == "klines" and any(part in _NOT_TRADE_KLINES for part in path.parts):
        raise ArchiveError(f"{path}: mark/index/premium price klines are not trade klines; not imported")
    kind = kind or name_kind or _kind_from_header(path)
    if kind not in ARCHIVE_KINDS:
        raise ArchiveError(f"{path}: cannot tell what the file holds; pass --kind ({_KINDS_TEXT})")
    symbol = symbol or (match["symbol"] if match else None)
    if not symbol:
        raise ArchiveError(f"{path}: cannot tell the symbol from the file name; pass --symbol (e.g. BTCUSDT)")
    tf = None
    if kind == "klines":
        tf = timeframe or name_tf
        if not tf:
            raise ArchiveError(f"{path}: cannot tell the kline interval from the file name; pass --timeframe")
        if tf not in TIMEFRAMES:
            raise ArchiveError(f"{path}: interval {tf!r} is not served; supported: {', '.join(TIMEFRAMES)}")
    return ArchiveFile(path=path, kind=kind, symbol=symbol.upper(), timeframe=tf)


@contextmanager
def _open_text(path: Path) -> Iterator[io.TextIOBase]:
    if path.suffix.lower() != ".zip":
        with open(path, encoding="utf-8-sig", newline="") as handle:
            yield handle
        return
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise ArchiveError(f"{path}: not a readable zip file ({exc})") from None
    with archive:
        members = [m for m in archive.namelist() if m.lower().endswith(".csv")]
        if len(members) != 1:
            raise ArchiveError(f"{path}: expected one .csv inside the zip, found {len(members)}")
        with archive.open(members[0]) as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text:
            yield text


def _header_names(first_line: str) -> list[str] | None:
    """Archive column names if the line is a header row, else None."""
    cells = [c.strip() for c in first_line.strip().split(",")]
    if not cells or not cells[0] or _is_number(cells[0]):
        return None
    return [_ALIASES.get(c.lower().replace("_", ""), c) for c in cells]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _kind_from_header(path: Path) -> str | None:
    try:
        with _open_text(path) as text:
            names = _header_names(text.readline()) or []
    except (OSError, UnicodeDecodeError):
        return None
    return next((_TIME_COLUMN[n] for n in names if n in _TIME_COLUMN), None)


def read_chunks(spec: ArchiveFile, chunk_rows: int | None = None) -> Iterator[pd.DataFrame]:
    """The file's rows as raw frames with archive column names, ``chunk_rows`` (CHUNK_ROWS) at a time."""
    chunk_rows = chunk_rows or CHUNK_ROWS
    with _open_text(spec.path) as text:
        first = text.readline()
    if not first.strip():
        return
    header = _header_names(first)
    names = header
    if names is None:
        width = len(first.split(","))
        expected = COLUMNS[spec.kind]
        names = expected[:width] + [f"extra_{i}" for i in range(width - len(expected))]
    missing = [c for c in _REQUIRED[spec.kind] if c not in names]
    if missing:
        raise ArchiveError(f"{spec.path}: not a {spec.kind} file; missing columns {missing} of {names}")
    with _open_text(spec.path) as text:
        try:
            yield from pd.read_csv(text, header=None, names=names, skiprows=1 if header else 0,
                                   chunksize=chunk_rows, dtype={"symbol": str}, index_col=False)
        except pd.errors.ParserError as exc:
            raise ArchiveError(f"{spec.path}: unreadable CSV: {exc}") from None


def to_epoch_ms(values: pd.Series) -> pd.Series:
    """Epoch timestamps in ms, µs or ns (told apart by magnitude: ms are < 1e14 until the year 5138) -> ms."""
    numbers = pd.to_numeric(values, errors="coerce")
    if pd.api.types.is_integer_dtype(numbers):
        arr = numbers.to_numpy(dtype="int64")
        out = np.where(arr >= 10**17, arr // 10**6, np.where(arr >= 10**14, arr // 1000, arr))
    else:
        arr = numbers.to_numpy(dtype="float64")
        out = np.where(arr >= 1e17, np.floor(arr / 1e6), np.where(arr >= 1e14, np.floor(arr / 1e3), arr))
    return pd.Series(out, index=values.index)


def _parse_time(values: pd.Series) -> pd.Series:
    """Epoch numbers, or UTC date-time strings such as metrics' '2025-01-01 00:05:00', -> epoch ms."""
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.notna().all():
        return to_epoch_ms(numbers)
    stamps = pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601")
    ms = (stamps - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1)
    return pd.Series(ms, index=values.index, dtype="float64")


def _column(chunk: pd.DataFrame, name: str) -> pd.Series:
    if name in chunk:
        return pd.to_numeric(chunk[name], errors="coerce")
    return pd.Series(np.nan, index=chunk.index)


def _kline_frame(chunk: pd.DataFrame, spec: ArchiveFile) -> pd.DataFrame:
    frame = pd.DataFrame({"time": to_epoch_ms(chunk["open_time"])})
    for name in ("open", "high", "low", "close", "volume", "quote_volume", "taker_buy_volume",
                 "taker_buy_quote_volume"):
        frame[name] = _column(chunk, name)
    frame["trades"] = _column(chunk, "count")
    _check_grid(frame["time"], to_epoch_ms(chunk["close_time"]) if "close_time" in chunk else None, spec)
    # A row without a price or volume is unusable (and NOT NULL in the store): skipped, so read > written.
    return frame.dropna(subset=["time", "open", "high", "low", "close", "volume"])


def _check_grid(open_ms: pd.Series, close_ms: pd.Series | None, spec: ArchiveFile) -> None:
    """Bars must open on the timeframe's grid and (where close_time is given) last exactly one timeframe."""
    step = TIMEFRAMES[spec.timeframe]
    bad = (open_ms % step != 0) & open_ms.notna()
    if close_ms is not None:
        length = close_ms - open_ms + 1
        bad |= (length != step) & length.notna()
    off_grid = open_ms[bad]
    if len(off_grid):
        first = pd.Timestamp(int(off_grid.iloc[0]), unit="ms", tz="UTC")
        raise ArchiveError(f"{spec.path}: {len(off_grid)} bars do not fit the {spec.timeframe} interval "
                           f"(first at {first}); wrong --timeframe?")


def to_frames(chunk: pd.DataFrame, spec: ArchiveFile) -> dict[str, pd.DataFrame]:
    """Store kind -> frame in the store's columns (``market.base``) for one raw chunk of a file."""
    if spec.kind == "klines":
        return {"klines": _kline_frame(chunk, spec)}
    if spec.kind == "fundingRate":
        # Floored to the second as market/binance.py does (settlements are stamped a few ms late, ...600015),
        # so archive and REST rows of one funding event share a key.
        calc = to_epoch_ms(chunk["calc_time"])
        frame = pd.DataFrame({"time": calc - calc % 1000, "funding_rate": _column(chunk, "last_funding_rate"),
                              "interval_hours": _column(chunk, "funding_interval_hours")})
        return {"funding": frame.dropna(subset=["time", "funding_rate"])}
    time = _parse_time(chunk["create_time"])
    ratio = _column(chunk, "count_long_short_ratio")
    frames = {
        "open_interest": pd.DataFrame({"time": time, "open_interest": _column(chunk, "sum_open_interest"),
                                       "open_interest_usd": _column(chunk, "sum_open_interest_value")}),
        # Binance's long/short account ratio is longAccount / shortAccount with longAccount + shortAccount = 1
        # (GET /futures/data/globalLongShortAccountRatio), so longAccount = ratio / (1 + ratio).
        "long_short_ratio": pd.DataFrame({"time": time, "long_short_ratio": ratio,
                                          "long_account": ratio / (1.0 + ratio)}),
    }
    # A sample with no value at all would overwrite stored values with NULL on upsert: leave it out.
    return {kind: f.dropna(subset=list(f.columns[1:]), how="all") for kind, f in frames.items()}


def import_file(repo, spec: ArchiveFile, exchange: str, result: FileResult, bar=None) -> None:
    """Stream one file into the store, filling ``result`` as it goes (so a failure mid-file still reports).

    New rows are counted from the store's row count before and after each upsert (an upsert never deletes), so
    the count is true whatever the driver reports for ``ON CONFLICT DO UPDATE``."""
    stored: dict[str, int] = {}

    def count(kind: str) -> int:
        return repo.span(kind, exchange, spec.symbol, spec.timeframe)[2]

    for chunk in read_chunks(spec):
        result.rows_read += len(chunk)
        for kind, frame in to_frames(chunk, spec).items():
            times = frame["time"].dropna()
            if len(times):
                first, last = int(times.min()), int(times.max())
                result.first = first if result.first is None else min(result.first, first)
                result.last = last if result.last is None else max(result.last, last)
            if kind not in stored:
                stored[kind] = count(kind)
            written = repo.save(kind, exchange, spec.symbol, frame, timeframe=spec.timeframe)
            result.written[kind] = result.written.get(kind, 0) + written
            if written:
                before, stored[kind] = stored[kind], count(kind)
                result.new[kind] = result.new.get(kind, 0) + stored[kind] - before
            else:
                result.new.setdefault(kind, 0)
        if bar is not None:
            bar.update(len(chunk))


def import_paths(repo, paths: Iterable[str | Path], *, exchange: str = "binance",
                 symbol: str | None = None, timeframe: str | None = None, kind: str | None = None,
                 progress: bool = True) -> ImportReport:
    """Import every archive file under ``paths`` through ``repo.save``; a bad file is reported, not fatal."""
    if kind is not None and kind not in ARCHIVE_KINDS:
        raise ArchiveError(f"unknown kind {kind!r}; one of {_KINDS_TEXT}")
    found = list(find_files(paths))
    report = ImportReport()
    with tqdm(total=None, unit=" rows", unit_scale=True, file=sys.stderr, disable=not progress,
              dynamic_ncols=True) as bar:
        for number, item in enumerate(found, start=1):
            result = FileResult(path=str(item))
            report.files.append(result)
            bar.set_description(f"file {number}/{len(found)} {item.name}")
            try:
                spec = describe(item, symbol=symbol, timeframe=timeframe, kind=kind)
                result.kind, result.symbol, result.timeframe = spec.kind, spec.symbol, spec.timeframe
                import_file(repo, spec, exchange, result, bar)
            except ArchiveError as exc:
                result.error = str(exc) if str(item) in str(exc) else f"{item}: {exc}"
            except (OSError, UnicodeDecodeError, zipfile.BadZipFile, ValueError, SQLAlchemyError) as exc:
                result.error = f"{item}: {type(exc).__name__}: {exc}"
    return report
