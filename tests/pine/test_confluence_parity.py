"""pine/confluence.pine against the server's compute_confluence on the same recorded bars (OKX SOL-USDT-SWAP 1h),
and its alert() messages posted to the server's webhook.

RSI is ta.rsi itself (TradingView's definition, which overlays/rsi.py reproduces): equal to 1e-10, and equal to
TradingView's own exported RSI column. Every z-score sums in a different order than pandas' rolling windows, so
the score agrees to float rounding (measured 4e-13; asserted 1e-9). The server's cluster component is not in
the Pine script (see its header): the comparison is with compute_confluence(bars, clusters=None).
"""

from __future__ import annotations

import json

import jsonschema
import numpy as np
import pandas as pd
import pytest

from indicator_server import create_app
from indicator_server.config import Settings
from indicator_server.overlays.confluence import compute_confluence
from indicator_server.overlays.confluence_params import ConfluenceParams
from tests.conftest import shared_data
from tests.fakes import FakeSource, load_binance_1h
from tests.pine.harness import REPO, confluence_inputs, max_abs_diff, plot_array, require_pyne, run_pine

TOLERANCE = 1e-9
RSI_TOLERANCE = 1e-10
SECRET = "pine-test-secret"
PLOTS = {
    "Score": "score",
    "RSI": "rsi",
    "Funding rate": "funding_rate",
    "Funding annualized": "funding_annualized",
    "Funding z-score": "funding_zscore",
    "Open interest": "open_interest",
    "OI delta z-score": "oi_zscore",
    "OI level z-score": "oi_level_zscore",
    "Component funding": "component_funding",
    "Component OI": "component_oi",
    "Component RSI": "component_rsi",
    "Component long/short": "component_long_short",
}
REGIME_CODES = {"long_cascade_risk": -1.0, "neutral": 0.0, "short_squeeze_risk": 1.0, None: np.nan}


@pytest.fixture(scope="module")
def runs(sol_bars):
    require_pyne()
    no_ratio = sol_bars.assign(long_short_ratio=np.nan)
    return {
        "ratio": (run_pine("confluence.pine", sol_bars, confluence_inputs(sol_bars)),
                  compute_confluence(sol_bars, with_reasons=False)),
        "no_ratio": (run_pine("confluence.pine", sol_bars, confluence_inputs(sol_bars, with_ratio=False)),
                     compute_confluence(no_ratio, with_reasons=False)),
    }


@pytest.mark.parametrize("key", ["ratio", "no_ratio"])
@pytest.mark.parametrize("plot", sorted(PLOTS))
def test_series_match_the_server(runs, key, plot):
    pine, server = runs[key]
    values, expected = plot_array(pine, plot), server[PLOTS[plot]].to_numpy(dtype="float64")
    if key == "no_ratio" and plot == "Component long/short":
        expected = np.full(len(expected), np.nan)  # no ratio: the server's component is NaN and counts 0
    np.testing.assert_array_equal(np.isnan(values), np.isnan(expected))
    if key == "no_ratio" and plot == "Component long/short":
        return
    diff, bars = max_abs_diff(values, expected)
    assert bars > 0
    assert diff < (RSI_TOLERANCE if plot in ("RSI", "Component RSI") else TOLERANCE), (plot, diff)


@pytest.mark.parametrize("key", ["ratio", "no_ratio"])
def test_regime_matches(runs, key):
    pine, server = runs[key]
    expected = np.array([REGIME_CODES[r] for r in server["regime"]])
    np.testing.assert_array_equal(plot_array(pine, "Regime"), expected)
    assert np.isfinite(expected).sum() == len(expected) - (ConfluenceParams().funding_zscore_window - 1)


def test_the_data_reaches_a_regime(runs):
    """The comparison covers risk regimes, not only neutral bars (else the thresholds would go untested)."""
    regimes = set(runs["ratio"][1]["regime"].dropna())
    assert "long_cascade_risk" in regimes and "neutral" in regimes


