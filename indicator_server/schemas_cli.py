"""``indicator-server schemas [--check]``: write (or check) schemas/*.json from the marshmallow schemas.

The marshmallow schemas in ``api/signal_schemas.py`` are the single source: apispec converts them as the OpenAPI
document does, and the result is wrapped as a standalone JSON Schema (draft 2020-12, nested schemas under
``$defs``). ``--check`` exits 1 when a file differs from what the schemas generate (the test suite runs it).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from . import __version__
from .api.signal_schemas import SignalSchema, TradingViewAlertSchema

BASE_ID = "https://github.com/indicator-server/indicator-server/schemas/"
DOCUMENTS = {
    "tradingview-alert.schema.json": (TradingViewAlertSchema, "TradingView alert",
                                      "The alert message POSTed to /webhook/tradingview; unknown fields are kept."),
    "signal.schema.json": (SignalSchema, "Signal", "A stored signal as GET /api/v1/signals/<id> returns it."),
}


def _name(schema) -> str:
    cls = schema if isinstance(schema, type) else type(schema)
    return cls.__name__.removesuffix("Schema")


def _rewrite_refs(node):
    if isinstance(node, dict):
        return {k: (v.replace("#/components/schemas/", "#/$defs/") if k == "$ref" else _rewrite_refs(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_rewrite_refs(v) for v in node]
    return node


def generate(filename: str) -> str:
    schema, title, description = DOCUMENTS[filename]
    spec = APISpec(title="indicator-server", version=__version__, openapi_version="3.1.0",
                   plugins=[MarshmallowPlugin(schema_name_resolver=_name)])
    main = _name(schema)
    spec.components.schema(main, schema=schema)
    components = _rewrite_refs(spec.to_dict()["components"]["schemas"])
    document = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": BASE_ID + filename,
                "title": title, "description": description}
    document.update(components.pop(main))
    if components:
        document["$defs"] = dict(sorted(components.items()))
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def add_schemas_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("schemas", help="write or check schemas/*.json (JSON Schema of the webhook)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a file is missing or out of date")
    parser.add_argument("--dir", default="schemas", help="output folder (default: ./schemas)")
    parser.set_defaults(func=run_schemas)
    return parser


def run_schemas(args) -> int:
    folder = Path(args.dir)
    stale = []
    for filename in DOCUMENTS:
        path = folder / filename
        text = generate(filename)
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        if args.check:
            stale.append(str(path))
        else:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print("out of date (run `indicator-server schemas`): " + ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="indicator-server")
    add_schemas_parser(parser.add_subparsers(dest="command", required=True))
    arguments = parser.parse_args()
    raise SystemExit(arguments.func(arguments))
