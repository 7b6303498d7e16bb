"""The indicator-server command: its subcommands and the OpenAPI printout."""

from __future__ import annotations

import json

from indicator_server.cli import build_parser, main


def test_subcommands():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert {"serve", "openapi", "import", "schemas"} <= set(sub.choices)
    args = build_parser().parse_args(["serve", "--port", "9001", "--workers", "3"])
    assert args.port == 9001 and args.workers == 3 and args.func.__name__ == "_serve"


def test_openapi_prints_the_spec(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert main(["openapi"]) == 0
    spec = json.loads(capsys.readouterr().out)
    assert {"/api/v1/overlays/oi-delta", "/api/v1/overlays/liquidations", "/webhook/tradingview"} <= set(spec["paths"])


def test_schemas_check_passes_on_the_committed_files():
    assert main(["schemas", "--check"]) == 0
