"""How far pine/liquidation_levels.pine, which sees only what TradingView gives a script, can be from the API.

On Binance BTCUSDT 1h (last 720 bars) the server has quote volume (VWAP entry) and taker-buy volume (taker
split); TradingView gives neither, so Pine uses hlc3 and the candle split, as the server does without them.
Measured (benchmarks/pine_parity.py, 720 bars, model 1.1: clusters on the 0.5 % cluster grid): nearest cluster
peaks 0.49 % (long) and 1.53 % (short) of the close apart, max pain 0.49 % / 1.53 % apart, swept USD per bar
correlated 0.96-0.97 with totals within 6 %. (Model 1.0 found clusters on the 500-bin map, where nearly every bin
next to the close was "dense": its 0.1 % said more about the bin width than about the inputs.)
The bounds asserted below are those figures with some headroom; they are the documented price of computing on
TradingView. Against the server on the same OHLCV-only bars the only difference left is the "Forget share"
pruning of levels whose survival share fell below 1e-6 (active beyond ~480 bars): below 1e-6 relative.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from indicator_server.market.base import BAR_COLUMNS
from indicator_server.overlays.liquidations.model import estimate_liquidations
from tests.conftest import shared_data
from tests.pine.harness import plot_array, require_pyne, run_pine

BARS = 720


@pytest.fixture(scope="module")
def frames():
    raw = pd.read_csv(shared_data("binance-btcusdt", "klines-1h.csv")).tail(BARS).reset_index(drop=True)
    full = pd.DataFrame({c: np.full(len(raw), np.nan) for c in BAR_COLUMNS})
    full["time"] = raw["openTime"].astype("int64")
    for name in ("open", "high", "low", "close", "volume"):
        full[name] = raw[name].astype("float64")
    full["quote_volume"] = raw["quoteVolume"].astype("float64")
    full["taker_buy_volume"] = raw["takerBuyBase"].astype("float64")
    return full.assign(quote_volume=np.nan, taker_buy_volume=np.nan), full


@pytest.fixture(scope="module")
def pine(frames):
    require_pyne()
    return run_pine("liquidation_levels.pine", frames[0], symbol="BINANCE:BTCUSDT.P")


def estimate(frame):
    return estimate_liquidations(frame, include=("levels", "map", "clusters", "swept"))


def last(result, title):
    return plot_array(result, title)[-1]


def test_pruning_is_the_only_difference_on_the_same_bars(pine, frames):
    server = estimate(frames[0])
    for side in ("long", "short"):
        cluster = next(c for c in server.clusters if c["side"] == side)
        assert last(pine, f"{side.capitalize()} cluster price") == pytest.approx(cluster["price_peak"], rel=1e-12)
        open_usd = server.map[f"{side}_usd"].sum()
        gap = abs(last(pine, f"Open {side} USD in map") - open_usd) / open_usd
        assert 0 < gap < 1e-6  # pruning did drop something on 720 bars, and nothing that matters


@pytest.mark.parametrize("side", ["long", "short"])
def test_vwap_and_taker_split_move_the_picture_little(pine, frames, side):
    server = estimate(frames[1])
    close = server.price
    cluster = next(c for c in server.clusters if c["side"] == side)
    title = side.capitalize()
    assert abs(last(pine, f"{title} cluster price") - cluster["price_peak"]) / close <= 0.02
    assert abs(last(pine, f"Max pain {side} price") - server.max_pain[side]["price"]) / close <= 0.03
    swept, expected = plot_array(pine, f"Swept {side} USD"), server.swept[f"{side}_usd"].to_numpy()
    assert np.corrcoef(swept, expected)[0, 1] > 0.9
    assert swept.sum() / expected.sum() == pytest.approx(1.0, abs=0.1)
