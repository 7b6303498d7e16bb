"""Import of Binance public-data archive files, built in tmp_path from the real recorded BTCUSDT data."""

from __future__ import annotations

import argparse
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from indicator_server.cli_import import add_import_parser, run_import
from indicator_server.market import archive
from indicator_server.market.archive import ArchiveError, describe, import_paths, to_epoch_ms
from indicator_server.store.db import Database
from indicator_server.store.market_repo import MarketRepository
from tests.conftest import IN_CI
from tests.services import postgres_schema

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "binance-btcusdt"
HOUR = 3_600_000
JAN = (1735689600000, 1738368000000)  # [2025-01-01, 2025-02-01) UTC
ARCHIVE_KLINE_HEADER = ["open_time", "open", "high", "low", "close", "volume", "close_time", "quote_volume",
                        "count", "taker_buy_volume", "taker_buy_quote_volume", "ignore"]
KLINE_PAIRS = {"open": "open", "high": "high", "low": "low", "close": "close", "volume": "volume",
               "quote_volume": "quoteVolume", "trades": "trades", "taker_buy_volume": "takerBuyBase",
               "taker_buy_quote_volume": "takerBuyQuote"}


def _need_data() -> None:
    if not DATA.is_dir() and not IN_CI:
        pytest.skip(f"shared market data not found at {DATA}")


@pytest.fixture(scope="module")
def klines() -> pd.DataFrame:
    _need_data()
    return pd.read_csv(DATA / "klines-1h.csv")


@pytest.fixture(scope="module")
def funding() -> pd.DataFrame:
    _need_data()
    return pd.read_csv(DATA / "funding.csv")


@pytest.fixture
def repo(tmp_path) -> MarketRepository:
    db = Database(f"sqlite:///{tmp_path / 'store.db'}")
    db.create_schema()
    yield MarketRepository(db)
    db.dispose()


def _month(frame: pd.DataFrame, column: str, start: int = JAN[0], end: int = JAN[1]) -> pd.DataFrame:
    return frame[(frame[column] >= start) & (frame[column] < end)].reset_index(drop=True)


def write_archive(path: Path, frame: pd.DataFrame, header: bool = True) -> Path:
    """Write ``frame`` as Binance does: a CSV, zipped under the same stem when ``path`` ends in .zip."""
    csv = frame.to_csv(index=False, header=header)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(path.stem + ".csv", csv)
    else:
        path.write_text(csv)
    return path


def archive_klines(source: pd.DataFrame, micro: bool = False) -> pd.DataFrame:
    """The shared camelCase klines in the archive's snake_case columns (optionally in microseconds)."""
    out = source.copy()
    out.columns = ARCHIVE_KLINE_HEADER
    if micro:
        out["open_time"] = out["open_time"] * 1000
        out["close_time"] = out["close_time"] * 1000 + 999
    return out


def archive_funding(source: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"calc_time": source["fundingTime"],
                         "funding_interval_hours": source["fundingIntervalHours"],
                         "last_funding_rate": source["fundingRate"]})


def metrics_frame() -> pd.DataFrame:
    """A day's first hour of a metrics file in Binance's format (5-minute rows, values of the right size)."""
    times = pd.date_range("2025-01-01 00:05:00", periods=12, freq="5min")
    i = np.arange(12)
    return pd.DataFrame({
        "create_time": times.strftime("%Y-%m-%d %H:%M:%S"),
        "symbol": "BTCUSDT",
        "sum_open_interest": 81_000.0 + 12.5 * i,
        "sum_open_interest_value": 7.6e9 + 1.0e6 * i,
        "count_toptrader_long_short_ratio": 1.2 + 0.01 * i,
        "sum_toptrader_long_short_ratio": 1.1 + 0.01 * i,
        "count_long_short_ratio": 1.9559 - 0.01 * i,
        "sum_taker_long_short_vol_ratio": 0.9 + 0.02 * i,
    })


def assert_klines_equal(stored: pd.DataFrame, source: pd.DataFrame) -> None:
    assert stored["time"].tolist() == source["openTime"].tolist()
    for ours, theirs in KLINE_PAIRS.items():
        np.testing.assert_allclose(stored[ours].to_numpy(), source[theirs].to_numpy(), rtol=1e-12, err_msg=ours)


