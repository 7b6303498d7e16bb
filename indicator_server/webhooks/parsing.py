"""Turn a TradingView alert body into fields.

TradingView posts ``application/json`` when the alert message parses as JSON and ``text/plain`` otherwise
(DOMAIN.md section 8), so the body is read the same way whatever the Content-Type says, by one rule:

- a body that is JSON (RFC 8259: an object, array, string, number, ``true``, ``false`` or ``null``) must be a
  JSON object, otherwise it is refused (``malformed_json``): a bare ``"text"``, ``null`` or ``[...]`` is not an
  alert; a body that starts with ``{`` or ``[`` but does not parse is refused the same way;
- any other body is plain text, parsed best-effort as ``key=value`` lines (the other lines become the message)
  or kept whole as a free message.

Whatever its kind, an alert must be storable as it came: a NUL character (U+0000, raw or as ``\\u0000``) is
refused (``invalid_encoding``; PostgreSQL text cannot hold it and silently dropping it would alter the alert),
and JSON nested deeper than ``MAX_DEPTH`` levels is refused (``invalid_argument``; orjson reads 1,024 levels but
writes 254, and a real alert nests 3).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import orjson

from ..errors import InvalidArgument

_KEY_VALUE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.\-]{0,63})\s*=\s*(.*?)\s*$")
SECRET_KEYS = ("secret",)
MAX_DEPTH = 32  # levels of objects/arrays, the alert object itself being level 1


@dataclass
class ParsedBody:
    fields: dict[str, Any]
    kind: str  # "json" or "text"
    raw_text: str | None  # the plain-text body without secret lines; None for JSON

    def content_hash(self) -> str:
        """sha256 of the body without its secret: identical alerts hash alike whatever their key order."""
        if self.kind == "json":
            public = {k: v for k, v in self.fields.items() if k not in SECRET_KEYS}
            blob = orjson.dumps(public, option=orjson.OPT_SORT_KEYS)
        else:
            blob = (self.raw_text or "").encode()
        return hashlib.sha256(blob).hexdigest()


def _refuse_nul() -> InvalidArgument:
    return InvalidArgument("the alert contains a NUL character (U+0000), which cannot be stored; remove it",
                           code="invalid_encoding", details={"character": "U+0000"})


def check_storable(value: Any) -> None:
    """Refuse a parsed JSON value nested deeper than MAX_DEPTH or holding NUL in a key or string.

    Iterative (no recursion limit to hit) and stops at the first offence; cost is linear in the body's size."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
            if any("\x00" in key for key in item):
                raise _refuse_nul()
        elif isinstance(item, list):
            children = item
        else:
            if isinstance(item, str) and "\x00" in item:
                raise _refuse_nul()
            continue
        if depth > MAX_DEPTH:
            raise InvalidArgument(f"the alert nests objects/arrays deeper than {MAX_DEPTH} levels",
                                  details={"max_depth": MAX_DEPTH})
        stack.extend((child, depth + 1) for child in children)


def parse_body(raw: bytes) -> ParsedBody:
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidArgument("the alert body is not UTF-8 text", code="invalid_encoding") from None
    body = body.lstrip("\ufeff")
    if "\x00" in body:
        raise _refuse_nul()
    stripped = body.strip()
    if not stripped:
        raise InvalidArgument("the alert body is empty", code="empty_body")
    try:
        value = orjson.loads(stripped)
    except orjson.JSONDecodeError as exc:
        if stripped[0] in "{[":
            raise InvalidArgument("the alert body is not valid JSON", code="malformed_json",
                                  details={"reason": str(exc)[:200]}) from None
        return _parse_text(body)
    if not isinstance(value, dict):
        kind = _json_kind(value)
        raise InvalidArgument(f"the alert body is a JSON {kind}; it must be a JSON object",
                              code="malformed_json", details={"json_type": kind})
    check_storable(value)
    return ParsedBody(fields=value, kind="json", raw_text=None)


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return "number"


def _parse_text(body: str) -> ParsedBody:
    fields: dict[str, Any] = {}
    kept_lines = []
    message_lines = []
    for line in body.splitlines():
        match = _KEY_VALUE.match(line)
        if match:
            key, value = match.group(1), match.group(2)
            if key.lower() in SECRET_KEYS:
                fields[key.lower()] = value
                continue
            fields.setdefault(key, value)
        elif line.strip():
            message_lines.append(line.strip())
        kept_lines.append(line)
    if message_lines and "message" not in fields:
        fields["message"] = "\n".join(message_lines)
    return ParsedBody(fields=fields, kind="text", raw_text="\n".join(kept_lines).strip())
