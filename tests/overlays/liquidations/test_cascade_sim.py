"""The cascade view against the simulator's ground truth, on the scalping regime (``SCALP*`` symbols: high leverage,
price impact, so cascades happen), on the seeds and dates the accuracy table scores (SCALP7..9, from 2025-05-01):
nothing here was tuned on them.

For bars every few hours, the model runs on the 500 bars up to that bar; the realised move of the next hours (the
lowest low / highest high against the close) is looked up in its cascade view (the forced notional of that move),
and compared with the sim's true liquidations in those hours.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from indicator_server.market.assemble import assemble_bars
from indicator_server.market.sim import SimSource
from indicator_server.overlays.liquidations import estimate_liquidations
from indicator_server.overlays.liquidations.cascade import THIN_FRACTION, side_walk
from indicator_server.timeframes import HOUR_MS

CLOCK = pd.Timestamp("2026-01-01", tz="UTC").timestamp()
SYMBOLS = ("SCALP7USDT", "SCALP8USDT", "SCALP9USDT")
START, STOP = "2025-05-01", "2025-08-01"
WINDOW, HORIZON, STRIDE = 500, 6, 7
RANK_BOUND = 0.75  # Spearman of modelled forced notional vs true liquidations, per symbol and side


def _ms(day: str) -> int:
    return int(pd.Timestamp(day, tz="UTC").value // 1_000_000)


def sim_bars(source: SimSource, symbol: str, start: int, end: int) -> pd.DataFrame:
    parts = (source.fetch_klines(symbol, "1h", start, end), source.fetch_open_interest(symbol, "1h", start, end),
             source.fetch_funding(symbol, start, end + HOUR_MS),
             source.fetch_long_short_ratio(symbol, "1h", start, end))
    return assemble_bars(*(p.frame for p in parts), HOUR_MS, sample_tolerance=HOUR_MS)


@pytest.fixture(scope="module")
def source() -> SimSource:
    return SimSource(clock=lambda: CLOCK, symbols=SYMBOLS)


@pytest.fixture(scope="module", params=SYMBOLS)
def realised(request, source) -> pd.DataFrame:
    """Per sampled bar: the next hours' realised down / up move, the model's forced notional for exactly those
    moves, and the sim's true long / short liquidations in those hours."""
    symbol = request.param
    if hasattr(source, "regime"):  # market.sim.regimes: SCALP* symbols are the scalping regime
        assert source.regime(symbol) == "scalping"
    start, stop = _ms(START) - WINDOW * HOUR_MS, _ms(STOP) + (HORIZON + 1) * HOUR_MS
    bars = sim_bars(source, symbol, start, stop)
    truth = source.true_liquidations(symbol, "1h", start, stop)
    assert (truth["time"].to_numpy() == bars["time"].to_numpy()).all()
    rows = []
    for i in range(WINDOW, len(bars) - HORIZON - 1, STRIDE):
        result = estimate_liquidations(bars.iloc[i - WINDOW + 1: i + 1], include=("cascade",))
        close, nxt = result.price, bars.iloc[i + 1: i + 1 + HORIZON]
        down = max(0.0, 1 - float(nxt["low"].min()) / close)
        up = max(0.0, float(nxt["high"].max()) / close - 1)
        walks = {side: side_walk(result.cluster_grid, close, side, THIN_FRACTION) for side in ("long", "short")}
        later = truth.iloc[i + 1: i + 1 + HORIZON]
        rows.append({"down": down, "up": up,
                     "forced_long": float(walks["long"].forced(np.array([-np.log1p(-down)]))[0]),
                     "forced_short": float(walks["short"].forced(np.array([np.log1p(up)]))[0]),
                     "true_long": float(later["long_liquidated_usd"].sum()),
                     "true_short": float(later["short_liquidated_usd"].sum())})
    frame = pd.DataFrame(rows)
    frame.attrs["symbol"] = symbol
    return frame


def test_forced_notional_of_the_realised_move_ranks_the_true_liquidations(realised):
    """The cascade's forced notional for the move that then happened ranks the true liquidations of those hours
    (Spearman >= RANK_BOUND per side) and ranks them better than the size of the move alone does (what a flat map,
    the same notional at every price, would give) on at least one side: the map's "where" adds to the "how far"."""
    got, by_size = {}, {}
    for side, move in (("long", "down"), ("short", "up")):
        got[side] = spearmanr(realised[f"forced_{side}"], realised[f"true_{side}"])[0]
        by_size[side] = spearmanr(realised[move], realised[f"true_{side}"])[0]
    print(realised.attrs["symbol"], len(realised), {s: round(v, 3) for s, v in got.items()},
          "move size alone:", {s: round(v, 3) for s, v in by_size.items()})
    assert len(realised) > 250
    assert min(got.values()) >= RANK_BOUND
    assert max(got[s] - by_size[s] for s in got) > 0