@pytest.mark.parametrize("header", [True, False])
def test_monthly_kline_archive_round_trips(tmp_path, repo, klines, header):
    jan = _month(klines, "openTime")
    path = write_archive(tmp_path / "BTCUSDT-1h-2025-01.zip", archive_klines(jan), header=header)
    report = import_paths(repo, [path], progress=False)
    assert report.ok, report.errors
    assert report.rows_read == {"klines": 744} and report.rows_written == {"klines": 744}
    assert report.rows_new == {"klines": 744}
    assert report.symbols == ["BTCUSDT"] and report.span == (JAN[0], JAN[1] - HOUR)
    assert_klines_equal(repo.load("klines", "binance", "BTCUSDT", timeframe="1h"), jan)


def test_reimport_and_overlapping_daily_file_add_no_rows(tmp_path, repo, klines):
    jan = _month(klines, "openTime")
    monthly = write_archive(tmp_path / "BTCUSDT-1h-2025-01.zip", archive_klines(jan))
    day = _month(klines, "openTime", 1736899200000, 1736899200000 + 24 * HOUR)  # 2025-01-15
    daily = write_archive(tmp_path / "BTCUSDT-1h-2025-01-15.zip", archive_klines(day), header=False)
    assert import_paths(repo, [monthly], progress=False).rows_new == {"klines": 744}
    assert repo.span("klines", "binance", "BTCUSDT", "1h")[2] == 744
    again = import_paths(repo, [monthly, daily], progress=False)
    assert again.ok and again.rows_written == {"klines": 744 + 24}  # handed to the store (upserted) ...
    assert again.rows_new == {"klines": 0}  # ... but none was new
    assert repo.span("klines", "binance", "BTCUSDT", "1h") == (JAN[0], JAN[1] - HOUR, 744)
    assert_klines_equal(repo.load("klines", "binance", "BTCUSDT", timeframe="1h"), jan)


def test_microsecond_timestamps_become_milliseconds(tmp_path, repo, klines):
    jan = _month(klines, "openTime")
    path = write_archive(tmp_path / "BTCUSDT-1h-2025-01.csv", archive_klines(jan, micro=True), header=False)
    report = import_paths(repo, [path], progress=False)
    assert report.ok, report.errors
    assert_klines_equal(repo.load("klines", "binance", "BTCUSDT", timeframe="1h"), jan)


def test_to_epoch_ms_tells_units_by_magnitude():
    ms = 1735689600123
    got = to_epoch_ms(pd.Series([ms, ms * 1000 + 456, ms * 1_000_000 + 789]))
    assert got.tolist() == [ms, ms, ms]
    assert to_epoch_ms(pd.Series([float(ms), ms * 1000.0, np.nan]))[:2].tolist() == [ms, ms]


