"""Import of Binance public-data archive files, built in tmp_path from the real recorded BTCUSDT data."""

from __future__ import annotations

import zipfile

import numpy as np
import pandas as pd
import pytest

from indicator_server.market import archive
from indicator_server.market.archive import ArchiveError, describe, import_paths, to_epoch_ms
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


