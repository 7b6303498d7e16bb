"""BinanceSource against the replay server: normalisation, pagination, the open bar, the 30-day window, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from indicator_server.errors import UnknownSymbol, UnsupportedTimeframe, UpstreamBadResponse
from indicator_server.market.base import FUNDING_COLUMNS, KLINE_COLUMNS, LONG_SHORT_COLUMNS, OPEN_INTEREST_COLUMNS
from indicator_server.market.binance import OPEN_INTEREST_HISTORY_DAYS, funding_interval_hours, stat_period

from . import replay_data
from .replay_server import FUNDING, KLINES, LONG_SHORT, OPEN_INTEREST, PREMIUM, Scripted

HOUR = 3_600_000
DAY = 24 * HOUR
END = 1_785_538_800_000  # open time of the last recorded 1h bar, 2026-07-31T23:00Z
CSV_COLUMNS = {
    "openTime": "time",
    "open": "open",
    "high": "high",
    "low": "low",
    "close": "close",
    "volume": "volume",
    "quoteVolume": "quote_volume",
    "takerBuyBase": "taker_buy_volume",
    "takerBuyQuote": "taker_buy_quote_volume",
    "trades": "trades",
}


def recorded(name: str) -> pd.DataFrame:
    frame = pd.read_csv(replay_data.DATA_DIR / name).rename(columns=CSV_COLUMNS)[KLINE_COLUMNS]
    return frame.astype({column: "float64" for column in KLINE_COLUMNS[1:]})


@pytest.mark.parametrize(("timeframe", "csv", "bars"), [("1h", "klines-1h.csv", 300), ("4h", "klines-4h.csv", 90)])
def test_klines_equal_the_recorded_csv(make_binance, timeframe, csv, bars):
    step = HOUR if timeframe == "1h" else 4 * HOUR
    start = 1_750_000_000_000 - 1_750_000_000_000 % step
    fetched = make_binance().fetch_klines("BTCUSDT", timeframe, start, start + (bars - 1) * step)
    expected = recorded(csv)
    expected = expected[expected["time"].between(start, start + (bars - 1) * step)].reset_index(drop=True)
    assert list(fetched.frame.columns) == KLINE_COLUMNS
    assert fetched.frame["time"].dtype == np.int64
    assert (fetched.frame.dtypes.iloc[1:] == np.float64).all()
    assert len(fetched.frame) == bars
    pd.testing.assert_frame_equal(fetched.frame, expected)
    assert fetched.warnings == []


def test_5000_hourly_klines_take_4_requests_of_1500(binance_replay, make_binance):
    start = END - 4999 * HOUR
    frame = make_binance().fetch_klines("BTCUSDT", "1h", start, END).frame
    assert len(frame) == 5000
    assert frame["time"].iloc[0] == start and frame["time"].iloc[-1] == END
    assert (np.diff(frame["time"].to_numpy()) == HOUR).all()
    requests = binance_replay.requests(KLINES)
    assert [int(r.params["startTime"]) for r in requests] == [start + k * 1500 * HOUR for k in range(4)]
    assert {r.params["limit"] for r in requests} == {"1500"}
    assert {r.params["endTime"] for r in requests} == {str(END)}


def test_pagination_stops_on_a_short_page_when_the_range_runs_past_the_data(binance_replay, make_binance):
    start = END - 99 * HOUR
    frame = make_binance().fetch_klines("BTCUSDT", "1h", start, END + 400 * DAY).frame
    assert len(frame) == 100
    assert len(binance_replay.requests(KLINES)) == 1


def test_the_still_open_bar_is_dropped(binance_replay, make_binance):
    source = make_binance()
    binance_replay.now_ms = END + 30 * 60_000  # 23:30, the 23:00 bar is still open
    frame = source.fetch_klines("BTCUSDT", "1h", END - 9 * HOUR, END).frame
    assert frame["time"].iloc[-1] == END - HOUR
    assert len(frame) == 9
    binance_replay.now_ms = END + HOUR  # 00:00, the 23:00 bar closed at 23:59:59.999
    frame = source.fetch_klines("BTCUSDT", "1h", END - 9 * HOUR, END).frame
    assert frame["time"].iloc[-1] == END
    assert len(frame) == 10


def test_klines_aggregated_by_the_server_match_hourly_sums(make_binance):
    source = make_binance()
    day = 1_767_225_600_000  # 2026-01-01
    daily = source.fetch_klines("BTCUSDT", "1d", day, day).frame.iloc[0]
    hourly = source.fetch_klines("BTCUSDT", "1h", day, day + 23 * HOUR).frame
    assert daily["open"] == hourly["open"].iloc[0] and daily["close"] == hourly["close"].iloc[-1]
    assert daily["high"] == hourly["high"].max() and daily["low"] == hourly["low"].min()
    assert daily["volume"] == pytest.approx(hourly["volume"].sum(), rel=1e-12)
    assert daily["trades"] == hourly["trades"].sum()


def test_unsupported_timeframe_is_refused_before_any_request(binance_replay, make_binance):
    with pytest.raises(UnsupportedTimeframe):
        make_binance().fetch_klines("BTCUSDT", "3h", END - DAY, END)
    assert binance_replay.requests() == []


def test_open_interest_is_clamped_to_30_days_with_a_warning(binance_replay, make_binance):
    now = binance_replay.now_ms
    fetched = make_binance().fetch_open_interest("BTCUSDT", "1h", now - 40 * DAY, now)
    frame = fetched.frame
    assert list(frame.columns) == OPEN_INTEREST_COLUMNS
    assert frame["time"].iloc[0] >= now - OPEN_INTEREST_HISTORY_DAYS * DAY
    assert frame["time"].iloc[0] <= now - 29 * DAY
    assert frame["time"].iloc[-1] == now
    assert (np.diff(frame["time"].to_numpy()) == HOUR).all()
    assert len(fetched.warnings) == 1
    warning = fetched.warnings[0]
    assert "30 days" in warning and "10.0 days" in warning and "store or imported archives" in warning
    requests = binance_replay.requests(OPEN_INTEREST)
    assert all(int(r.params["startTime"]) >= now - 30 * DAY for r in requests)
    assert all(r.status == 200 and r.params["period"] == "1h" for r in requests)
    assert len(requests) == 2  # 720 hourly snapshots, 500 per request


def test_open_interest_values_are_the_served_ones(binance_replay, make_binance):
    now = binance_replay.now_ms
    frame = make_binance().fetch_open_interest("BTCUSDT", "4h", now - 2 * DAY, now).frame
    hourly = binance_replay.klines["1h"]
    assert len(frame) == 13
    for row in frame.itertuples():
        assert row.open_interest == replay_data.open_interest_btc(row.time)
        expected_usd = float(replay_data.open_interest_row(row.time, hourly)["sumOpenInterestValue"])
        assert row.open_interest_usd == expected_usd


def test_open_interest_within_30_days_has_no_warning_and_1m_uses_5m_snapshots(binance_replay, make_binance):
    now = binance_replay.now_ms
    fetched = make_binance().fetch_open_interest("BTCUSDT", "1m", now - 3 * HOUR, now)
    assert fetched.warnings == []
    assert len(fetched.frame) == 37
    assert {r.params["period"] for r in binance_replay.requests(OPEN_INTEREST)} == {"5m"}
    assert stat_period("1m") == "5m" and stat_period("15m") == "15m"


def test_open_interest_entirely_older_than_30_days_is_empty_without_requests(binance_replay, make_binance):
    now = binance_replay.now_ms
    fetched = make_binance().fetch_open_interest("BTCUSDT", "1h", now - 90 * DAY, now - 60 * DAY)
    assert fetched.frame.empty and list(fetched.frame.columns) == OPEN_INTEREST_COLUMNS
    assert "30 days" in fetched.warnings[0]
    assert binance_replay.requests(OPEN_INTEREST) == []


def test_long_short_ratio(binance_replay, make_binance):
    now = binance_replay.now_ms
    fetched = make_binance().fetch_long_short_ratio("BTCUSDT", "1h", now - 31 * DAY, now)
    frame = fetched.frame
    assert list(frame.columns) == LONG_SHORT_COLUMNS
    assert "long/short ratio" in fetched.warnings[0] and "1.0 days" in fetched.warnings[0]
    row = frame.iloc[-1]
    assert row["long_account"] == replay_data.long_account(now)
    assert row["long_short_ratio"] == pytest.approx(row["long_account"] / (1 - row["long_account"]), abs=1e-4)
    assert len(binance_replay.requests(LONG_SHORT)) == 2


def test_string_timestamps_from_the_documentation_examples_are_accepted(binance_replay, make_binance):
    now = binance_replay.now_ms
    body = [{"symbol": "BTCUSDT", "sumOpenInterest": "20403.63700000", "sumOpenInterestValue": "150570784.07809979",
             "timestamp": str(now - HOUR)}]
    binance_replay.script(OPEN_INTEREST, Scripted(body=body))
    frame = make_binance().fetch_open_interest("BTCUSDT", "1h", now - 2 * HOUR, now).frame
    assert frame["time"].tolist() == [now - HOUR]
    assert frame["open_interest"].tolist() == [20403.637]


def test_funding_history_is_paginated_and_normalised(binance_replay, make_binance):
    fetched = make_binance().fetch_funding("BTCUSDT", 0, binance_replay.now_ms)
    frame = fetched.frame
    expected = pd.read_csv(replay_data.DATA_DIR / "funding.csv")
    assert list(frame.columns) == FUNDING_COLUMNS
    assert len(frame) == len(expected) == 1731
    assert (frame["time"].to_numpy() == expected["fundingTime"].to_numpy() // 1000 * 1000).all()
    assert frame["funding_rate"].tolist() == expected["fundingRate"].tolist()
    assert (frame["interval_hours"] == 8.0).all()
    requests = binance_replay.requests(FUNDING)
    assert [r.params["limit"] for r in requests] == ["1000", "1000"]
    assert int(requests[1].params["startTime"]) == int(expected["fundingTime"].iloc[999]) + 1


def test_funding_range_is_inclusive(make_binance):
    start, end = 1_767_225_600_000, 1_767_225_600_000 + DAY  # 2026-01-01 00:00 .. 01-02 00:00
    frame = make_binance().fetch_funding("BTCUSDT", start, end).frame
    assert frame["time"].tolist() == [start, start + 8 * HOUR, start + 16 * HOUR, end]


@pytest.mark.parametrize(
    ("times", "expected"),
    [
        ([0], [8.0]),
        ([0, 8 * HOUR, 16 * HOUR], [8.0, 8.0, 8.0]),
        ([0, 4 * HOUR, 8 * HOUR + 7, 9 * HOUR], [4.0, 4.0, 4.0, 1.0]),
        ([], []),
    ],
)
def test_funding_interval_hours_from_gaps(times, expected):
    assert funding_interval_hours(np.array(times, dtype=np.int64)).tolist() == expected


def test_premium_index(binance_replay, make_binance):
    binance_replay.now_ms = END + 30 * 60_000
    premium = make_binance().fetch_premium_index("BTCUSDT")
    assert premium["mark_price"] == 62916.7  # close of the 22:00 bar, the last closed one
    assert premium["index_price"] == pytest.approx(62916.7 * 0.9998)
    assert premium["last_funding_rate"] == 0.00005664  # the latest recorded rate
    assert premium["next_funding_time"] == END + HOUR
    assert premium["time"] == END + 30 * 60_000


@pytest.mark.parametrize("alias", ["BTCUSDT", "btcusdt", "BTC/USDT", "BTC-USDT", "BTCUSDT.P"])
def test_check_symbol_canonicalises_and_remembers(binance_replay, make_binance, alias):
    source = make_binance()
    assert source.check_symbol(alias) == "BTCUSDT"
    assert source.check_symbol("BTCUSDT") == "BTCUSDT"
    assert len(binance_replay.requests(PREMIUM)) == 1


def test_unknown_symbol(binance_replay, make_binance, fake_sleep):
    source = make_binance()
    with pytest.raises(UnknownSymbol) as caught:
        source.check_symbol("DOGEBTCUSDT")
    assert caught.value.status == 404 and caught.value.details["upstream_code"] == -1121
    with pytest.raises(UnknownSymbol):
        source.fetch_klines("ETHUSDT", "1h", END - DAY, END)
    with pytest.raises(UnknownSymbol):
        source.check_symbol("BTC USDT!")
    assert len(binance_replay.requests()) == 2
    assert fake_sleep.waits == []


def test_rate_limit_in_the_middle_of_pagination_is_waited_out(binance_replay, make_binance, fake_sleep):
    binance_replay.script(KLINES, Scripted(), Scripted.rate_limited(retry_after=1))
    frame = make_binance().fetch_klines("BTCUSDT", "1h", END - 2999 * HOUR, END).frame
    assert len(frame) == 3000
    assert fake_sleep.waits == [1.0]
    assert [r.status for r in binance_replay.requests(KLINES)] == [200, 429, 200]


def test_unexpected_shape_is_a_bad_response(binance_replay, make_binance):
    binance_replay.script(KLINES, Scripted(body={"unexpected": True}))
    with pytest.raises(UpstreamBadResponse):
        make_binance().fetch_klines("BTCUSDT", "1h", END - DAY, END)
    binance_replay.script(KLINES, Scripted(body=[[1, "2"]]))
    with pytest.raises(UpstreamBadResponse):
        make_binance().fetch_klines("BTCUSDT", "1h", END - DAY, END)
