"""How long a liquidation picture takes: the renderer alone, and through HTTP on the real server.

Render only: the sim's BTCUSDT 1h bars (1,000 bars, so the heatmap has 500 time rows), 500 price bins, drawn as
the heatmap with candles and as the map, 1200x675 and 1920x1080, after warm-up; and, for comparison, the smallest
matplotlib figure that could stand in for it (one imshow, a title, a colour bar) saved as PNG.
HTTP: GET /api/v1/overlays/liquidations.png on gunicorn with 2 sync workers (127.0.0.1), warm workers: cache
misses (each request a different bar range, so the model runs and the picture is drawn) and cached polls.

    python -m benchmarks.bench_png [--repeat 20] [--requests 20] [--no-http] [--no-matplotlib]
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time

from benchmarks._load import latencies, percentile
from benchmarks._server import running_server

HOUR_MS = 3_600_000
QUERY = "symbol=BTCUSDT&timeframe=1h&lookback=1000&bins=500&heatmap_rows=500"


def _estimate():
    from indicator_server import create_app
    from indicator_server.api.liquidations import LiquidationsQuerySchema, estimate_for_request, liquidations_meta
    from indicator_server.config import Settings
    from indicator_server.services import services

    tmp = tempfile.mkdtemp(prefix="bench-png-")
    app = create_app(Settings(database_url=f"sqlite:///{tmp}/b.db", context_workers=False, exchanges=("sim",)))
    with app.app_context():
        args = LiquidationsQuerySchema().load({"symbol": "BTCUSDT", "lookback": "1000"})
        params = {"bins": 500, "heatmap_rows": 500, "leverage": None, "lookback": "1000",
                  "include": ["heatmap", "map"]}
        bars, result = estimate_for_request(services().market, args, params)
        meta = liquidations_meta(bars, result, params)
    app.extensions["indicator"].db.dispose()
    return bars.requested, result, meta


def _time(fn, repeat: int) -> list[float]:
    for _ in range(3):
        fn()
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _row(name: str, ms: list[float], size: int | None = None) -> None:
    extra = f"  {size / 1024:7.1f} KiB" if size else ""
    print(f"{name:<40} p50 {statistics.median(ms):7.1f} ms  p90 {percentile(ms, 90):7.1f} ms  "
          f"min {min(ms):7.1f} ms{extra}")


def _matplotlib_baseline(result, width: int, height: int) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width / 100, height / 100), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.02, 0.08, 0.82, 0.82))
    image = ax.imshow(result.heatmap["values"].T, origin="lower", aspect="auto", interpolation="nearest")
    fig.colorbar(image, cax=fig.add_axes((0.92, 0.08, 0.015, 0.82)))
    fig.suptitle("BTCUSDT 1h liquidation heatmap")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def render_only(repeat: int, matplotlib: bool) -> None:
    from indicator_server.render import render_heatmap_png, render_map_png

    bars, result, meta = _estimate()
    rows, bins = result.heatmap["values"].shape
    print(f"render only: {len(bars)} bars, heatmap {rows} rows x {bins} bins, {repeat} runs after 3 warm-ups")
    for width, height in ((1200, 675), (1920, 1080)):
        for name, render in (("heatmap", render_heatmap_png), ("map", render_map_png)):
            ms = _time(lambda r=render, w=width, h=height: r(bars, result, meta, width=w, height=h), repeat)
            _row(f"  {name} {width}x{height}", ms, len(render(bars, result, meta, width=width, height=height)))
    if matplotlib:
        ms = _time(lambda: _matplotlib_baseline(result, 1200, 675), max(5, repeat // 2))
        _row("  matplotlib imshow+title+colorbar 1200x675", ms)


def over_http(requests: int) -> None:
    with running_server(workers=2, env={"EXCHANGES": "sim"}) as (base, _proc):
        now = int(time.time() * 1000)
        last_closed = now - now % HOUR_MS - HOUR_MS
        print(f"HTTP: {base}, gunicorn 2 sync workers, {QUERY}")
        for view in ("heatmap", "map"):
            path = f"/api/v1/overlays/liquidations.png?{QUERY}&view={view}"
            latencies(base, [f"{path}&end={last_closed - k * 24 * HOUR_MS}" for k in range(1, 5)])  # warm workers
            misses = latencies(base, [f"{path}&end={last_closed - (k + 10) * 24 * HOUR_MS}" for k in range(requests)])
            latencies(base, [path] * 4)
            cached = latencies(base, [path] * (requests * 5))
            _row(f"  {view} miss (model + picture)", misses)
            _row(f"  {view} cached", cached)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20, help="renders per case")
    parser.add_argument("--requests", type=int, default=20, help="cache-miss requests per view")
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--no-matplotlib", action="store_true")
    args = parser.parse_args()
    render_only(args.repeat, not args.no_matplotlib)
    if not args.no_http:
        over_http(args.requests)


if __name__ == "__main__":
    main()
