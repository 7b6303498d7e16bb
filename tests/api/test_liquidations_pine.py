"""GET /api/v1/overlays/liquidations.pine through the app factory, and the .png/.pine bodies' ETags on the real
server (gunicorn, 2 workers): one ETag and identical bytes whichever worker answers."""

from __future__ import annotations

import re
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from benchmarks._server import running_server

URL = "/api/v1/overlays/liquidations.pine?symbol=BTCUSDT&timeframe=1h"
JSON_URL = "/api/v1/overlays/liquidations?symbol=BTCUSDT&timeframe=1h&include=clusters,levels&max_levels=40"


def error_of(response, status=400):
    assert response.status_code == status, response.get_data()[:300]
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    return body["error"]


def test_pine_text_with_cache_headers(client):
    r = client.get(URL)
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/plain; charset=utf-8"
    text = r.get_data(as_text=True)
    assert text.startswith("//@version=6\n") and "\nindicator(" in text
    assert r.headers["ETag"] and r.headers["X-Cache"] == "miss"
    again = client.get(URL)
    assert again.headers["X-Cache"] == "hit" and again.data == r.data
    assert client.get(URL, headers={"If-None-Match": r.headers["ETag"]}).status_code == 304


def test_header_names_the_data_the_model_and_the_next_close(client):
    meta = client.get(JSON_URL).get_json()["meta"]
    text = client.get(URL).get_data(as_text=True)
    header = text.split("\nindicator(")[0]
    last_close = meta["freshness"]["last_bar_close"]
    assert f"the bar closing 2026-06-01 12:00 UTC ({last_close} ms)" in header  # the frozen clock: 12:34:56
    assert f"Current until: 2026-06-01 13:00 UTC ({last_close + 3_600_000} ms)" in header
    assert f"exchange sim, symbol BTCUSDT, timeframe 1h, {meta['bars']} bars" in header
    assert f"Model:         {meta['model']['name']} {meta['model']['version']}" in header
    assert "Request:       bins 500, leverage all, lookback 7d, levels 40, clusters 20" in header


def _calls(text: str, name: str) -> list[list[float]]:
    """The leading numeric arguments of every ``name(`` call (x1, y1, x2, y2)."""
    out = []
    for match in re.finditer(re.escape(name) + r"\(([-0-9., ]+?),(?=\s*[a-z\"])", text):
        out.append([float(v) for v in match.group(1).split(",")])
    return out


def test_draws_the_prices_the_json_endpoint_answers(client):
    body = client.get(JSON_URL).get_json()
    text = client.get(URL).get_data(as_text=True)
    boxes = _calls(text, "box.new")
    clusters = body["clusters"][:20]
    assert [b[1] for b in boxes] == pytest.approx([c["price_high"] for c in clusters], abs=0.001)
    assert [b[3] for b in boxes] == pytest.approx([c["price_low"] for c in clusters], abs=0.001)
    lines = _calls(text, "line.new")
    pains = [body["max_pain"][side]["price"] for side in ("long", "short")]
    assert [ln[1] for ln in lines[:2]] == pytest.approx(pains, abs=0.001)
    assert [ln[0] for ln in lines[2:]] == [lv["opened_at"] for lv in body["levels"]]
    assert [ln[1] for ln in lines[2:]] == pytest.approx([lv["price"] for lv in body["levels"]], abs=0.001)
    assert len(lines) == len(body["levels"]) + 2


def test_counts_and_leverage_change_the_script(client):
    few = client.get(URL + "&levels=0&clusters=0").get_data(as_text=True)
    assert "box.new(" not in few and few.count("line.new(") == 2
    high = client.get(URL + "&leverage=high&model=default")  # the priors' tiers: calibrated ones depend on the market
    assert high.status_code == 200 and high.headers["ETag"] != client.get(URL + "&model=default").headers["ETag"]
    assert "leverage 50.0,100.0" in high.get_data(as_text=True)


@pytest.mark.parametrize(("query", "field"), [
    ("&levels=401", "levels"),
    ("&levels=-1", "levels"),
    ("&clusters=1000", "clusters"),
    ("&clusters=x", "clusters"),
    ("&lookback=30000", "lookback"),
    ("&leverage=none", "leverage"),
])
def test_bad_arguments_are_json_400(client, query, field):
    error = error_of(client.get(URL + query))
    assert error["code"] == "invalid_argument" and field in error["details"]["fields"]


def test_unknown_timeframe_and_symbol_are_json(client):
    assert error_of(client.get("/api/v1/overlays/liquidations.pine?timeframe=3h"))["code"] == "unsupported_timeframe"
    r = client.get("/api/v1/overlays/liquidations.pine?symbol=NOPE")
    assert error_of(r, r.status_code)["code"] == "unknown_symbol"


def _fetch(url: str) -> tuple[str, bytes, str]:
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.headers["ETag"], response.read(), response.headers["Content-Type"]


@pytest.mark.slow
def test_png_and_pine_etags_are_the_same_from_both_gunicorn_workers():
    end = "&end=2026-06-01T00:00:00Z"  # a fixed range: no bar may close between the fetches
    paths = [URL + end, "/api/v1/overlays/liquidations.png?symbol=BTCUSDT&timeframe=1h" + end,
             "/api/v1/overlays/liquidations.png?symbol=BTCUSDT&timeframe=1h&view=map&width=800&height=600" + end]
    with running_server(workers=2, env={"EXCHANGES": "sim"}) as (base, _proc):
        for path in paths:
            with ThreadPoolExecutor(max_workers=4) as pool:  # concurrent: both workers answer
                answers = list(pool.map(_fetch, [base + path] * 16))
            assert len({etag for etag, _, _ in answers}) == 1, path
            assert len({body for _, body, _ in answers}) == 1, path
            assert {ctype for _, _, ctype in answers} <= {"image/png", "text/plain; charset=utf-8"}
