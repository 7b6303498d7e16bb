"""pine/liquidation_levels.pine against the server's estimate_liquidations on the same recorded bars (OKX
SOL-USDT-SWAP 1h, which, like TradingView, has no quote volume and no taker-buy volume: the server then uses hlc3
and the candle split, as the Pine script always does).

Same model, same defaults: the nearest clusters, max pain and the map's open notional agree to float rounding
(measured 0 to 2e-16 relative; asserted 1e-9), the USD swept per bar (the sweep rule) likewise, and the lines
drawn are the server's 500 largest active levels. Not compared here: what TradingView cannot give the script
(VWAP and taker split; benchmarks/pine_parity.py measures that difference on Binance bars) and the heatmap,
which Pine does not draw.
"""

from __future__ import annotations

import numpy as np
import pytest

from indicator_server.overlays.liquidations.model import estimate_liquidations
from indicator_server.overlays.liquidations.params import LiquidationParams
from indicator_server.overlays.liquidations.payload import active_levels
from tests.pine.harness import max_abs_diff, oi_inputs, plot_array, require_pyne, run_pine

REL = 1e-9
TIER_COLORS = {5.0: "#4DD0E1", 10.0: "#42A5F5", 25.0: "#AB47BC", 50.0: "#FFA726", 100.0: "#EF5350"}
CASES = {
    "volume-120": (120, {}, LiquidationParams()),
    "volume-360": (360, {}, LiquidationParams()),
    "blend-240": (240, {"Flow": "Blend"}, LiquidationParams(flow_source="blend")),
}


@pytest.fixture(scope="module")
def runs(sol_bars):
    require_pyne()
    out = {}
    for key, (n, inputs, params) in CASES.items():
        bars = sol_bars.iloc[:n].reset_index(drop=True)
        if params.flow_source != "volume":
            inputs = inputs | oi_inputs(bars)
        server = estimate_liquidations(bars, params, include=("levels", "map", "clusters", "swept"))
        out[key] = (run_pine("liquidation_levels.pine", bars, inputs), server)
    return out


def last(result, title):
    return plot_array(result, title)[-1]


def nearest(server, side):
    return next(c for c in server.clusters if c["side"] == side)


@pytest.mark.parametrize("key", sorted(CASES))
@pytest.mark.parametrize("side", ["long", "short"])
def test_nearest_cluster_matches(runs, key, side):
    pine, server = runs[key]
    cluster = nearest(server, side)
    title = side.capitalize()
    assert last(pine, f"{title} cluster price") == pytest.approx(cluster["price_peak"], rel=REL)
    assert last(pine, f"{title} cluster USD") == pytest.approx(cluster["notional_usd"], rel=REL)


@pytest.mark.parametrize("key", sorted(CASES))
@pytest.mark.parametrize("side", ["long", "short"])
def test_max_pain_and_open_notional_match(runs, key, side):
    pine, server = runs[key]
    pain = server.max_pain[side]
    assert last(pine, f"Max pain {side} price") == pytest.approx(pain["price"], rel=REL)
    assert last(pine, f"Max pain {side} USD") == pytest.approx(pain["notional_usd"], rel=REL)
    assert last(pine, f"Open {side} USD in map") == pytest.approx(server.map[f"{side}_usd"].sum(), rel=REL)


@pytest.mark.parametrize("key", sorted(CASES))
@pytest.mark.parametrize("side", ["long", "short"])
def test_swept_per_bar_matches(runs, key, side):
    """The sweep rule bar by bar: a level leaves on the first later bar whose low (long) / high (short) reaches
    it, with the notional open at the previous close."""
    pine, server = runs[key]
    expected = server.swept[f"{side}_usd"].to_numpy()
    values = plot_array(pine, f"Swept {side} USD")
    diff, bars = max_abs_diff(values, expected)
    assert bars == len(expected)
    assert diff <= REL * expected.max()
    assert (expected > 0).sum() > 10  # the data does sweep levels on both sides
    np.testing.assert_array_equal(values > 0, expected > 0)


@pytest.mark.parametrize("key", sorted(CASES))
def test_drawn_lines_are_the_largest_active_levels(runs, key):
    pine, server = runs[key]
    top, total = active_levels(server, 500)
    lines = [d for d in pine["drawings"] if d["type"] == "line"]
    assert len(lines) == min(500, total)
    assert total > 500 or key == "volume-120"
    drawn = sorted((d["p1"], d["color"][:7]) for d in lines)
    expected = sorted((lv["price"], TIER_COLORS[lv["leverage"]]) for lv in top)
    np.testing.assert_allclose([p for p, _ in drawn], [p for p, _ in expected], rtol=REL)
    assert [c for _, c in drawn] == [c for _, c in expected]
    assert all(d["extend"] == "right" for d in lines)
    # long levels below the close, short levels above (except the last bar's own, which no bar has tested yet);
    # the widest lines hold the most notional
    close, opened_before = server.price, [lv for lv in top if lv["opened_at"] < server.time]
    assert {lv["side"] for lv in opened_before if lv["price"] < close} == {"long"}
    assert {lv["side"] for lv in opened_before if lv["price"] > close} == {"short"}
    open_usd = server.levels["open_usd"].to_numpy()
    share = open_usd[open_usd > 0] / open_usd.max()
    widths = [d["width"] for d in lines]
    for width, low, high in ((4, 0.5, 1.1), (3, 0.25, 0.5), (2, 0.1, 0.25)):
        assert widths.count(width) == int(((share >= low) & (share < high)).sum()), width
    assert widths.count(1) == len(lines) - sum(widths.count(w) for w in (2, 3, 4))


def test_labels_name_the_clusters_and_max_pain(runs):
    pine, server = runs["volume-360"]
    labels = [d for d in pine["drawings"] if d["type"] == "label"]
    texts = " | ".join(d.get("text", "") for d in labels)
    for word in ("Long cluster", "Short cluster", "Max pain long", "Max pain short"):
        assert word in texts
    boxes = [d for d in pine["drawings"] if d["type"] == "box"]
    assert len(boxes) == 2
