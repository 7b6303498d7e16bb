"""The cascade view against the simulator's ground truth, on the scalping regime (``SCALP*`` symbols: 25-100x,
holds of hours, square-root price impact of forced orders, so cascades happen), on the seeds and dates the accuracy
table scores (SCALP7..9, from 2025-05-01): nothing here was tuned on them.

Every 7 hours from 2025-05-01 to 2025-08-01, the model runs on the 500 bars up to that bar with the parameters the
server would use (calibrated to the sim's liquidation prints of the 720 hours before 2025-05-01, causal); the
realised move of the next hour (its low / high against the close) is looked up in the cascade view (the forced
notional of exactly that move) and compared with the sim's true liquidations in that hour. The same cascade maths
on the sim's TRUE map (its open positions binned on the model's cluster grid) says how much of the gap is the map.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from indicator_server.accuracy.sim_scores import observed_per_bar, sim_bars
from indicator_server.market.sim import SimSource
from indicator_server.overlays.liquidations import estimate_liquidations
from indicator_server.overlays.liquidations.calibrate import CALIBRATION_BARS, calibrate_liquidations
from indicator_server.overlays.liquidations.cascade import THIN_FRACTION, side_walk
from indicator_server.timeframes import HOUR_MS

CLOCK = pd.Timestamp("2026-01-01", tz="UTC").timestamp()
SYMBOLS = ("SCALP7USDT", "SCALP8USDT", "SCALP9USDT")
START, STOP = "2025-05-01", "2025-08-01"
WINDOW, HORIZON, STRIDE = 500, 1, 7
MODEL_BOUND = 0.75  # Spearman of the model's forced notional vs true liquidations, per symbol and side (0.81-0.89)
TRUE_MAP_BOUND = 0.85  # the same with the true map (0.87-0.93)


def _ms(day: str) -> int:
    return int(pd.Timestamp(day, tz="UTC").value // 1_000_000)


def _forced(grid: dict, close: float, down: float, up: float) -> tuple[float, float]:
    long = side_walk(grid, close, "long", THIN_FRACTION).forced(np.array([-np.log1p(-down)]))[0]
    short = side_walk(grid, close, "short", THIN_FRACTION).forced(np.array([np.log1p(up)]))[0]
    return float(long), float(short)


@pytest.fixture(scope="module")
def source() -> SimSource:
    return SimSource(clock=lambda: CLOCK, symbols=SYMBOLS)


@pytest.fixture(scope="module", params=SYMBOLS)
def realised(request, source) -> pd.DataFrame:
    """Per sampled bar: the next hour's realised down / up move, the forced notional of exactly those moves on the
    model's map and on the true map, and the sim's true long / short liquidations in that hour."""
    symbol = request.param
    if hasattr(source, "regime"):
        assert source.regime(symbol) == "scalping"
    stop = _ms(STOP) + (HORIZON + 1) * HOUR_MS
    bars = sim_bars(source, symbol, stop, (stop - _ms(START)) // HOUR_MS + WINDOW + 1)
    recent = sim_bars(source, symbol, _ms(START) - HOUR_MS, CALIBRATION_BARS["1h"])
    params = calibrate_liquidations(observed_per_bar(source, symbol, recent)).params
    truth = source.true_liquidations(symbol, "1h", int(bars["time"].iloc[0]), int(bars["time"].iloc[-1]))
    assert (truth["time"].to_numpy() == bars["time"].to_numpy()).all()
    rows = []
    for i in range(WINDOW, len(bars) - HORIZON - 1, STRIDE):
        result = estimate_liquidations(bars.iloc[i - WINDOW + 1: i + 1], params, include=("cascade",))
        close, nxt, grid = result.price, bars.iloc[i + 1: i + 1 + HORIZON], result.cluster_grid
        down = max(0.0, 1 - float(nxt["low"].min()) / close)
        up = max(0.0, float(nxt["high"].max()) / close - 1)
        edges = np.append(grid["price_low"], grid["price_high"][-1])
        true_map = source.true_liquidation_map(symbol, "1h", int(bars["time"].iloc[i]), edges)
        true_grid = dict(grid, long_usd=true_map["long_usd"].to_numpy(), short_usd=true_map["short_usd"].to_numpy())
        later = truth.iloc[i + 1: i + 1 + HORIZON]
        rows.append({"down": down, "up": up,
                     **dict(zip(("model_long", "model_short"), _forced(grid, close, down, up), strict=True)),
                     **dict(zip(("map_long", "map_short"), _forced(true_grid, close, down, up), strict=True)),
                     "true_long": float(later["long_liquidated_usd"].sum()),
                     "true_short": float(later["short_liquidated_usd"].sum())})
    frame = pd.DataFrame(rows)
    frame.attrs["symbol"] = symbol
    return frame


def test_forced_notional_of_the_realised_move_ranks_the_true_liquidations(realised):
    """The cascade's forced notional for the move that then happened ranks the true liquidations of that hour
    (Spearman >= MODEL_BOUND per side). On the true map the same maths ranks them >= TRUE_MAP_BOUND and better
    than the size of the move alone (what a flat map, the same notional at every price, would give) on both sides:
    the cascade's "where" adds to the "how far" when the map is right. The model's own map is about as good as
    the move's size here (0.80-0.89 vs 0.81-0.85, printed; not asserted: it is within the sampling noise), which
    is the map's where-accuracy (issue 9 parts 1-3), not the cascade's."""
    scores = {}
    for side, move in (("long", "down"), ("short", "up")):
        scores[side] = {name: spearmanr(realised[column], realised[f"true_{side}"])[0]
                        for name, column in (("model", f"model_{side}"), ("true map", f"map_{side}"),
                                             ("move size", move))}
    print(realised.attrs["symbol"], len(realised), {s: {k: round(v, 3) for k, v in d.items()}
                                                    for s, d in scores.items()})
    assert len(realised) > 250
    for side in scores.values():
        assert side["model"] >= MODEL_BOUND
        assert side["true map"] >= TRUE_MAP_BOUND and side["true map"] > side["move size"]
