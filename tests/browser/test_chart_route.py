"""The chart page's routes through the Flask test client (no browser): HTML, assets, OpenAPI, missing npm."""

from __future__ import annotations

import json
import re

from indicator_server.api import chart


def page_config(html: str) -> dict:
    match = re.search(r'<script id="chart-config" type="application/json">(.*?)</script>', html, re.S)
    assert match, "the page carries its configuration"
    return json.loads(match.group(1))


def test_root_and_chart_serve_the_page_with_the_configured_exchanges(client):
    for url in ("/", "/chart?exchange=sim&symbol=ETHUSDT&timeframe=4h&lookback=30d&leverage=high"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.mimetype == "text/html"
        config = page_config(response.get_data(as_text=True))
        assert config["exchanges"] == ["sim", "binance"]
        assert config["defaultExchange"] == "sim"
        assert "1h" in config["timeframes"] and "1d" in config["timeframes"]


def test_query_arguments_are_never_written_into_the_html(client):
    html = client.get('/chart?symbol=</script><script>alert(1)</script>').get_data(as_text=True)
    assert "alert(1)" not in html


def test_page_modules_and_the_library_are_served_locally(client):
    html = client.get("/chart").get_data(as_text=True)
    assert '"lightweight-charts": "/chart/vendor/lightweight-charts.mjs"' in html
    assert "https://" not in html and "http://" not in html  # no CDN
    library = client.get("/chart/vendor/lightweight-charts.mjs")
    assert library.status_code == 200 and library.mimetype == "text/javascript"
    assert b"Lightweight Charts" in library.data[:400] and b"5.2.1" in library.data[:400]
    library.close()
    for name in ("chart.js", "api.js", "controls.js", "heatmap.js", "hover.js", "panes.js", "chart.css"):
        asset = client.get(f"/chart/static/{name}")
        assert asset.status_code == 200, name
        asset.close()


def test_pages_are_not_in_the_openapi_document(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    assert "/" not in paths and "/chart" not in paths
    assert not [p for p in paths if p.startswith("/chart/")]


def test_missing_node_modules_answers_503_saying_to_run_make_install(client, monkeypatch, tmp_path):
    monkeypatch.setattr(chart, "VENDOR_DIR", tmp_path / "node_modules" / "lightweight-charts" / "dist")
    for url in ("/chart", "/", "/chart/vendor/lightweight-charts.mjs"):
        response = client.get(url)
        assert response.status_code == 503
        error = response.get_json()["error"]
        assert error["code"] == "chart_assets_missing"
        assert "make install" in error["message"]


def test_without_chromium_the_browser_tests_skip_outside_ci_and_fail_in_ci(monkeypatch):
    import pytest

    from tests.browser import conftest as browser_conftest

    monkeypatch.setattr(browser_conftest, "CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setattr(browser_conftest, "IN_CI", False)
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        browser_conftest.require_chromium()
    monkeypatch.setattr(browser_conftest, "IN_CI", True)
    with pytest.raises(pytest.fail.Exception, match="CI must run the browser tests"):
        browser_conftest.require_chromium()
