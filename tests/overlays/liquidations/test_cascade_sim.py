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
from indicator_server.market.sim import GENESIS_MS, SimSource
from indicator_server.market.sim.daily import daily_path
from indicator_server.market.sim.minutes import aggregate, raw_block
from indicator_server.market.sim.params import BLOCK_DAYS, profile
from indicator_server.market.sim.regimes import regime_for
from indicator_server.overlays.liquidations import estimate_liquidations
from indicator_server.overlays.liquidations.calibrate import CALIBRATION_BARS, calibrate_liquidations
from indicator_server.overlays.liquidations.cascade import (
    IMPACT_Y,
    THIN_FRACTION,
    Activity,
    bars_activity,
    run_end,
    side_walk,
)
from indicator_server.timeframes import HOUR_MS

CLOCK = pd.Timestamp("2026-01-01", tz="UTC").timestamp()
SYMBOLS = ("SCALP7USDT", "SCALP8USDT", "SCALP9USDT")
START, STOP = "2025-05-01", "2025-08-01"
WINDOW, HORIZON, STRIDE = 500, 1, 7
MODEL_BOUND = 0.65  # Spearman of the model's forced notional vs true liquidations, per symbol and side (0.72-0.88)
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
    the move's size here or a little worse (0.72-0.88 vs 0.81-0.85, printed; not asserted: it moves with the
    calibration), which is the map's where-accuracy (issue 9 parts 1-3), not the cascade's."""
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


# -- where cascades stop ------------------------------------------------------------------------------------------
EPISODE_MULTIPLE = 5.0  # a cascade hour: true liquidations of a side >= this x the median non-zero hour
TRUE_STOP_BOUND_PCT = 0.35  # median |log(predicted stop / realised stop)| on the true map, % (held out: 0.14-0.22)


def _raw_hourly(symbol: str, first_hour: int, n: int) -> np.ndarray:
    """The sim's 1h bars before the impact of liquidations (its raw minutes aggregated): the exogenous path."""
    per_block = BLOCK_DAYS * 24
    blocks = range(first_hour // per_block, (first_hour + n) // per_block + 1)
    raw = np.concatenate([aggregate(raw_block(symbol, b), 60) for b in blocks], axis=1)
    lead = first_hour - blocks[0] * per_block
    return raw[:, lead: lead + n]


def _stop(grid: dict, close: float, side: str, target: float, act: Activity, y: float, thin: float) -> float:
    walk = side_walk(grid, close, side, thin)
    end, beyond = run_end(walk, np.maximum(walk.distance(close, np.array([target])), 0.0), act, y)
    return float(walk.price(close, end)[0]) if not beyond[0] else np.nan


@pytest.fixture(scope="module", params=SYMBOLS)
def cascades(request, source) -> pd.DataFrame:
    """Every cascade hour of a side from START to STOP: the close before it, the exogenous target (where the raw
    path, without the impact of liquidations, took price in that hour), the realised extreme, and the run's stop
    predicted by the cascade maths from that target on the true map (the sim's own Y, volatility and volume) and on
    the calibrated model's map (its window's volatility and volume, Y the regime's and the default 1)."""
    symbol = request.param
    regime = regime_for(symbol)
    n = (_ms(STOP) - _ms(START)) // HOUR_MS
    bars = sim_bars(source, symbol, _ms(STOP) - HOUR_MS, n + WINDOW)
    first_hour = (int(bars["time"].iloc[WINDOW]) - GENESIS_MS) // HOUR_MS
    raw = _raw_hourly(symbol, first_hour, n)
    liq = source.true_liquidations(symbol, "1h", int(bars["time"].iloc[WINDOW]), int(bars["time"].iloc[-1]),
                                   value="liquidation")
    recent = sim_bars(source, symbol, _ms(START) - HOUR_MS, CALIBRATION_BARS["1h"])
    params = calibrate_liquidations(observed_per_bar(source, symbol, recent)).params
    sigma = daily_path(symbol, (first_hour + n) // 24 + 1).sigma
    daily_volume = profile(symbol).daily_quote_volume
    rows = []
    for side, extreme, row_raw in (("long", "low", 2), ("short", "high", 1)):
        usd = liq[f"{side}_liquidated_usd"].to_numpy()
        threshold = EPISODE_MULTIPLE * np.median(usd[usd > 0])
        for t in np.flatnonzero(usd >= threshold):
            if t == 0:
                continue
            i = WINDOW + t - 1  # the bar before the cascade hour, in ``bars``
            result = estimate_liquidations(bars.iloc[i - WINDOW + 1: i + 1], params, include=("map",))
            close, grid = result.price, result.cluster_grid
            edges = np.append(grid["price_low"], grid["price_high"][-1])
            true_map = source.true_liquidation_map(symbol, "1h", int(bars["time"].iloc[i]), edges, value="liquidation")
            true_grid = dict(grid, long_usd=true_map["long_usd"].to_numpy(), short_usd=true_map["short_usd"].to_numpy())
            true_act = Activity(np.zeros(0), np.zeros(0), np.zeros(0), float(sigma[(first_hour + t) // 24]),
                                daily_volume)
            act = bars_activity(bars.iloc[i - WINDOW + 1: i + 1])
            target = close * raw[row_raw, t] / raw[3, t - 1]
            rows.append({"side": side, "close": close, "target": target,
                         "realised": float(bars[extreme].iloc[i + 1]),
                         "true_map": _stop(true_grid, close, side, target, true_act, regime.impact_y, THIN_FRACTION),
                         "true_map_thin": _stop(true_grid, close, side, target, true_act, regime.impact_y, 0.5),
                         "model": _stop(grid, close, side, target, act, regime.impact_y, THIN_FRACTION),
                         "model_y1": _stop(grid, close, side, target, act, IMPACT_Y, THIN_FRACTION)})
    frame = pd.DataFrame(rows)
    frame.attrs["symbol"] = symbol
    return frame


def test_cascades_stop_where_the_run_of_their_own_forced_flow_stops(cascades):
    """From where the exogenous path took price, the run of the cascade's own forced flow (square-root impact, the
    sim's Y) on the true map lands within TRUE_STOP_BOUND_PCT of where the sim's cascade really stopped (median),
    less than a third of the error of "no cascade" (the target itself); a fixed thin-zone threshold (0.5 x the mean
    bin) overshoots, which is why it is off. On the calibrated model's map, with the default Y = 1, the run beats
    "no cascade" (0.63-1.01 vs 0.92-1.51); with the regime's Y = 2.5 it overshoots on two seeds of three (printed,
    not asserted: the calibrated notional scale moves it)."""
    err = {name: float(np.nanmedian(np.abs(np.log(cascades[name] / cascades["realised"]))) * 100)
           for name in ("target", "true_map", "true_map_thin", "model", "model_y1")}
    print(cascades.attrs["symbol"], len(cascades), "median stop error %:", {k: round(v, 3) for k, v in err.items()})
    assert len(cascades) >= 100
    assert cascades[["true_map", "model_y1"]].notna().mean().min() > 0.95
    assert err["true_map"] <= TRUE_STOP_BOUND_PCT and err["true_map"] <= err["target"] / 3
    assert err["true_map"] < err["true_map_thin"]
    assert err["model_y1"] < err["target"]
