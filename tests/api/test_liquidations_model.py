"""model=calibrated (default) | default and named overrides on the liquidation endpoints, through the real app on
the sim (no network): what meta.model says, what is fitted, what is cached and when it refreshes."""

from __future__ import annotations

import pytest

from indicator_server import create_app
from indicator_server.api import liquidation_model
from indicator_server.market.sim import SimSource
from indicator_server.overlays.liquidations import LiquidationParams
from indicator_server.overlays.liquidations.calibrate import (
    CALIBRATION_BARS,
    CALIBRATION_BARS_WITHOUT_PRINTS,
    calibrate_liquidations,
)
from tests.market.test_liquidation_prints import PrintsSim

URL = "/api/v1/overlays/liquidations?exchange=sim&symbol=BTCUSDT&timeframe=1h&lookback=30d"
FITTED = ("flow_source", "volume_half_life_hours", "decay_half_life_hours", "split", "leverage_tiers",
          "leverage_weights", "notional_scale")


@pytest.fixture
def calls(monkeypatch):
    """Every calibration the app runs (the real one, counted)."""
    seen = []

    def counting(bars, prior=None, **kwargs):
        seen.append((len(bars), int(bars["time"].iloc[-1]), kwargs.get("fix", ())))
        return calibrate_liquidations(bars, prior, **kwargs)

    monkeypatch.setattr(liquidation_model, "calibrate_liquidations", counting)
    return seen


def _client(settings, clock, source):
    app = create_app(settings, sources={"sim": source}, clock=clock)
    return app, app.test_client()


@pytest.fixture
def client(settings, clock):
    app, client = _client(settings, clock, PrintsSim(clock=clock))
    yield client
    app.extensions["indicator"].db.dispose()


def _get(client, query=""):
    r = client.get(URL + query)
    assert r.status_code == 200, r.get_json()
    return r


def test_the_default_answer_is_calibrated_on_the_prints(client):
    meta = _get(client).get_json()["meta"]
    model = meta["model"]
    assert model["mode"] == "calibrated" and meta["parameters"]["model"] == "calibrated"
    calibration = model["calibration"]
    assert calibration["method"] == "fitted" and calibration["fitted"]
    assert calibration["data"]["observations"] == "prints per bar"  # the liquidation columns reached the model
    assert calibration["data"]["bars"] == CALIBRATION_BARS["1h"] and calibration["data"]["last"] == meta["end"]
    assert {"score", "validation"} <= set(calibration["quality"])
    # meta.model.params are the params used: the prior with the fitted fields replaced
    for name, value in calibration["fitted"].items():
        assert model["params"][name] == pytest.approx(value), name


def test_model_default_is_the_priors_without_a_fit(client, calls):
    meta = _get(client, "&model=default").get_json()["meta"]
    assert meta["model"]["mode"] == "default" and meta["model"]["calibration"] is None
    priors = LiquidationParams(max_heatmap_rows=500).to_dict()
    assert meta["model"]["params"] == priors
    assert calls == []


def test_an_override_is_echoed_changes_the_levels_and_the_etag_and_is_not_fitted(client, calls):
    base = _get(client)
    over = _get(client, "&half_life_hours=6&split=candle")
    meta = over.get_json()["meta"]
    assert meta["parameters"]["half_life_hours"] == 6 and meta["parameters"]["split"] == "candle"
    params = meta["model"]["params"]
    assert params["volume_half_life_hours"] == 6 and params["split"] == "candle"
    fitted = meta["model"]["calibration"]["fitted"]
    assert not {"volume_half_life_hours", "decay_half_life_hours", "split"} & set(fitted)
    assert calls[-1][2] == ("decay_half_life_hours", "split", "volume_half_life_hours")
    assert over.headers["ETag"] != base.headers["ETag"]
    assert over.get_json()["levels"] != base.get_json()["levels"]


