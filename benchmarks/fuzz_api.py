"""The full API fuzz run: schemathesis 4.x (``--checks all``, every phase, negative data included) against the real
server (gunicorn, 2 workers, simulator only, its own SQLite file) on 127.0.0.1, from ``/openapi.json`` alone.

    .venv/bin/python -m benchmarks.fuzz_api                 # 100 examples per operation
    .venv/bin/python -m benchmarks.fuzz_api --examples 500  # longer
    .venv/bin/python -m benchmarks.fuzz_api --examples 20 -- --include-path-regex overlays

Prints the operations tested, the requests sent, the failures found and the time taken; the exit status is
schemathesis's (0: no failure). Arguments after ``--`` go to ``st run`` unchanged. The bounded run of the test
suite is ``tests/api/test_schemathesis.py``. Source: https://schemathesis.readthedocs.io/ (CLI reference).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import schemathesis

from benchmarks._server import REPO, running_server

# The webhook token and secret of the run: schemathesis does not know them, so its alerts are refused (401/404),
# which the spec declares; a run with the secret would only store fuzz alerts.
FUZZ_ENV = {
    "EXCHANGES": "sim",
    "DEFAULT_EXCHANGE": "sim",
    "WEBHOOK_SECRET": "fuzz-secret-not-sent",
    "WEBHOOK_RATE_LIMIT": "0",
    "CONTEXT_WORKER": "false",
}


# Refusals of schema-valid requests that OpenAPI 3.0 cannot declare: each depends on another parameter, on the
# data or on the deployment, never on one parameter alone (those are declared: pattern, enum, minimum, ...).
# (path regex, error code, message regex, why). Anything else a valid request gets as 400 is a failure.
CROSS_FIELD_REFUSALS = [
    (r"^/api/v1/overlays/liquidations", "invalid_argument", r"^lookback .* is longer than the data",
     "the lookback reaches before the first stored/simulated bar (the data's history, README: 400 with "
     "details.available_bars)"),
    (r"^/api/v1/(overlays/liquidations|liquidation-price)", "invalid_argument", r"^invalid arguments: lookback$",
     "the lookback in bars depends on the timeframe (7d of 1m is 10,080 bars; the cap is in bars)"),
    (r"^/api/v1/(candles|overlays/)", "invalid_argument", r"^(invalid arguments: start$|the range holds no closed bar)",
     "start after end, or after the last closed bar (depends on end and on the clock)"),
    (r"^/api/v1/liquidation-price$", "invalid_argument",
     r"(tier|cross margin needs balance|contracts are not supported for|^invalid arguments: fee$)",
     "the exchange's leverage/notional tiers, balance for cross margin, inverse contracts per exchange, fee on "
     "OKX only: each depends on other parameters"),
    (r"^/api/v1/overlays/liquidations", "invalid_argument",
     r"^(invalid arguments: leverage_(tiers|weights)(, leverage_(tiers|weights))?$|the leverage filter keeps no tier "
     r"of the model used)",
     "model overrides: leverage_weights holds one weight per tier (of leverage_tiers, else of the 5 default tiers), "
     "not all 0, the tiers are distinct, and a leverage filter must keep a tier of the model used (calibrated "
     "tiers depend on the market): each depends on another parameter or on the data"),
    (r".", "unknown_exchange", r".", "a known exchange this deployment does not offer (EXCHANGES)"),
    (r"^/api/v1/signals", "invalid_argument", r"^invalid cursor$",
     "a cursor is opaque: only the next_cursor values the API returned are valid"),
    (r"^/udf/", None, r"^(from must not be after to|from or countback is required)$",
     "UDF ranges: from <= to, and from or countback (TradingView's adapter always sends them)"),
    (r"^/webhook/", "invalid_encoding", r"NUL character",
     "U+0000 anywhere in the alert (PostgreSQL text cannot hold it): a JSON schema cannot forbid it in every key"),
    (r"^/webhook/", "malformed_json", r"^the alert body is a JSON (?!object)",
     "a text/plain body that parses as a JSON scalar or array (issue 8 item 4's one rule: JSON must be an object): "
     "'does not parse as a non-object JSON value' has no JSON Schema form; the text/plain description says it"),
]
# schemathesis's own list, plus 414: gunicorn refuses a request line over 4094 bytes (declared in the spec)
ALLOWED_FOR_VALID = re.compile(r"^(2..|3..|401|403|404|409|414|429|5..)$")
CONFIG = """
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "414", "415", "422", "428", "429", "5xx"]
"""


@schemathesis.check
def valid_request_accepted(ctx, response, case) -> bool | None:
    """schemathesis's positive_data_acceptance, except the CROSS_FIELD_REFUSALS above (each with its reason)."""
    meta = getattr(case, "meta", None)
    if meta is None or not meta.generation.mode.is_positive:
        return None
    if ALLOWED_FOR_VALID.match(str(response.status_code)):
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    # the JSON API's {"error": {code, message}}, or UDF's {"s": "error", "errmsg"} (its code in X-Error-Code)
    error = body.get("error") if isinstance(body.get("error"), dict) else \
        {"code": None, "message": str(body.get("errmsg", ""))}
    path = case.operation.path
    for path_re, code, message_re, _why in CROSS_FIELD_REFUSALS:
        if re.search(path_re, path) and error.get("code") == code and re.search(message_re, error.get("message") or ""):
            return None
    raise AssertionError(f"valid data refused with {response.status_code}: {error or response.content[:200]!r}")


