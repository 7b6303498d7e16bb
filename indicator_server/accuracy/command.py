"""The ``accuracy`` subcommand of ``indicator-server`` (arguments, data-folder check, output)."""

from __future__ import annotations

import argparse
import json
import shlex
import sys

HELP = "print the liquidation map's accuracy per sim regime and on real data, next to two baselines"


def add_accuracy_parser(sub) -> argparse.ArgumentParser:
    parser = sub.add_parser("accuracy", help=HELP, description=HELP + " (held-out seeds, windows and days only)")
    parser.add_argument("--quick", action="store_true", help="one case per regime, a shorter window (< ~60 s)")
    parser.add_argument("--data", metavar="DIR", default=None,
                        help="the shared real-data folder (default $INDICATOR_SHARED_DATA or ../shared/data)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of the table")
    parser.add_argument("--regime", nargs="+", metavar="NAME", default=None,
                        help="sim regimes to score (default: all the sim knows)")
    parser.add_argument("--real", action=argparse.BooleanOptionalAction, default=True,
                        help="score on the real data too (default: yes)")
    parser.set_defaults(func=run_accuracy_command)
    return parser


def _command_line(args: argparse.Namespace) -> str:
    parts = ["indicator-server", "accuracy"]
    if args.quick:
        parts.append("--quick")
    if args.data:
        parts += ["--data", args.data]
    if args.json:
        parts.append("--json")
    if args.regime:
        parts += ["--regime", *args.regime]
    if not args.real:
        parts.append("--no-real")
    return shlex.join(parts)


def run_accuracy_command(args: argparse.Namespace) -> int:
    from . import run_accuracy
    from .data import default_data_dir, missing_files
    from .sim_scores import regime_names
    from .table import format_report, jsonable

    known = regime_names()
    unknown = [r for r in args.regime or [] if r not in known]
    if unknown:
        print(f"unknown regime {', '.join(unknown)}: the sim knows {', '.join(known)}", file=sys.stderr)
        return 2
    if args.real:
        missing = missing_files(args.data)
        if missing:
            where = args.data or default_data_dir()
            print(f"real data not found in {where} (missing {', '.join(str(m) for m in missing)}): pass --data DIR, "
                  "set INDICATOR_SHARED_DATA, or use --no-real", file=sys.stderr)
            return 2
    result = run_accuracy(args.regime, quick=args.quick, real=args.real, data_dir=args.data,
                          command=_command_line(args))
    if args.json:
        print(json.dumps(jsonable(result)))
    else:
        print(format_report(result))
    return 0
