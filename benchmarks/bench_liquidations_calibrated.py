"""Latency of GET /api/v1/overlays/liquidations with the calibrated model, in process (Flask test client, the sim).

    .venv/bin/python benchmarks/bench_liquidations_calibrated.py [--lookback 1y] [--timeframe 1h] [--repeat 7]
                                                                 [--symbol BTCUSDT] [--prints]

Per round, on a fresh app (in-memory cache, the sim exchange, no network):
- ``cold default``: model=default, nothing cached (sim generation, model, serialisation);
- ``first calibrated``: model=calibrated after that (the bars are warm: the calibration fit is included);
- ``calibrated, calibration cached``: the overlay bodies dropped from the cache, the calibration kept (what a
  request costs when a bar has closed for another body but the fit is done: the issue's target, well under 150 ms
  for a year of 1h bars);
- ``body cached``: the same request again (the serialised body from the cache).
``--prints``: the sim publishes liquidation prints (tests.market.test_liquidation_prints.PrintsSim: its true
per-bar liquidations as prints), so the calibration fits to them rather than to open interest alone.
The table shows the best and the median of ``--repeat`` rounds (these machines' CPU speed swings within minutes).
A second table splits a calibration-cached build: the bars and the model (``estimate_for_request``, calibration
looked up) and the JSON body (``result_payload``: shaping and rounding every float).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from indicator_server import create_app  # noqa: E402
from indicator_server.config import Settings  # noqa: E402

STAGES = ("cold default", "first calibrated", "calibrated, calibration cached", "body cached")
PARTS = ("  bars + model", "  body (result_payload)")


def _split(app, url: str) -> dict[str, float]:
    """The two halves of a calibration-cached build, called directly (no HTTP, no overlay cache)."""
    from urllib.parse import parse_qsl, urlsplit

    from indicator_server.api.liquidation_model import model_query
    from indicator_server.api.liquidations import LiquidationsQuerySchema, estimate_for_request
    from indicator_server.overlays.liquidations.payload import result_payload

    with app.test_request_context(url):
        args = LiquidationsQuerySchema().load(dict(parse_qsl(urlsplit(url).query)))
        params = {**{k: args[k] for k in ("bins", "leverage", "include", "heatmap_format", "heatmap_rows",
                                          "max_levels", "lookback")}, **model_query(args)}
        market = app.extensions["indicator"].market
        start = time.perf_counter()
        _, result = estimate_for_request(market, args, params)
        middle = time.perf_counter()
        result_payload(result, params["include"], max_levels=params["max_levels"])
        end = time.perf_counter()
    return {PARTS[0]: middle - start, PARTS[1]: end - middle}


def _timed(client, url: str) -> tuple[float, dict]:
    start = time.perf_counter()
    response = client.get(url)
    seconds = time.perf_counter() - start
    assert response.status_code == 200, response.get_json()
    return seconds, response.get_json()


def _drop_bodies(cache) -> None:
    """Forget every cached overlay body, keep the calibrations (the in-memory cache of this benchmark)."""
    with cache._lock:
        for key in [k for k in cache._data if not k.startswith("calibration|")]:
            del cache._data[key]


def one_round(url: str, directory: str, index: int, prints: bool = False) -> tuple[dict[str, float], dict]:
    settings = Settings(database_url=f"sqlite:///{directory}/bench-{index}.db", context_workers=False,
                        cache_url="memory://")
    from indicator_server.market.sim import source as sim_source

    sim_source.clear_caches()
    sources = None
    if prints:
        from tests.market.test_liquidation_prints import PrintsSim

        sources = {"sim": PrintsSim()}
    app = create_app(settings, sources=sources)
    client = app.test_client()
    cache = app.extensions["indicator"].cache
    try:
        out: dict[str, float] = {}
        out["cold default"], _ = _timed(client, url + "&model=default")
        out["first calibrated"], body = _timed(client, url)
        _drop_bodies(cache)
        out["calibrated, calibration cached"], _ = _timed(client, url)
        out["body cached"], _ = _timed(client, url)
        out.update(_split(app, url))
        return out, body["meta"]
    finally:
        app.extensions["indicator"].db.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lookback", default="1y")
    parser.add_argument("--timeframe", default="1h")
    parser.add_argument("--symbol", default="BTCUSDT")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--prints", action="store_true", help="the sim publishes liquidation prints")
    args = parser.parse_args(argv)
    url = (f"/api/v1/overlays/liquidations?exchange=sim&symbol={args.symbol}&timeframe={args.timeframe}"
           f"&lookback={args.lookback}")
    runs: dict[str, list[float]] = {stage: [] for stage in STAGES + PARTS}
    meta: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-liq-cal-") as directory:
        for index in range(args.repeat):
            times, meta = one_round(url, directory, index, args.prints)
            for stage in STAGES + PARTS:
                runs[stage].append(times[stage])
    calibration = meta["model"]["calibration"] or {}
    print(f"GET {url}")
    print(f"{meta['bars']} bars; calibration: {calibration.get('method')} on {calibration.get('data', {}).get('bars')} "
          f"bars ({calibration.get('data', {}).get('observations')}), fitted {sorted(calibration.get('fitted', {}))}")
    print(f"{'stage':<34}{'best ms':>10}{'median ms':>12}")
    for stage in STAGES + PARTS:
        values = runs[stage]
        print(f"{stage:<34}{min(values) * 1000:>10.1f}{statistics.median(values) * 1000:>12.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
