"""schemas/*.json are generated from the marshmallow schemas and must not drift; the alert schema accepts the
README's template and the receiver's own examples."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import jsonschema
import pytest

from indicator_server.schemas_cli import DOCUMENTS, add_schemas_parser, generate, run_schemas

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"

# The README's template after TradingView replaced its placeholders.
FILLED_TEMPLATE = {
    "secret": "s", "ticker": "BTCUSDT.P", "exchange": "BINANCE", "interval": "60", "action": "buy",
    "price": 67123.4, "time": "2026-06-01T11:00:00Z", "timenow": "2026-06-01T12:00:03Z",
    "id": "BTCUSDT.P-60-2026-06-01T11:00:00Z-buy", "message": "RSI < 30",
    "strategy": {"order": {"action": "buy", "contracts": "0.5", "price": "67123.4", "id": "Long",
                           "comment": ""}, "market_position": "long", "position_size": "0.5"},
    "plots": {"plot_0": "28.1"},
}


def test_schema_files_match_the_marshmallow_schemas():
    args = argparse.Namespace(check=True, dir=str(SCHEMAS))
    assert run_schemas(args) == 0, "schemas/ is stale: run `indicator-server schemas`"


def test_check_reports_drift_and_the_command_rewrites(tmp_path):
    parser = argparse.ArgumentParser()
    add_schemas_parser(parser.add_subparsers(dest="command"))
    (tmp_path / "signal.schema.json").write_text("{}")
    assert run_schemas(parser.parse_args(["schemas", "--check", "--dir", str(tmp_path)])) == 1
    assert run_schemas(parser.parse_args(["schemas", "--dir", str(tmp_path)])) == 0
    assert run_schemas(parser.parse_args(["schemas", "--check", "--dir", str(tmp_path)])) == 0
    for name in DOCUMENTS:
        assert (tmp_path / name).read_text() == generate(name)


@pytest.fixture(scope="module")
def alert_schema():
    schema = json.loads((SCHEMAS / "tradingview-alert.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_the_readme_template_validates(alert_schema):
    alert_schema.validate(FILLED_TEMPLATE)
    alert_schema.validate({"secret": "s", "ticker": "ETHUSDT", "interval": 240, "price": "3000", "custom": [1]})


@pytest.mark.parametrize("bad", [{"price": True}, {"ticker": ["x"]}, {"strategy": "long"}, {"secret": 5}])
def test_the_schema_rejects_wrong_types(alert_schema, bad):
    with pytest.raises(jsonschema.ValidationError):
        alert_schema.validate(bad)
