"""The ``indicator-server`` command: serve, import archives, write the published schemas, print the OpenAPI spec,
print the liquidation map's accuracy table."""

from __future__ import annotations

import argparse
import json
import os
import sys

from .accuracy.command import add_accuracy_parser
from .cli_import import add_import_parser, run_import
from .schemas_cli import add_schemas_parser, run_schemas

BANNER = """indicator-server {version} starting on http://{host}:{port}
  exchange data:  {exchanges} (default {default})   database: {database}
  chart:          http://{host}:{port}/chart?symbol=BTCUSDT&timeframe=1h
  try:            http://{host}:{port}/api/v1/overlays/confluence?symbol=BTCUSDT&timeframe=1h&limit=100
                  http://{host}:{port}/api/v1/overlays/oi-delta?symbol=ETHUSDT&timeframe=4h
                  http://{host}:{port}/api/v1/overlays/liquidations.png?symbol=BTCUSDT   (.pine: TradingView)
  TradingView:    UDF datafeed http://{host}:{port}/udf   Pine indicators in pine/
  API docs:       http://{host}:{port}/docs   (OpenAPI: /openapi.json)   health: /healthz /readyz
"""


def _serve(args: argparse.Namespace) -> int:
    from . import __version__
    from .config import Settings

    settings = Settings.from_env()
    env = dict(os.environ)
    env["PORT"] = str(args.port)
    env["HOST"] = args.host
    if args.workers:
        env["WEB_CONCURRENCY"] = str(args.workers)
    shown_host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    print(
        BANNER.format(
            version=__version__,
            host=shown_host,
            port=args.port,
            exchanges=",".join(settings.exchanges),
            default=settings.default_exchange,
            database=settings.database_url,
        ),
        flush=True,
    )
    if args.dev:
        from . import create_app

        create_app(settings).run(host=args.host, port=args.port, debug=False)
        return 0
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "python:indicator_server.gunicorn_conf",
        "indicator_server:create_app()",
    ]
    os.execve(sys.executable, argv, env)
    return 0  # pragma: no cover - execve does not return


def _openapi(_args: argparse.Namespace) -> int:
    from . import create_app
    from .config import Settings

    app = create_app(
        Settings.from_env().with_overrides(database_url="sqlite:///:memory:", context_workers=False)
    )
    print(json.dumps(app.extensions["indicator_api"].spec.to_dict(), indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="indicator-server", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="start the HTTP server (gunicorn; the default command)")
    serve.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve.add_argument(
        "--workers", type=int, default=None, help="gunicorn workers (default WEB_CONCURRENCY or 2)"
    )
    serve.add_argument("--dev", action="store_true", help="Flask's single-process server instead of gunicorn")
    serve.set_defaults(func=_serve)
    openapi = sub.add_parser("openapi", help="print the OpenAPI document")
    openapi.set_defaults(func=_openapi)
    add_import_parser(sub)
    sub.choices["import"].set_defaults(func=run_import)
    add_schemas_parser(sub)
    sub.choices["schemas"].set_defaults(func=run_schemas)
    add_accuracy_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        args = parser.parse_args(["serve", *(argv or [])])
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