def test_the_leverage_exponent_is_an_override_too(client, calls):
    meta = _get(client, "&half_life_leverage_exponent=1").get_json()["meta"]
    assert meta["parameters"]["half_life_leverage_exponent"] == 1
    assert meta["model"]["params"]["half_life_leverage_exponent"] == 1
    assert "half_life_leverage_exponent" not in meta["model"]["calibration"]["fitted"]
    assert "half_life_leverage_exponent" in calls[-1][2]


def test_fixed_tiers_and_weights_are_used_as_given(client):
    meta = _get(client, "&leverage_tiers=3,20&leverage_weights=1,3&model=default").get_json()["meta"]
    assert meta["parameters"]["leverage_tiers"] == [3, 20]
    assert meta["model"]["params"]["leverage_tiers"] == [3, 20]
    assert meta["model"]["params"]["leverage_weights"] == [1, 3]
    calibrated = _get(client, "&leverage_tiers=3,20").get_json()["meta"]["model"]
    assert calibrated["params"]["leverage_tiers"] == [3, 20]
    assert calibrated["params"]["leverage_weights"] == [1, 1]  # tiers without weights weigh equally
    assert "leverage_tiers" not in calibrated["calibration"]["fitted"]


def test_the_leverage_filter_uses_the_tiers_of_the_model_used(client):
    body = _get(client, "&leverage_tiers=3,20,75&leverage=high").get_json()
    assert {lv["leverage"] for lv in body["levels"]} == {75.0}
    assert body["meta"]["parameters"]["leverage"] == [75]
    error = client.get(URL + "&leverage_tiers=3,20&leverage=high").get_json()["error"]
    assert error["code"] == "invalid_argument" and error["details"]["field"] == "leverage"


@pytest.mark.parametrize(("query", "field"), [
    ("&model=magic", "model"),
    ("&half_life_hours=0", "half_life_hours"),
    ("&half_life_hours=nan", "half_life_hours"),
    ("&split=coin", "split"),
    ("&flow_source=rumour", "flow_source"),
    ("&leverage_weights=1,2", "leverage_weights"),  # five default tiers, two weights
    ("&leverage_tiers=5,5", "leverage_tiers"),
    ("&leverage_tiers=1", "leverage_tiers"),
    ("&leverage_tiers=5,10&leverage_weights=0,0", "leverage_weights"),
    ("&notional_scale=-1", "notional_scale"),
    ("&cluster_bin_pct=20", "cluster_bin_pct"),
    ("&cluster_density=0", "cluster_density"),
    ("&half_life_leverage_exponent=3", "half_life_leverage_exponent"),
    ("&leverage_tier=5", "leverage_tier"),  # unknown parameters stay refused
])
def test_bad_overrides_are_400_naming_the_field(client, query, field):
    r = client.get(URL + query)
    assert r.status_code == 400, r.get_json()
    error = r.get_json()["error"]
    assert set(error) == {"code", "message", "details"} and error["code"] in ("invalid_argument", "unknown_argument")
    assert field in str(error["details"]), error


def test_the_calibration_is_computed_once_per_closed_bar(settings, clock, calls):
    app, client = _client(settings, clock, PrintsSim(clock=clock))
    try:
        first = _get(client).get_json()["meta"]
        _get(client, "&bins=200")  # another overlay body, the same calibration
        png = client.get(URL.replace("liquidations?", "liquidations.png?"))
        assert png.status_code == 200
        assert len(calls) == 1 and calls[0][:2] == (CALIBRATION_BARS["1h"], first["end"])
        clock.advance(3600)  # the next bar closes: a new calibration, ending at it
        again = _get(client).get_json()["meta"]
        assert len(calls) == 2 and calls[1][1] == again["end"] == first["end"] + 3_600_000
        assert again["model"]["calibration"]["data"]["last"] == again["end"]
        _get(client, "&half_life_hours=12")  # other overrides: their own calibration
        assert len(calls) == 3
    finally:
        app.extensions["indicator"].db.dispose()


