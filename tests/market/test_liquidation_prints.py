"""Liquidation prints in the market service's bars: per-bar long/short sums when the venue has them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from indicator_server.errors import UpstreamUnavailable
from indicator_server.market.assemble import LIQUIDATION_BAR_COLUMNS, add_liquidations, liquidation_sides
from indicator_server.market.base import Fetched
from indicator_server.market.sim.source import SimSource
from indicator_server.services import build_services
from indicator_server.timeframes import HOUR_MS

H = HOUR_MS


def _bars(n=4, t0=100 * H):
    return pd.DataFrame({"time": np.arange(n, dtype="int64") * H + t0, "close": np.ones(n)})


def test_prints_are_summed_per_bar_and_side():
    bars = _bars()
    t0 = int(bars["time"].iloc[0])
    prints = pd.DataFrame({
        "time": [t0 - 1, t0, t0 + H - 1, t0 + H, t0 + H + 5, t0 + 3 * H + 10, t0 + 4 * H],
        "side": ["long", "short", "SELL", "buy", "long", "Short", "long"],
        "price": 1.0, "quantity": 1.0,
        "usd": [1000.0, 1.0, 2.0, 4.0, 8.0, 16.0, 2000.0],
    })
    out = add_liquidations(bars, prints, H)
    # before the first bar and at the close of the last one: in no bar
    np.testing.assert_allclose(out["long_liquidated_usd"], [2.0, 8.0, 0.0, 0.0])
    np.testing.assert_allclose(out["short_liquidated_usd"], [1.0, 4.0, 0.0, 16.0])
    assert list(bars.columns) == ["time", "close"]  # the input is not changed


def test_sides_in_every_spelling():
    sides = liquidation_sides(pd.Series(["long", "SHORT", "Sell", "buy", "?"]))
    assert sides.tolist() == [1, -1, 1, -1, 0]
    assert liquidation_sides(pd.Series([1.0, -1.0, np.nan])).tolist() == [1, -1, 0]


def test_no_prints_is_zero_and_unknown_prints_are_nan():
    empty = pd.DataFrame({"time": pd.Series(dtype="int64"), "side": [], "usd": []})
    zero = add_liquidations(_bars(), empty, H)
    assert (zero[LIQUIDATION_BAR_COLUMNS].to_numpy() == 0).all()
    unknown = add_liquidations(_bars(), None, H)
    assert unknown[LIQUIDATION_BAR_COLUMNS].isna().all().all()


class PrintsSim(SimSource):
    """The sim with liquidation prints: its true per-bar liquidations as one print per side per bar (tests only,
    until the sim publishes prints itself)."""

    has = {**SimSource.has, "liquidations": True}

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.print_calls: list[tuple[int, int]] = []
        self.fail = False

    def fetch_liquidations(self, symbol, start, end):
        self.print_calls.append((start, end))
        if self.fail:
            raise UpstreamUnavailable("liquidation stream down")
        first = start - start % H
        truth = self.true_liquidations(symbol, "1h", first, end)
        rows = []
        for side in ("long", "short"):
            usd = truth[f"{side}_liquidated_usd"].to_numpy()
            keep = usd > 0
            rows.append(pd.DataFrame({"time": truth["time"].to_numpy()[keep] + 90_000, "side": side, "price": 1.0,
                                      "quantity": 1.0, "usd": usd[keep]}))
        frame = pd.concat(rows).sort_values("time", kind="stable").reset_index(drop=True)
        return Fetched(frame[(frame["time"] >= start) & (frame["time"] <= end)].reset_index(drop=True))


@pytest.fixture
def market(settings, clock):
    source = PrintsSim(clock=clock)
    svc = build_services(settings, sources={"sim": source}, clock=clock)
    yield svc.market, source
    svc.db.dispose()


def test_bars_carry_the_prints_of_a_venue_that_has_them(market):
    service, source = market
    bars = service.bars("sim", "BTCUSDT", "1h", limit=200, warmup=10, liquidations=True)
    frame = bars.frame
    truth = source.true_liquidations("BTCUSDT", "1h", int(frame["time"].iloc[0]), int(frame["time"].iloc[-1]))
    np.testing.assert_allclose(frame["long_liquidated_usd"], truth["long_liquidated_usd"])
    np.testing.assert_allclose(frame["short_liquidated_usd"], truth["short_liquidated_usd"])
    assert frame["long_liquidated_usd"].sum() > 0 and frame["short_liquidated_usd"].sum() > 0
    start, end = source.print_calls[-1]
    assert start == int(frame["time"].iloc[0]) and end == int(frame["time"].iloc[-1]) + H - 1


def test_failing_prints_are_nan_with_a_warning_not_an_error(market):
    service, source = market
    source.fail = True
    bars = service.bars("sim", "BTCUSDT", "1h", limit=50, liquidations=True)
    assert bars.requested["long_liquidated_usd"].isna().all()
    assert any("liquidations unavailable from sim" in w for w in bars.meta["warnings"])
    assert not bars.meta["freshness"]["stale"]  # the bars themselves are current


class NoPrintsSim(SimSource):
    has = {**SimSource.has, "liquidations": False}


def test_a_venue_without_prints_has_no_liquidation_columns(settings, clock):
    svc = build_services(settings, sources={"sim": NoPrintsSim(clock=clock)}, clock=clock)
    try:
        frame = svc.market.bars("sim", "BTCUSDT", "1h", limit=50, liquidations=True).frame
        assert not set(LIQUIDATION_BAR_COLUMNS) & set(frame.columns)
    finally:
        svc.db.dispose()


def test_only_the_liquidation_model_asks_for_the_prints(market):
    service, source = market
    calls = len(source.print_calls)
    frame = service.bars("sim", "BTCUSDT", "1h", limit=50).frame  # what oi-delta, confluence, candles ask
    assert len(source.print_calls) == calls and not set(LIQUIDATION_BAR_COLUMNS) & set(frame.columns)
    source.fail = True
    assert not any("liquidations unavailable" in w for w in service.bars("sim", "BTCUSDT", "1h", limit=50).warnings)
