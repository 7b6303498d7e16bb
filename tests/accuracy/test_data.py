"""Loaders of the shared data folder: the forceOrder dumps' quirks, the folder's default."""

from __future__ import annotations

from pathlib import Path

from indicator_server.accuracy import data
from indicator_server.accuracy.real_scores import print_periods


def test_force_orders_are_deduplicated_sided_and_tolerate_a_thirteenth_field(tmp_path):
    folder = tmp_path / data.FORCE_ORDER_DIR
    folder.mkdir()
    rows = [
        "BTC,SELL,LIMIT,IOC,0.1,99000,99100,FILLED,0.1,0.1,1737997438119,9910.0",
        "BTC,SELL,LIMIT,IOC,0.1,99000,99100,FILLED,0.1,0.1,1737997438119,9910.0",  # the recording repeats rows
        "BTC,BUY,LIMIT,IOC,0.2,101000,100900,FILLED,0.2,0.2,1737997439000,20180.0,100",  # a 13th field
        "ETH,SELL,LIMIT,IOC,1,3000,3010,FILLED,1,1,1737997440000,3010.0",
    ]
    (folder / "stream-a.csv").write_text("\n".join(rows) + "\n")
    (folder / "stream-b.csv").write_text("BTC,BUY,LIMIT,IOC,0.1,88000,87900,FILLED,0.1,0.1,1766849733194,8790.0\n")
    prints = data.load_force_orders("BTC", tmp_path)
    assert prints["side"].tolist() == ["long", "short", "short"]
    assert prints["price"].tolist() == [99100.0, 100900.0, 87900.0]
    assert [len(p) for p in print_periods(prints)] == [2, 1]  # two recordings, months apart


def test_missing_files_and_the_default_folder(tmp_path, monkeypatch):
    assert len(data.missing_files(tmp_path)) == len(data.REQUIRED) and not data.available(tmp_path)
    assert data.load_force_orders("BTC", tmp_path).empty
    monkeypatch.setenv("INDICATOR_SHARED_DATA", str(tmp_path))
    assert data.default_data_dir() == tmp_path
    monkeypatch.delenv("INDICATOR_SHARED_DATA")
    monkeypatch.chdir(tmp_path)
    assert data.default_data_dir() == Path(tmp_path) / ".." / "shared" / "data"
