"""Health, readiness, the OpenAPI document and the offline docs UI."""

from __future__ import annotations

from pathlib import Path

from indicator_server.config import Settings, documented_variables
from indicator_server.store.db import Database


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.get_json()["status"] == "ok"


def test_readyz_checks_the_store(client):
    body = client.get("/readyz").get_json()
    assert body["status"] == "ready" and body["checks"]["database"] == "ok"


def test_readyz_reports_a_dead_database(app, client):
    svc = app.extensions["indicator"]
    healthy = svc.db
    svc.db = Database("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    try:
        r = client.get("/readyz")
    finally:
        svc.db.dispose()
        svc.db = healthy
    assert r.status_code == 503 and r.get_json()["status"] == "not_ready"


def test_openapi_lists_the_overlays_and_error_shape(client):
    spec = client.get("/openapi.json").get_json()
    # the bundled Swagger UI (4.x) renders OpenAPI 3.0.n only: a 3.1 document shows "Unable to render"
    assert spec["openapi"].startswith("3.0.")
    assert "/api/v1/overlays/oi-delta" in spec["paths"]
    assert "/api/v1/overlays/confluence" in spec["paths"]
    params = {p["name"] for p in spec["paths"]["/api/v1/overlays/oi-delta"]["get"]["parameters"]}
    assert {"exchange", "symbol", "timeframe", "limit", "start", "end"} <= params
    assert "400" in spec["paths"]["/api/v1/overlays/oi-delta"]["get"]["responses"]
    assert "error" in spec["components"]["schemas"]["Error"]["properties"]


def test_docs_ui_is_served_without_internet(client):
    page = client.get("/docs")
    assert page.status_code == 200 and b"/docs/static/swagger-ui-bundle.js" in page.data
    with client.get("/docs/static/swagger-ui-bundle.js") as asset:
        assert asset.status_code == 200 and len(asset.data) > 100_000


def test_every_setting_is_documented_in_the_readme():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for env, default, _doc in documented_variables():
        assert f"`{env}`" in readme, f"README lacks {env}"
        assert f"`{default}`" in readme or default == "", f"README lacks the default of {env}"


def test_settings_parse_types():
    s = Settings.from_env({"HTTP_RETRIES": "5", "BINANCE_OFFLINE": "yes", "EXCHANGES": "sim, binance",
                           "HTTP_BACKOFF": "0.25"})
    assert s.http_retries == 5 and s.binance_offline is True and s.exchanges == ("sim", "binance")
    assert s.http_backoff == 0.25
