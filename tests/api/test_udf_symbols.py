"""The pure parts of the UDF datafeed: symbol names, resolutions, price scales, page windows, mark tables."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from indicator_server.errors import InvalidArgument, UnsupportedTimeframe
from indicator_server.udf.bars import MAX_BARS, Window, history_response, line_columns, plan_window
from indicator_server.udf.marks import regime_marks, signal_marks
from indicator_server.udf.symbols import parse_symbol, price_decimals, timeframe_for

EXCHANGES = ("sim", "binance")
H = 3_600_000


@pytest.mark.parametrize("text, expected", [
    ("SIM:BTCUSDT", ("sim", "BTCUSDT", "")),
    ("binance:btcusdt", ("binance", "BTCUSDT", "")),
    ("BTCUSDT", ("sim", "BTCUSDT", "")),
    (" BINANCE:ETHUSDT:oi_delta ", ("binance", "ETHUSDT", "OI_DELTA")),
    ("BTCUSDT:RSI", ("sim", "BTCUSDT", "RSI")),
    ("KRAKEN:BTCUSDT", ("kraken", "BTCUSDT", "")),  # the view answers unknown_exchange
])
def test_parse_symbol(text, expected):
    sym = parse_symbol(text, EXCHANGES, "sim")
    assert (sym.exchange, sym.symbol, sym.series) == expected
    assert parse_symbol(sym.ticker, EXCHANGES, "sim") == sym  # the ticker parses back to itself


@pytest.mark.parametrize("text", ["", "  ", "SIM:BTCUSDT:MACD", "A:B:C:D", "SIM:"])
def test_parse_symbol_rejects(text):
    with pytest.raises(InvalidArgument):
        parse_symbol(text, EXCHANGES, "sim")


@pytest.mark.parametrize("resolution, timeframe", [
    ("1", "1m"), ("5", "5m"), ("15", "15m"), ("30", "30m"), ("60", "1h"), ("120", "2h"), ("240", "4h"),
    ("360", "6h"), ("720", "12h"), ("1D", "1d"), ("D", "1d")])
def test_resolutions(resolution, timeframe):
    assert timeframe_for(resolution) == timeframe


@pytest.mark.parametrize("resolution", ["2", "1W", "1M", "3D", "", None, "60S"])
def test_unsupported_resolutions(resolution):
    with pytest.raises(UnsupportedTimeframe):
        timeframe_for(resolution)


@pytest.mark.parametrize("price, decimals", [(71472.1, 1), (2608.82, 2), (150.3, 3), (0.5123, 6), (None, 2),
                                             (float("nan"), 2), (1e-9, 8)])
def test_price_decimals(price, decimals):
    assert price_decimals(price) == decimals


def test_plan_window():
    last = 100 * H
    assert plan_window(H, last, from_s=0, to_s=50 * 3600, countback=7) == Window(end=50 * H - 1, limit=7)
    assert plan_window(H, last, from_s=0, to_s=50 * 3600, countback=10**6).limit == MAX_BARS
    assert plan_window(H, last, from_s=40 * 3600, to_s=50 * 3600, countback=None).limit == 10
    assert plan_window(H, last, from_s=40 * 3600 + 1, to_s=50 * 3600, countback=None).limit == 9
    assert plan_window(H, last, from_s=95 * 3600, to_s=500 * 3600, countback=None).limit == 6  # up to last
    assert plan_window(H, last, from_s=101 * 3600, to_s=500 * 3600, countback=None) is None
    assert plan_window(H, last, from_s=50 * 3600, to_s=50 * 3600, countback=None) is None
    assert plan_window(H, last, from_s=0, to_s=0, countback=5) is None


def test_line_columns_drop_missing_values_and_history_response():
    cols = line_columns([0, H, 2 * H], [None, 1.5, float("nan")], scale=2.0)
    assert cols == {"t": [3600], "o": [3.0], "h": [3.0], "l": [3.0], "c": [3.0]}
    assert history_response(cols, None)["s"] == "ok"
    assert history_response({"t": []}, 1234) == {"s": "no_data", "nextTime": 1234}
    assert history_response({"t": []}, None) == {"s": "no_data"}


def _signal(i, action, bar_time, **kw):
    return SimpleNamespace(id=i, action=action, symbol="BTCUSDT", timeframe="1h", price=kw.get("price"),
                           bar_time=bar_time, fired_at=None, received_at=bar_time + 5, message=None,
                           context=kw.get("context"), deliveries=1)


def test_signal_marks_table():
    signals = [_signal(2, "sell", 7_200_000), _signal(1, "buy", 3_600_000, price=65000.5,
                                                       context={"score": -40.2, "regime": "long_cascade_risk"}),
               _signal(3, "rebalance", 10 * H)]
    table = signal_marks(signals, 0, 8 * 3600)
    assert table["id"] == [1, 2] and table["time"] == [3600, 7200]
    assert table["color"] == ["green", "red"] and table["label"] == ["B", "S"]
    assert "BUY BTCUSDT 1h @ 65000.5" in table["text"][0] and "confluence -40.2" in table["text"][0]
    assert signal_marks(signals, 0, 20 * 3600)["color"][-1] == "yellow"


def test_regime_marks_only_at_changes():
    rows = [{"time": i * H, "score": s, "regime": r, "reasons": ["why"]} for i, (s, r) in enumerate([
        (0, "neutral"), (40, "short_squeeze_risk"), (45, "short_squeeze_risk"), (None, None), (-50,
         "long_cascade_risk"), (0, "neutral")])]
    marks = regime_marks(rows, 0, 10 * 3600)
    assert [(m["time"], m["label"]) for m in marks] == [(3600, "S"), (5 * 3600, "N")]
    assert marks[0]["tooltip"][0].startswith("short squeeze risk") and "why" in marks[0]["tooltip"]
    assert regime_marks(rows, 2 * 3600, 10 * 3600)[0]["time"] == 5 * 3600
