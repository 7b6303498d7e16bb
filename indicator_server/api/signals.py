"""GET /api/v1/signals (keyset pagination, newest first), /api/v1/signals/<id>, /api/v1/signals.csv.

Signal ids are the store's 64-bit integer keys: an id above ``MAX_SIGNAL_ID`` (in the path or inside a cursor) is
refused at the edge, before it reaches the database driver.
"""

from __future__ import annotations

import base64
import csv
import io
import re

import orjson
from flask import Response, current_app
from flask.views import MethodView

from ..errors import InvalidArgument, NotFound
from ..store.signals import SIGNAL_COLUMNS
from ..webhooks import get_webhooks
from ..webhooks.normalise import normalise_action, normalise_exchange, normalise_symbol
from . import Blueprint
from .signal_schemas import SignalCsvQuerySchema, SignalPageSchema, SignalQuerySchema, SignalSchema

blp = Blueprint("signals", __name__, description="The log of received TradingView alerts, with market context.")

MAX_SIGNAL_ID = 2**63 - 1  # BIGINT / SQLite INTEGER: larger ids cannot exist (and overflow the drivers)
_CURSOR = re.compile(r"id:([0-9]{1,19})")


def _encode_cursor(signal_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{signal_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        match = _CURSOR.fullmatch(text)
        if match is None or not 0 < int(match[1]) <= MAX_SIGNAL_ID:
            raise ValueError(cursor)
        return int(match[1])
    except (ValueError, UnicodeDecodeError):
        raise InvalidArgument("invalid cursor", details={"fields": {"cursor": ["not a cursor of this API"]}}) \
            from None


def _filters(args):
    from ..store.signal_repo import SignalFilters

    return SignalFilters(
        exchange=normalise_exchange(args.get("exchange")),
        symbol=normalise_symbol(args["symbol"]) if args.get("symbol") else None,
        action=normalise_action(args.get("action")),
        since=args.get("since"),
        until=args.get("until"),
    )


def _query(args):
    before = _decode_cursor(args["cursor"]) if args.get("cursor") else None
    rows = get_webhooks(current_app).repo.query(_filters(args), limit=args["limit"], before_id=before)
    next_cursor = _encode_cursor(rows[-1].id) if len(rows) == args["limit"] else None
    return rows, next_cursor


@blp.route("/api/v1/signals")
class Signals(MethodView):
    @blp.arguments(SignalQuerySchema, location="query")
    @blp.response(200, SignalPageSchema)
    def get(self, args):
        """Signals, newest first; pass ``pagination.next_cursor`` as ``cursor`` for the next page."""
        rows, next_cursor = _query(args)
        return {"data": rows, "pagination": {"limit": args["limit"], "next_cursor": next_cursor}}


@blp.route(f"/api/v1/signals/<int(max={MAX_SIGNAL_ID}):signal_id>")
class SignalById(MethodView):
    @blp.response(200, SignalSchema)
    def get(self, signal_id: int):
        """One signal with its context and outcome."""
        row = get_webhooks(current_app).repo.get(signal_id)
        if row is None:
            raise NotFound(f"no signal {signal_id}", details={"id": signal_id})
        return row


# OWASP "CSV Injection" (owasp.org/www-community/attacks/CSV_Injection) and ASVS 5.0 V1.2.10: a cell starting
# with = + - @ tab or CR (ASVS adds NUL) is read as a formula by Excel, LibreOffice and Google Sheets.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\0")


def csv_cell(value) -> str:
    """A value as CSV text, safe to open in a spreadsheet.

    Text starting with one of ``FORMULA_START`` gets a leading single quote (the spreadsheets' "this is text"
    mark, OWASP's advice); numbers stored as numbers (a negative price or change) are not formulas and stay as
    they are. Objects and lists are written as JSON. Quoting is left to the writer (``signals_csv`` quotes every
    field, so CR, LF, commas and quotes inside a cell never split a row).
    """
    if value is None:
        return ""
    if isinstance(value, int | float):
        return str(value)
    text = orjson.dumps(value).decode() if isinstance(value, dict | list) else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def signals_csv(rows) -> str:
    """One row per signal: the stored columns, every payload field (``payload.<name>``), every context field
    (``context.<name>``) and each outcome (``outcome.<N>.change_pct``...).

    RFC 4180: CRLF line ends, every field in double quotes, a quote inside a field doubled; header names and
    cells go through ``csv_cell``, so a hostile payload key or message can neither split a row nor run a formula.
    """
    payload_keys: dict[str, None] = {}
    context_keys: dict[str, None] = {}
    outcome_keys: dict[tuple[str, str], None] = {}
    for row in rows:
        payload_keys.update(dict.fromkeys(row.payload or {}))
        context_keys.update(dict.fromkeys(row.context or {}))
        for n, result in (row.outcome or {}).items():
            outcome_keys.update(dict.fromkeys((str(n), k) for k in (result or {})))
    header = (SIGNAL_COLUMNS + ["raw_body"] + [f"payload.{k}" for k in payload_keys]
              + [f"context.{k}" for k in context_keys] + [f"outcome.{n}.{k}" for n, k in outcome_keys])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    writer.writerow([csv_cell(name) for name in header])
    for row in rows:
        outcome = {str(n): result for n, result in (row.outcome or {}).items()}
        cells = [getattr(row, c) for c in SIGNAL_COLUMNS] + [row.raw_body]
        cells += [(row.payload or {}).get(k) for k in payload_keys]
        cells += [(row.context or {}).get(k) for k in context_keys]
        cells += [(outcome.get(n) or {}).get(field) for n, field in outcome_keys]
        writer.writerow([csv_cell(c) for c in cells])
    return out.getvalue()


@blp.route("/api/v1/signals.csv")
class SignalsCsv(MethodView):
    @blp.arguments(SignalCsvQuerySchema, location="query")
    @blp.response(200, content_type="text/csv", description="CSV, newest first; X-Next-Cursor for more.")
    def get(self, args):
        """The same filters as /api/v1/signals, as CSV with a column for every stored alert field."""
        rows, next_cursor = _query(args)
        response = Response(signals_csv(rows), mimetype="text/csv")
        response.headers["Content-Disposition"] = "attachment; filename=signals.csv"
        if next_cursor:
            response.headers["X-Next-Cursor"] = next_cursor
        return response