def st_command(base: str, examples: int, report_dir: str, extra: list[str], workers: int = 1) -> list[str]:
    st = Path(sys.executable).with_name("st")
    config = Path(report_dir) / "schemathesis.toml"
    config.write_text(CONFIG)
    return [
        os.fspath(st), "--config-file", os.fspath(config), "run", f"{base}/openapi.json", "--url", base,
        "--checks", "all", "--exclude-checks", "positive_data_acceptance", "--mode", "all",
        "--max-examples", str(examples), "--workers", str(workers), "--seed", "1", "--request-timeout", "30",
        "--suppress-health-check", "all", "--report", "ndjson", "--report-dir", report_dir,
        "--no-color", *extra,
    ]


def summarise(output: str) -> dict[str, int]:
    """Operations, test cases (requests) and failures from schemathesis's summary text."""
    def number(pattern: str) -> int:
        match = re.search(pattern, output)
        return int(match.group(1).replace(",", "")) if match else 0
    return {"operations": number(r"Operations:\s+(\d+) selected"),
            "requests": number(r"(\d[\d,]*) generated"),
            "failures": number(r"(\d+) unique failures?"),
            "errors": number(r"(\d+) errors?[, ]")}


def run(examples: int, extra: list[str] = (), workers: int = 1) -> tuple[int, dict[str, int], str]:
    """One schemathesis run against a fresh server: (exit status, figures, output)."""
    with running_server(workers=2, env=FUZZ_ENV) as (base, _proc), \
            tempfile.TemporaryDirectory(prefix="fuzz-api-") as report_dir:
        started = time.monotonic()
        command = st_command(base, examples, report_dir, list(extra), workers)
        env = dict(os.environ, SCHEMATHESIS_HOOKS="benchmarks.fuzz_api", PYTHONPATH=os.fspath(REPO))
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
        figures = summarise(done.stdout)
        figures["seconds"] = round(time.monotonic() - started)
    return done.returncode, figures, " ".join(command) + "\n" + done.stdout + done.stderr


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    own = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100, help="examples per operation and phase")
    parser.add_argument("--workers", type=int, default=1, help="schemathesis workers (the server has 2)")
    args = parser.parse_args(own)
    rc, figures, output = run(args.examples, extra, args.workers)
    print(output)
    print(f"operations {figures['operations']}  requests {figures['requests']:,}  failures {figures['failures']}  "
          f"errors {figures['errors']}  time {figures['seconds']} s  exit {rc}")
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