def test_rsi_equals_tradingview_export():
    """Pine's ta.rsi in pyne against the RSI TradingView itself exported (CME NQ1! 1h): after 500 bars the seed
    no longer matters (tests/overlays/test_rsi.py) and the two agree to float rounding."""
    require_pyne()
    export = pd.read_csv(shared_data("tradingview-exports", "CME_MINI_DL_NQ1_60_with_rsi.csv")).iloc[:600]
    bars = pd.DataFrame({
        "time": (pd.to_datetime(export["time"], utc=True).astype("int64") // 1_000_000).to_numpy(),
        **{c: export[c].astype("float64") for c in ("open", "high", "low", "close")},
        "volume": 0.0,
    })
    pine = run_pine("confluence.pine", bars, symbol="CME_MINI:NQ1!")
    rsi = plot_array(pine, "RSI")
    assert np.abs(rsi[500:] - export["RSI"].to_numpy()[500:]).max() < RSI_TOLERANCE


# ---- alerts: the messages land in the server's signal log ----

@pytest.fixture
def client(tmp_path, clock):
    """The app with a webhook secret and a local fake Binance (no network: the receiver asks the source whether
    the ticker exists)."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'test.db'}", context_workers=False,
                        market_cache_seconds=0, webhook_secrets=(SECRET,), webhook_rate_limit=0)
    source = FakeSource(load_binance_1h(shared_data("binance-btcusdt", "klines-1h.csv")))
    app = create_app(settings, clock=clock, sources={"binance": source})
    app.config["TESTING"] = True
    yield app.test_client()
    app.extensions["indicator"].extras["webhooks"].close()
    app.extensions["indicator"].db.dispose()


@pytest.fixture(scope="module")
def alerts(sol_bars):
    require_pyne()
    inputs = confluence_inputs(sol_bars) | {"Webhook secret": SECRET}
    result = run_pine("confluence.pine", sol_bars, inputs, symbol="BINANCE:BTCUSDT.P")
    return result["alerts"]


def test_alert_messages_follow_the_regime(alerts, runs):
    server = runs["ratio"][1]
    fired = [a for a in alerts if a["source"] == "alert"]
    regime = server["regime"]
    changes = [i for i in range(len(regime)) if regime.iloc[i] is not None and regime.iloc[i] != regime.iloc[i - 1]
               and not (regime.iloc[i] == "neutral" and regime.iloc[i - 1] is None)]
    assert [a["bar_index"] for a in fired] == changes
    actions = {"long_cascade_risk": "sell", "short_squeeze_risk": "buy", "neutral": "close"}
    for a in fired:
        body = json.loads(a["message"])
        assert body["action"] == actions[regime.iloc[a["bar_index"]]]
        assert body["price"] == format_close(server["close"].iloc[a["bar_index"]])
        assert body["time"] == pd.Timestamp(server["time"].iloc[a["bar_index"]], unit="ms").strftime(
            "%Y-%m-%dT%H:%M:%SZ")
    # alertcondition() fires on the same bars
    assert [a["bar_index"] for a in alerts if a["source"] == "alertcondition"] == changes


def format_close(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))


def test_alert_messages_are_valid_webhook_bodies(alerts):
    schema = json.loads((REPO / "schemas" / "tradingview-alert.schema.json").read_text())
    for a in alerts:
        body = json.loads(a["message"])
        jsonschema.validate(body, schema)
        assert body["secret"] in (SECRET, "YOUR_WEBHOOK_SECRET")


def test_alert_messages_land_in_the_signal_log(client, alerts):
    fired = [json.loads(a["message"]) for a in alerts if a["source"] == "alert"]
    assert fired
    ids = []
    for body in fired:
        reply = client.post("/webhook/tradingview", json=body)
        assert reply.status_code == 200, reply.get_json()
        assert reply.get_json()["duplicate"] is False
        ids.append(reply.get_json()["id"])
    signal = client.get(f"/api/v1/signals/{ids[0]}").get_json()
    assert (signal["symbol"], signal["timeframe"], signal["action"]) == ("BTCUSDT", "1h", fired[0]["action"])
    listed = client.get("/api/v1/signals?symbol=BTCUSDT&limit=100").get_json()
    assert len(listed["data"]) == len(fired)
