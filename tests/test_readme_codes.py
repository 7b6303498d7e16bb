"""The README's list of error codes and of ``context_status`` values is the code's (issue 8, item 8).

Codes are collected from the source, not from a hand-kept list: every ``code = "..."`` class attribute and
``code="..."`` argument under indicator_server/, and every code of ``errors.HTTP_CODES`` (werkzeug's HTTP errors).
A new code that is not in the README's "Codes" list fails this test.
"""

from __future__ import annotations

import re
from pathlib import Path

from indicator_server.errors import HTTP_CODES

ROOT = Path(__file__).resolve().parents[1]
CODE = re.compile(r"""(?<![\w.])code\s*=\s*["']([a-z][a-z0-9_]*)["']""")


def _source() -> str:
    return "\n".join(p.read_text() for p in sorted((ROOT / "indicator_server").rglob("*.py")))


def codes_in_the_code() -> set[str]:
    return set(CODE.findall(_source())) | set(HTTP_CODES.values())


def readme_codes() -> set[str]:
    text = (ROOT / "README.md").read_text()
    start = text.index("Codes (every one the server can answer")
    block = text[start : text.index("A 500 `internal_error`", start) + len("A 500 `internal_error`")]
    return set(re.findall(r"`([a-z][a-z0-9_]*)`", block))


def test_the_scan_finds_the_codes_the_issue_listed():
    found = codes_in_the_code()
    assert {"upstream_rejected", "missing_secret", "wrong_secret", "unknown_token", "malformed_json",
            "empty_body", "invalid_argument", "internal_error"} <= found
    assert "status_code" not in found and len(found) > 25


def test_every_error_code_is_in_the_readme():
    missing = codes_in_the_code() - readme_codes()
    assert not missing, f"error codes the README does not list: {sorted(missing)}"


def test_every_context_status_is_in_the_readme():
    source = _source()
    # every quoted word after context_status on its line: context_status="failed" if give_up else "pending"
    statuses = {"filled", "partial"}  # set from the context's own status (webhooks/context.py)
    for line in source.splitlines():
        if "context_status" in line:
            statuses |= set(re.findall(r'"([a-z]+)"', line.split("context_status", 1)[1]))
    assert {"failed", "skipped"} <= statuses
    text = (ROOT / "README.md").read_text()
    paragraph = text[text.index("`context_status` starts as") :].split("\n\n", 1)[0]
    assert all(f"`{s}`" in paragraph for s in statuses), statuses
