"""The spec says what the server does (issue 8, items 2, 5, 6): undeclared parameters refused, times and lookbacks
parsed by one declared rule (ASCII digits only), bounded calculator inputs, the error answers declared."""

from __future__ import annotations

import json

import pytest

CALC = "/api/v1/liquidation-price"
POSITION = {"side": "long", "entry": 60000, "leverage": 10, "quantity": 0.5, "advice": "false"}
MARKET_GETS = ["/api/v1/candles", "/api/v1/overlays/oi-delta", "/api/v1/overlays/confluence",
               "/api/v1/overlays/liquidations"]


def strict_json(response):
    """The body as JSON, refusing NaN/Infinity (not JSON, RFC 8259 section 6)."""
    def no_constants(name):
        raise ValueError(f"{name} is not JSON")
    return json.loads(response.get_data(as_text=True), parse_constant=no_constants)


def error(response) -> dict:
    return strict_json(response)["error"]


@pytest.mark.parametrize("path", [*MARKET_GETS, "/api/v1/signals", CALC])
def test_unknown_query_parameter_is_refused_by_name(client, path):
    query = {"lookbak": "30d", **(POSITION if path == CALC else {})}
    response = client.get(path, query_string=query)
    assert response.status_code == 400
    body = error(response)
    assert body["code"] == "invalid_argument" and "lookbak" in body["message"]
    assert body["details"]["fields"] == {"lookbak": ["Unknown field."]}


def test_liquidations_refuse_start_instead_of_ignoring_it(client):
    response = client.get("/api/v1/overlays/liquidations", query_string={"start": "2026-05-01", "include": "clusters"})
    assert response.status_code == 400 and "start" in error(response)["message"]


def test_udf_stays_tolerant_of_the_adapters_own_parameters(client):
    response = client.get("/udf/config", query_string={"_": "1780317296000"})
    assert response.status_code == 200
    response = client.get("/udf/symbols", query_string={"symbol": "SIM:BTCUSDT", "currencyCode": "USD"})
    assert response.status_code == 200


@pytest.mark.parametrize("text", ["²", "٣", "1²", "²d", "７d", "10\u00b9"])
@pytest.mark.parametrize("path", ["/api/v1/overlays/liquidations", "/api/v1/overlays/liquidations.png", CALC])
def test_unicode_digits_in_lookback_are_a_400_not_a_500(client, path, text):
    query = {"lookback": text, **(POSITION if path == CALC else {})}
    response = client.get(path, query_string=query)
    assert response.status_code == 400
    assert error(response)["code"] == "invalid_argument"


@pytest.mark.parametrize("text", ["²", "١٧٠٠٠٠٠٠٠٠", "2026-06-0١", " 1700000000", "2026-02-30", "2023-02-29", ""])
@pytest.mark.parametrize("field", ["start", "end"])
def test_times_outside_the_declared_pattern_are_refused(client, field, text):
    response = client.get("/api/v1/candles", query_string={field: text, "limit": 3})
    assert response.status_code == 400 and field in error(response)["message"]


def test_liquidation_price_takes_the_overlays_lookback_durations(client):
    query = {**POSITION, "advice": "true", "exchange_data": "sim", "timeframe": "1h"}
    by_duration = client.get(CALC, query_string={**query, "lookback": "7d"})
    by_bars = client.get(CALC, query_string={**query, "lookback": "168"})
    assert by_duration.status_code == by_bars.status_code == 200
    assert strict_json(by_duration) == strict_json(by_bars)
    too_short = client.get(CALC, query_string={**query, "lookback": "1d"})  # 24 bars < 48
    assert too_short.status_code == 400 and error(too_short)["details"]["fields"]["lookback"]


@pytest.mark.parametrize("extra", [{"margin_mode": "cross", "balance": "1e308"}, {"quantity": "1e308"},
                                   {"entry": "5e-324", "quantity": "5e-324"}, {"leverage": "1e308"}])
def test_calculator_bounds_its_inputs_so_every_answer_is_json(client, extra):
    response = client.get(CALC, query_string={**POSITION, **extra})
    assert response.status_code == 400
    assert error(response)["code"] == "invalid_argument"


@pytest.mark.parametrize("entry, quantity", [(1e-8, 1e12), (1e9, 1e-8), (1e9, 1e12), (1e-8, 1e-8)])
def test_calculator_answers_finite_json_at_its_bounds(client, entry, quantity):
    response = client.get(CALC, query_string={**POSITION, "entry": entry, "quantity": quantity, "leverage": 1,
                                              "exchange": "okx"})
    assert response.status_code in (200, 400)
    strict_json(response)


@pytest.mark.parametrize("exchange", ["binance", "bybit"])
def test_fee_is_refused_where_the_formula_has_no_fee(client, exchange):
    response = client.get(CALC, query_string={**POSITION, "exchange": exchange, "fee": "0.0005"})
    assert response.status_code == 400
    assert "fee" in error(response)["details"]["fields"]


def test_fee_applies_on_okx(client):
    response = client.get(CALC, query_string={**POSITION, "exchange": "okx", "fee": "0.001"})
    assert response.status_code == 200 and strict_json(response)["fee_rate"] == 0.001


def test_empty_exchange_is_refused(client):
    response = client.get("/api/v1/candles", query_string={"exchange": ""})
    assert response.status_code == 400 and "exchange" in error(response)["message"]


# --- the OpenAPI document --------------------------------------------------------------------------------------

@pytest.fixture
def spec(app):
    return app.extensions["indicator_api"].spec.to_dict()


def operations(spec):
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, op


def test_every_query_parameter_has_a_type(spec):
    untyped = [(path, p["name"]) for path, _, op in operations(spec) for p in op.get("parameters", [])
               if "type" not in p["schema"] and "$ref" not in p["schema"] and "anyOf" not in p["schema"]]
    assert untyped == []


def test_times_are_declared_strings_with_the_pattern(spec):
    params = {p["name"]: p["schema"] for p in spec["paths"]["/api/v1/candles"]["get"]["parameters"]}
    for name in ("start", "end"):
        assert params[name]["type"] == "string" and params[name]["pattern"].startswith("^")


def test_calculator_constraints_are_declared(spec):
    params = {p["name"]: p["schema"] for p in spec["paths"][CALC]["get"]["parameters"]}
    assert params["entry"]["minimum"] > 0 and params["quantity"]["minimum"] > 0
    assert params["leverage"]["minimum"] == 1
    assert params["lookback"]["type"] == "string" and "pattern" in params["lookback"]


def test_every_json_operation_declares_its_error_answers(spec):
    for path, _method, op in operations(spec):
        declared = set(op["responses"])
        if path.startswith("/udf"):
            assert "default" in declared  # UDF documents its own error form as the default
            continue
        assert {"405", "414", "500"} <= declared, path
        if path.startswith(("/api/v1/candles", "/api/v1/overlays/oi-delta", "/api/v1/overlays/confluence",
                            "/api/v1/overlays/liquidations", CALC)) and not path.endswith((".png", ".pine")):
            assert {"400", "404", "502", "503", "504"} <= declared, path


def test_webhook_metrics_declares_its_body(spec, client):
    schema = spec["paths"]["/api/v1/webhooks/metrics"]["get"]["responses"]["200"]["content"]["application/json"]
    name = schema["schema"]["$ref"].rsplit("/", 1)[1]
    props = spec["components"]["schemas"][name]["properties"]
    assert set(props) == set(strict_json(client.get("/api/v1/webhooks/metrics")))
