"""Turn a TradingView alert body into fields.

TradingView posts ``application/json`` when the alert message parses as JSON and ``text/plain`` otherwise
(DOMAIN.md section 8), so the body is read the same way whatever the Content-Type says: a body that starts with
``{`` or ``[`` must be a JSON object; anything else is plain text, parsed best-effort as ``key=value`` lines (the
other lines become the message) or kept whole as a free message.
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


def parse_body(raw: bytes) -> ParsedBody:
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidArgument("the alert body is not UTF-8 text", code="invalid_encoding") from None
    body = body.lstrip("\ufeff")
    stripped = body.strip()
    if not stripped:
        raise InvalidArgument("the alert body is empty", code="empty_body")
    if stripped[0] in "{[":
        try:
            value = orjson.loads(stripped)
        except orjson.JSONDecodeError as exc:
            raise InvalidArgument("the alert body is not valid JSON", code="malformed_json",
                                  details={"reason": str(exc)[:200]}) from None
        if not isinstance(value, dict):
            raise InvalidArgument("the alert body must be a JSON object", code="malformed_json")
        return ParsedBody(fields=value, kind="json", raw_text=None)
    return _parse_text(body)


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