def test_funding_archive_round_trips(tmp_path, repo, funding):
    jan = _month(funding, "fundingTime")
    path = write_archive(tmp_path / "BTCUSDT-fundingRate-2025-01.zip", archive_funding(jan))
    report = import_paths(repo, [path], progress=False)
    assert report.ok and report.rows_written == {"funding": len(jan)} and len(jan) == 93
    stored = repo.load("funding", "binance", "BTCUSDT")
    # Floored to the second, as the REST source stores them (the first event is stamped ...600015).
    assert jan["fundingTime"].iloc[0] == 1735689600015
    assert stored["time"].tolist() == (jan["fundingTime"] // 1000 * 1000).tolist()
    np.testing.assert_allclose(stored["funding_rate"], jan["fundingRate"], rtol=1e-12)
    np.testing.assert_allclose(stored["interval_hours"], jan["fundingIntervalHours"])


def test_metrics_archive_gives_open_interest_and_long_short_ratio(tmp_path, repo):
    source = metrics_frame()
    path = write_archive(tmp_path / "BTCUSDT-metrics-2025-01-01.zip", source)
    report = import_paths(repo, [path], progress=False)
    assert report.ok, report.errors
    assert report.rows_written == {"open_interest": 12, "long_short_ratio": 12}
    expected_times = [JAN[0] + 300_000 * (k + 1) for k in range(12)]
    oi = repo.load("open_interest", "binance", "BTCUSDT")
    assert oi["time"].tolist() == expected_times
    np.testing.assert_allclose(oi["open_interest"], source["sum_open_interest"], rtol=1e-12)
    np.testing.assert_allclose(oi["open_interest_usd"], source["sum_open_interest_value"], rtol=1e-12)
    ls = repo.load("long_short_ratio", "binance", "BTCUSDT")
    np.testing.assert_allclose(ls["long_short_ratio"], source["count_long_short_ratio"], rtol=1e-12)
    # Binance's REST example: longShortRatio 1.9559 <-> longAccount 0.6617.
    assert ls["long_account"].iloc[0] == pytest.approx(0.6617, abs=5e-5)
    assert import_paths(repo, [path], progress=False).ok
    assert repo.span("open_interest", "binance", "BTCUSDT")[2] == 12


def test_metrics_rows_without_values_are_not_stored(tmp_path, repo):
    source = metrics_frame()
    source.loc[3, ["sum_open_interest", "sum_open_interest_value", "count_long_short_ratio"]] = np.nan
    write_archive(tmp_path / "BTCUSDT-metrics-2025-01-01.csv", source)
    report = import_paths(repo, [tmp_path], progress=False)
    assert report.rows_read == {"open_interest": 12, "long_short_ratio": 12}
    assert report.rows_written == {"open_interest": 11, "long_short_ratio": 11}


@pytest.mark.parametrize(("name", "kind", "symbol", "timeframe"), [
    ("BTCUSDT-1h-2025-01.zip", "klines", "BTCUSDT", "1h"),
    ("ETHUSDT-15m-2025-01-15.zip", "klines", "ETHUSDT", "15m"),
    ("BTCUSDT_250328-1d-2025-01.csv", "klines", "BTCUSDT_250328", "1d"),
    ("BTCUSDT-metrics-2025-01-01.zip", "metrics", "BTCUSDT", None),
    ("SOLUSDT-fundingRate-2025-01.zip", "fundingRate", "SOLUSDT", None),
])
def test_describe_reads_binance_file_names(tmp_path, name, kind, symbol, timeframe):
    path = tmp_path / name
    path.write_bytes(b"")
    spec = describe(path)
    assert (spec.kind, spec.symbol, spec.timeframe) == (kind, symbol, timeframe)


@pytest.mark.parametrize(("name", "kwargs", "needle"), [
    ("data.csv", {}, "--kind"),
    ("data.csv", {"kind": "klines"}, "--symbol"),
    ("data.csv", {"kind": "klines", "symbol": "BTCUSDT"}, "--timeframe"),
    ("BTCUSDT-3m-2025-01.zip", {}, "not served"),
    ("BTCUSDT-1h-2025-01.zip", {"timeframe": "1w"}, "not served"),
    ("BTCUSDT-aggTrades-2025-01.zip", {}, "not imported"),
    ("markPriceKlines/BTCUSDT-1h-2025-01.zip", {}, "mark/index/premium"),
    ("BTCUSDT-1h-2025-01.txt", {}, "not a .zip or .csv"),
])
def test_describe_says_which_flag_is_missing(tmp_path, name, kwargs, needle):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("1,2,3\n")
    with pytest.raises(ArchiveError, match=needle) as info:
        describe(path, **kwargs)
    assert str(path) in str(info.value)


def test_overrides_name_unnamed_files_and_rename_symbols(tmp_path, repo, klines):
    jan = _month(klines, "openTime")
    plain = write_archive(tmp_path / "january.csv", archive_klines(jan), header=False)
    failed = import_paths(repo, [plain], progress=False)
    assert not failed.ok and "--kind" in failed.errors[str(plain)]
    report = import_paths(repo, [plain], kind="klines", symbol="btcusdt", timeframe="1h", exchange="archive",
                          progress=False)
    assert report.ok and report.symbols == ["BTCUSDT"]
    assert_klines_equal(repo.load("klines", "archive", "BTCUSDT", timeframe="1h"), jan)
    named = write_archive(tmp_path / "BTCUSDT-1h-2025-01.zip", archive_klines(jan))
    assert import_paths(repo, [named], symbol="XBTUSDT", progress=False).ok
    assert repo.span("klines", "binance", "XBTUSDT", "1h")[2] == 744
    assert repo.span("klines", "binance", "BTCUSDT", "1h")[2] == 0


def test_wrong_timeframe_override_is_rejected(tmp_path, repo, klines):
    path = write_archive(tmp_path / "BTCUSDT-1h-2025-01.zip", archive_klines(_month(klines, "openTime")))
    for wrong in ("4h", "30m"):  # bars off the 4h grid; bars that last an hour, not 30 minutes
        report = import_paths(repo, [path], timeframe=wrong, progress=False)
        assert "do not fit the" in report.errors[str(path)]
        assert repo.span("klines", "binance", "BTCUSDT", wrong)[2] == 0


def test_bad_files_are_reported_and_do_not_stop_the_others(tmp_path, repo, klines, funding):
    folder = tmp_path / "archives"
    good = write_archive(folder / "klines" / "BTCUSDT-1h-2025-01.zip", archive_klines(_month(klines, "openTime")))
    fund = write_archive(folder / "BTCUSDT-fundingRate-2025-01.csv", archive_funding(_month(funding, "fundingTime")))
    corrupt = folder / "BTCUSDT-1h-2025-02.zip"
    corrupt.write_bytes(b"PK\x03\x04 this is not a zip")
    two = folder / "BTCUSDT-1h-2025-03.zip"
    with zipfile.ZipFile(two, "w") as zf:
        zf.writestr("a.csv", "1,2\n")
        zf.writestr("b.csv", "1,2\n")
    garbled = write_archive(folder / "BTCUSDT-fundingRate-2025-02.csv", pd.DataFrame({"what": ["x", "y"]}))
    missing = tmp_path / "nowhere" / "BTCUSDT-1h-2025-04.zip"
    report = import_paths(repo, [folder, missing], progress=False)
    assert set(report.errors) == {str(corrupt), str(two), str(garbled), str(missing)}
    assert "not a readable zip" in report.errors[str(corrupt)]
    assert "one .csv" in report.errors[str(two)]
    assert "missing columns" in report.errors[str(garbled)]
    assert "no such file" in report.errors[str(missing)]
    assert not report.ok and report.rows_written == {"klines": 744, "funding": 93}
    assert str(good) not in report.errors and str(fund) not in report.errors


def test_rows_without_prices_are_skipped(tmp_path, repo, klines, funding):
    jan = archive_klines(_month(klines, "openTime")).astype({"close": object})
    jan.loc[5, "close"] = "n/a"
    rates = archive_funding(_month(funding, "fundingTime"))
    rates.loc[2, "last_funding_rate"] = np.nan
    write_archive(tmp_path / "BTCUSDT-1h-2025-01.zip", jan)
    write_archive(tmp_path / "BTCUSDT-fundingRate-2025-01.zip", rates, header=False)
    report = import_paths(repo, [tmp_path], progress=False)
    assert report.ok, report.errors
    assert report.rows_read == {"klines": 744, "funding": 93}
    assert report.rows_written == {"klines": 743, "funding": 92}
    stored = repo.load("klines", "binance", "BTCUSDT", timeframe="1h")["time"].tolist()
    assert int(jan.loc[5, "open_time"]) not in stored and int(jan.loc[6, "open_time"]) in stored


def test_large_files_are_read_in_chunks(tmp_path, repo, klines, monkeypatch):
    jan = _month(klines, "openTime")
    path = write_archive(tmp_path / "BTCUSDT-1h-2025-01.zip", archive_klines(jan))
    monkeypatch.setattr(archive, "CHUNK_ROWS", 100)
    sizes: list[int] = []
    save = repo.save
    monkeypatch.setattr(repo, "save", lambda kind, ex, sym, frame, **kw: sizes.append(len(frame)) or
                        save(kind, ex, sym, frame, **kw))
    assert import_paths(repo, [path], progress=False).ok
    assert sizes == [100] * 7 + [44]
    assert_klines_equal(repo.load("klines", "binance", "BTCUSDT", timeframe="1h"), jan)


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