def test_a_short_history_calibrates_on_the_request_bars_tail_and_causally(client, calls):
    meta = _get(client, "&lookback=3d&end=1780000000000").get_json()["meta"]
    assert calls[-1][0] == CALIBRATION_BARS["1h"] and calls[-1][1] == meta["end"]  # ending at the last bar
    long = _get(client, "&lookback=60d&end=1780000000000").get_json()["meta"]
    assert long["model"]["calibration"]["data"]["last"] == long["end"] == meta["end"]
    assert len(calls) == 1  # same last bar, same overrides: the cached calibration


def test_the_png_and_pine_take_the_same_model_arguments(client):
    for suffix in (".png", ".pine"):
        base = client.get(URL.replace("liquidations?", f"liquidations{suffix}?"))
        over = client.get(URL.replace("liquidations?", f"liquidations{suffix}?") + "&model=default")
        assert base.status_code == over.status_code == 200
        assert base.headers["ETag"] != over.headers["ETag"]
        bad = client.get(URL.replace("liquidations?", f"liquidations{suffix}?") + "&split=coin")
        assert bad.status_code == 400 and "split" in str(bad.get_json()["error"]["details"])


def test_a_failing_fit_answers_the_prior_with_a_warning_and_is_retried(client, monkeypatch):
    def broken(bars, prior=None, **kwargs):
        raise FloatingPointError("degenerate")

    monkeypatch.setattr(liquidation_model, "calibrate_liquidations", broken)
    meta = _get(client).get_json()["meta"]
    assert meta["model"]["calibration"]["method"] == "prior"
    assert meta["model"]["params"]["leverage_tiers"] == list(LiquidationParams().leverage_tiers)
    assert any("the fit failed" in w for w in meta["warnings"])
    monkeypatch.undo()
    assert _get(client, "&bins=200").get_json()["meta"]["model"]["calibration"]["method"] == "fitted"


def test_unavailable_prints_are_not_cached_into_the_calibration(settings, clock, calls):
    source = PrintsSim(clock=clock)
    source.fail = True
    app, client = _client(settings, clock, source)
    try:
        meta = _get(client).get_json()["meta"]
        assert meta["model"]["calibration"]["data"]["observations"] != "prints per bar"
        assert any("prints are unavailable" in w for w in meta["warnings"])
        source.fail = False
        meta = _get(client, "&bins=200").get_json()["meta"]
        assert meta["model"]["calibration"]["data"]["observations"] == "prints per bar" and len(calls) == 2
    finally:
        app.extensions["indicator"].db.dispose()


def test_workers_sharing_a_cache_share_the_fit(settings, clock, calls, tmp_path):
    """Two apps on one file cache (two gunicorn workers): the second answers the first one's calibration."""
    shared = settings.with_overrides(cache_url=f"file://{tmp_path / 'cache'}")
    apps = [_client(shared, clock, PrintsSim(clock=clock)) for _ in range(2)]
    try:
        first = _get(apps[0][1]).get_json()["meta"]["model"]
        second = _get(apps[1][1], "&bins=200").get_json()["meta"]["model"]
        assert len(calls) == 1 and second["calibration"] == first["calibration"]
        assert second["params"] == first["params"]
    finally:
        for app, _ in apps:
            app.extensions["indicator"].db.dispose()


class NoPrintsSim(SimSource):
    """The sim as a venue that publishes no liquidation prints (as Binance's REST history does not)."""

    has = {**SimSource.has, "liquidations": False}


def test_a_venue_without_prints_calibrates_on_a_month_of_open_interest(settings, clock, calls):
    app, client = _client(settings, clock, NoPrintsSim(clock=clock))
    try:
        meta = _get(client, "&lookback=3d").get_json()["meta"]
        assert meta["model"]["calibration"]["data"]["observations"] == "open interest only"
        assert calls[-1][0] == CALIBRATION_BARS_WITHOUT_PRINTS["1h"] == 720 < CALIBRATION_BARS["1h"]
    finally:
        app.extensions["indicator"].db.dispose()
