"""Load time of the chart page on the real server (gunicorn, 2 sync workers, sim data) in headless Chromium.

For the default 500 bars and for 5,000 bars (``lookback``), prints first paint, first contentful paint, when the
last API answer arrived and when the chart had drawn every series (candles, heatmap, OI delta, RSI/score, funding,
markers: the page's ``window.chartState.drawnAt``), all from navigation start, over ``--repeats`` page loads in
fresh browser contexts (empty browser cache), median and range. The first load of each size is printed alone: it
computes the overlays on the server (a cache miss); two unmeasured loads then warm both workers' caches, so the
repeats are served from the server's per-bar cache.

    python -m benchmarks.chart_page [--repeats 5] [--screenshot docs/chart-page.png]

``--screenshot PATH`` saves a 1600x1000 picture of the default view with a few logged webhook signals and the
hover tooltip, for the README.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import urllib.request

from benchmarks._server import running_server

CHROMIUM = "/usr/bin/chromium"
SECRET = "chart-page-benchmark"
READY = "window.chartState && (window.chartState.ready || window.chartState.error !== null)"
TIMINGS = """() => {
    const paint = Object.fromEntries(performance.getEntriesByType('paint').map(e => [e.name, e.startTime]));
    const api = performance.getEntriesByType('resource').filter(e => e.name.includes('/api/v1/'));
    return {fp: paint['first-paint'], fcp: paint['first-contentful-paint'], drawn: window.chartState.drawnAt,
            api: Math.max(...api.map(e => e.responseEnd)),
            error: window.chartState.error, bars: window.chartState.drawn.candles};
}"""


def load_once(browser, url: str) -> dict:
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    try:
        page.goto(url)
        page.wait_for_function(READY, timeout=120_000)
        timings = page.evaluate(TIMINGS)
    finally:
        context.close()
    if timings["error"]:
        raise RuntimeError(f"the page showed an error: {timings['error']}")
    return timings


def post_signal(base: str, action: str, bar_ms: int, price: float) -> None:
    body = {"secret": SECRET, "ticker": "BTCUSDT", "exchange": "sim", "interval": "1h", "action": action,
            "price": f"{price:.1f}", "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(bar_ms / 1000))}
    request = urllib.request.Request(f"{base}/webhook/tradingview", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    urllib.request.urlopen(request, timeout=10).close()


def screenshot(browser, base: str, path: str) -> None:
    with urllib.request.urlopen(f"{base}/api/v1/candles?symbol=BTCUSDT&timeframe=1h&limit=500", timeout=60) as r:
        bars = json.loads(r.read())["series"]
    for back, action in ((420, "buy"), (300, "sell"), (180, "buy"), (75, "sell"), (30, "buy")):
        post_signal(base, action, bars[-1 - back]["time"], bars[-1 - back]["close"])
    time.sleep(1.5)  # the context worker fills the signals' market context
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    page.goto(f"{base}/chart?exchange=sim&symbol=BTCUSDT&timeframe=1h&lookback=500")
    page.wait_for_function("window.chartState.ready && window.chartState.drawn.markers >= 5", timeout=60_000)
    point = page.evaluate("""() => {
        const v = window.chartState.view;
        const r = document.getElementById('chart').getBoundingClientRect();
        const bars = v.candles.data();
        const bar = bars[bars.length - 181];
        return {x: r.x + v.chart.timeScale().timeToCoordinate(bar.time),
                y: r.y + v.candles.priceToCoordinate(bar.low) + 14};
    }""")
    page.mouse.move(point["x"], point["y"])
    page.wait_for_timeout(400)
    page.screenshot(path=path)
    context.close()
    print(f"screenshot saved to {path}")


def fmt(values: list[float]) -> str:
    return f"{statistics.median(values):7.0f} ms ({min(values):.0f}-{max(values):.0f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="warm page loads per size")
    parser.add_argument("--screenshot", metavar="PATH", help="save a picture of the page here")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    with running_server(workers=2, env={"WEBHOOK_SECRET": SECRET}) as (base, _proc), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM)
        print(f"server {base} (gunicorn, 2 workers, exchange=sim), Chromium {browser.version}, viewport 1600x1000")
        for bars in (500, 5000):
            url = f"{base}/chart?exchange=sim&symbol=BTCUSDT&timeframe=1h&lookback={bars}"
            first = load_once(browser, url)
            for _ in range(2):  # each worker has its own cache: warm both before measuring
                load_once(browser, url)
            runs = [load_once(browser, url) for _ in range(args.repeats)]
            print(f"\n{bars} bars ({first['bars']} drawn)")
            print(f"  first load (server computes): first paint {first['fp']:.0f} ms, "
                  f"first contentful paint {first['fcp']:.0f} ms, last API answer {first['api']:.0f} ms, "
                  f"all series drawn {first['drawn']:.0f} ms")
            print(f"  {args.repeats} loads, median (range):")
            print(f"    first paint              {fmt([r['fp'] for r in runs])}")
            print(f"    first contentful paint   {fmt([r['fcp'] for r in runs])}")
            print(f"    last API answer received {fmt([r['api'] for r in runs])}")
            print(f"    all series drawn         {fmt([r['drawn'] for r in runs])}")
        if args.screenshot:
            screenshot(browser, base, args.screenshot)
        browser.close()


if __name__ == "__main__":
    main()
