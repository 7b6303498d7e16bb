"""`indicator-server import`: arguments, summary, exit codes, the progress bar, PostgreSQL."""

from __future__ import annotations

import argparse

import pytest

from indicator_server.cli_import import add_import_parser, run_import
from indicator_server.store.db import Database
from indicator_server.store.market_repo import MarketRepository
from tests.market.archive_files import (
    HOUR,
    JAN,
    _month,
    archive_funding,
    archive_klines,
    assert_klines_equal,
    metrics_frame,
    write_archive,
)
from tests.services import postgres_schema

# --- the command line ---------------------------------------------------------------------------------------

def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="indicator-server")
    add_import_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["import", *argv])


def test_cli_imports_and_prints_a_summary(tmp_path, klines, capsys, monkeypatch):
    write_archive(tmp_path / "in" / "BTCUSDT-1h-2025-01.zip", archive_klines(_month(klines, "openTime")))
    url = f"sqlite:///{tmp_path / 'env.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    args = parse(str(tmp_path / "in"))
    assert args.func is run_import and args.exchange == "binance"
    assert run_import(args) == 0
    captured = capsys.readouterr()
    assert "klines" in captured.out and "744" in captured.out and "2025-01-31 23:00" in captured.out
    assert "rows" in captured.err  # the progress bar goes to stderr
    db = Database(url)
    assert MarketRepository(db).span("klines", "binance", "BTCUSDT", "1h")[2] == 744
    db.dispose()


def test_cli_exit_code_and_errors(tmp_path, capsys):
    bad = tmp_path / "BTCUSDT-1h-2025-01.zip"
    bad.write_bytes(b"not a zip")
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert run_import(parse(str(bad), "--database-url", url, "--no-progress")) == 1
    captured = capsys.readouterr()
    assert "1 failed" in captured.out and "not a readable zip" in captured.out and captured.err == ""
    assert run_import(parse(str(tmp_path / "empty-dir-nothing"), "--database-url", url, "--no-progress")) == 1
    with pytest.raises(SystemExit):
        parse(str(bad), "--timeframe", "3m")


def test_indicator_server_main_runs_the_import(tmp_path, klines, capsys):
    from indicator_server.cli import main

    write_archive(tmp_path / "BTCUSDT-1h-2025-01.zip", archive_klines(_month(klines, "openTime")))
    url = f"sqlite:///{tmp_path / 'main.db'}"
    assert main(["import", str(tmp_path), "--database-url", url, "--no-progress"]) == 0
    assert "744" in capsys.readouterr().out


def _summary(out: str) -> dict[str, list[str]]:
    lines = out.splitlines()
    assert lines[0].split() == ["kind", "rows", "read", "rows", "new", "already", "stored", "first", "(UTC)",
                                "last", "(UTC)"]
    return {line.split()[0]: line.split()[1:4] for line in lines[1:] if not line.startswith(("files:", "error"))}


def test_the_summary_counts_new_rows_so_a_reimport_says_it_added_none(tmp_path, klines, capsys):
    jan = _month(klines, "openTime")
    write_archive(tmp_path / "in" / "BTCUSDT-1h-2025-01.zip", archive_klines(jan))
    url = f"sqlite:///{tmp_path / 'again.db'}"
    assert run_import(parse(str(tmp_path / "in"), "--database-url", url, "--no-progress")) == 0
    assert _summary(capsys.readouterr().out) == {"klines": ["744", "744", "0"]}
    assert run_import(parse(str(tmp_path / "in"), "--database-url", url, "--no-progress")) == 0
    assert _summary(capsys.readouterr().out) == {"klines": ["744", "0", "744"]}
    # half new: a February file beside the January one
    feb = _month(klines, "openTime", JAN[1], JAN[1] + 24 * HOUR)
    write_archive(tmp_path / "in" / "BTCUSDT-1h-2025-02-01.zip", archive_klines(feb))
    assert run_import(parse(str(tmp_path / "in"), "--database-url", url, "--no-progress")) == 0
    assert _summary(capsys.readouterr().out) == {"klines": [f"{744 + 24:,}", "24", "744"]}


def test_the_progress_bar_ends_before_the_summary_on_a_terminal(tmp_path, klines):
    """Both streams on one pseudo-terminal, as in an interactive shell: the bar's last state, then the summary,
    then nothing."""
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import sys
    import termios

    write_archive(tmp_path / "BTCUSDT-1h-2025-01.zip", archive_klines(_month(klines, "openTime")))
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    command = [sys.executable, "-m", "indicator_server.cli", "import", str(tmp_path), "--database-url",
               f"sqlite:///{tmp_path / 'tty.db'}"]
    proc = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    assert proc.wait(timeout=120) == 0
    text = out.decode()
    bar_end = text.rfind("744 rows")
    summary = text.find("kind ")
    assert 0 <= bar_end < summary, text
    assert text.rstrip().endswith("symbols: BTCUSDT"), text


# --- PostgreSQL ---------------------------------------------------------------------------------------------

@pytest.fixture
def pg_url():
    """A throw-away schema on the local PostgreSQL; skipped only outside CI when the server is unreachable."""
    with postgres_schema("import_test") as url:
        yield url


@pytest.mark.postgres
def test_import_into_postgres(tmp_path, klines, funding, pg_url, capsys):
    jan = _month(klines, "openTime")
    write_archive(tmp_path / "BTCUSDT-1h-2025-01.zip", archive_klines(jan, micro=True), header=False)
    write_archive(tmp_path / "BTCUSDT-fundingRate-2025-01.zip", archive_funding(_month(funding, "fundingTime")))
    write_archive(tmp_path / "BTCUSDT-metrics-2025-01-01.zip", metrics_frame())
    for _ in range(2):
        assert run_import(parse(str(tmp_path), "--database-url", pg_url, "--no-progress")) == 0
    assert "open_interest" in capsys.readouterr().out
    db = Database(pg_url)
    repo = MarketRepository(db)
    assert db.dialect == "postgresql"
    assert_klines_equal(repo.load("klines", "binance", "BTCUSDT", timeframe="1h"), jan)
    assert repo.span("funding", "binance", "BTCUSDT")[2] == 93
    assert repo.span("open_interest", "binance", "BTCUSDT")[2] == 12
    assert repo.span("long_short_ratio", "binance", "BTCUSDT")[2] == 12
    db.dispose()
