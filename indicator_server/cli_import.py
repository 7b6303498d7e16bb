"""``indicator-server import PATH...``: load Binance public-data archive files into the store.

``cli.py`` registers the subcommand with ``add_import_parser(subparsers)`` and runs it with
``run_import(args)``, whose return value is the exit code: 0 when every file imported, 1 when some file failed
or none was found (the others are still imported; the summary says which failed and why), 2 when the settings
or the store are unusable.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from .config import Settings
from .market.archive import ARCHIVE_KINDS, ImportReport, import_paths
from .store.db import Database
from .store.market_repo import MarketRepository
from .timeframes import TIMEFRAMES

DESCRIPTION = """\
Import Binance public-data archive files (data.binance.vision: klines, metrics, fundingRate), .zip or .csv,
with or without a header row. Directories are walked for .zip/.csv files. Kind, symbol and interval come from
Binance's file names (BTCUSDT-1h-2025-01.zip, BTCUSDT-metrics-2025-01-01.zip, BTCUSDT-fundingRate-2025-01.zip)
unless given with --kind, --symbol, --timeframe. Importing a file again adds no duplicate rows."""


def add_import_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "import", help="import Binance public-data archive files into the store", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help=".zip/.csv archive files or directories")
    parser.add_argument("--symbol", help="symbol for every file (default: from the file name)")
    parser.add_argument("--timeframe", choices=list(TIMEFRAMES), help="kline interval (default: from name)")
    parser.add_argument("--kind", choices=ARCHIVE_KINDS, help="what the files hold (default: from the name)")
    parser.add_argument("--exchange", default="binance", help="exchange to store the rows under (binance)")
    parser.add_argument("--database-url", help="SQLAlchemy URL of the store (default: DATABASE_URL)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    parser.set_defaults(func=run_import)
    return parser


def run_import(args: argparse.Namespace) -> int:
    try:
        settings = Settings.from_env()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    url = args.database_url or settings.database_url
    try:
        db = Database(url)
        db.create_schema()
    except Exception as exc:  # any driver error: say which store could not be opened
        print(f"error: cannot open the store {url}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    try:
        report = import_paths(
            MarketRepository(db), args.paths, exchange=args.exchange, symbol=args.symbol,
            timeframe=args.timeframe, kind=args.kind, progress=not args.no_progress,
        )
    finally:
        db.dispose()
    # The bar (stderr) is closed by now; flush it so the summary (stdout) always comes after it, on a terminal
    # and when both streams go to one file or pipe.
    sys.stderr.flush()
    print(format_report(report), flush=True)
    return 0 if report.ok else 1


def _when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")


def format_report(report: ImportReport) -> str:
    """The summary table printed after an import."""
    lines = [f"{'kind':<18}{'rows read':>12}{'rows new':>12}{'already stored':>16}  "
             f"{'first (UTC)':<18}{'last (UTC)':<18}"]
    for kind, t in sorted(report.per_kind().items()):
        lines.append(f"{kind:<18}{t['rows_read']:>12,}{t['rows_new']:>12,}{t['rows_written'] - t['rows_new']:>16,}  "
                     f"{_when(t['first']):<18}{_when(t['last']):<18}")
    failed = len(report.errors)
    lines.append(f"files: {len(report.files) - failed} imported, {failed} failed; "
                 f"symbols: {', '.join(report.symbols) or '-'}")
    if not report.files:
        lines.append("no .zip or .csv file found")
    for message in report.errors.values():
        lines.append(f"error: {message}")
    return "\n".join(line.rstrip() for line in lines)
