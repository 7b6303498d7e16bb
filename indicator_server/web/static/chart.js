// The chart page: loads candles and the three overlays for the view in the URL, then polls them with
// If-None-Match (the overlays answer 304 until a bar closes; Cache-Control max-age says when the next one does)
// and updates the series in place: the chart is created once and never re-created.
import {Conditional, getJson, query} from "./api.js";
import {lookbackBars, readState, setUpControls, timeframeMs} from "./controls.js";
import {drawScale} from "./heatmap.js";
import {hoverHtml, nearestLevels, pricePrecision, usd, utc} from "./hover.js";
import {
  candleData, confluenceData, createPanes, oiData, PANE_TITLES, setLiquidationLines, signalMarkers,
} from "./panes.js";

const config = JSON.parse(document.getElementById("chart-config").textContent);
const state = readState(config);
const $ = (id) => document.getElementById(id);
// Read by the browser tests and the load-time benchmark.
const probe = {chartsCreated: 0, loads: 0, polls: 0, notModified: 0, error: null, ready: false, drawn: {},
  warnings: [], lastClose: null, drawnAt: null};
window.chartState = probe;

const view = createPanes($("chart"));
probe.chartsCreated += 1;
Object.defineProperty(probe, "view", {value: view, enumerable: false});
const sources = {candles: new Conditional(), oi: new Conditional(), confluence: new Conditional(),
  liquidations: new Conditional()};
const hover = {levels: [], oi: new Map(), conf: new Map(), signals: new Map()};
let lastTimes = {};
let generation = 0;
let timer = null;

function urls(s) {
  const bars = lookbackBars(s.lookback, s.timeframe);
  const market = {exchange: s.exchange, symbol: s.symbol, timeframe: s.timeframe};
  return {
    candles: query("/api/v1/candles", {...market, limit: bars}),
    oi: query("/api/v1/overlays/oi-delta", {...market, limit: bars}),
    confluence: query("/api/v1/overlays/confluence", {...market, limit: bars}),
    liquidations: query("/api/v1/overlays/liquidations", {...market, lookback: bars, leverage: s.leverage,
      include: "heatmap,clusters,levels", heatmap_format: "sparse", bins: 120}),
    signals: query("/api/v1/signals", {exchange: s.exchange, symbol: s.symbol, limit: 1000}),
  };
}

// New bars are appended with update(); anything else (another symbol, a gap) replaces the data.
function put(series, key, items, fresh) {
  const prev = lastTimes[key];
  const from = prev === undefined ? -1 : items.findIndex((i) => i.time >= prev);
  if (fresh || from < 0 || items[0].time > prev) series.setData(items);
  else for (const item of items.slice(from)) series.update(item);
  lastTimes[key] = items.length ? items[items.length - 1].time : undefined;
  probe.drawn[key] = series.data().length;
}

function clearAll() {
  for (const key of ["candles", "oi", "score", "rsi", "funding"]) view[key].setData([]);
  view.heatmap.setData(null);
  setLiquidationLines(view, null);
  view.markers.setMarkers([]);
  lastTimes = {};
  probe.drawn = {};
  $("legend").hidden = true;
}

const TITLES = {400: "Invalid request", 404: "Not found", 502: "Bad answer from the exchange",
  503: "Market data unavailable", 504: "The exchange timed out"};

function showProblem(problem) {
  const status = problem.status || 0;
  const retry = problem.details && problem.details.retry_after;
  $("message").querySelector(".message-title").textContent = status
    ? `${TITLES[status] || "Error"} (${problem.code}, HTTP ${status})` : "The server is unreachable";
  $("message").querySelector(".message-body").textContent = problem.message
    + (status >= 502 ? ` — retrying ${retry ? `in ${retry} s` : "shortly"}.` : "");
  $("message").hidden = false;
  probe.error = {status, code: problem.code || "network", message: problem.message};
}

function applyCandles(result, fresh) {
  if (!result.changed && !fresh) return;
  put(view.candles, "candles", candleData(result.data.series), fresh);
  const last = result.data.series[result.data.series.length - 1];
  probe.lastClose = last ? last.close : null;
  if (fresh && last) {  // the symbol's own price scale: 65,000.0 for BTC, 0.01724 for a coin below one dollar
    const precision = pricePrecision(last.close);
    view.candles.applyOptions({priceFormat: {type: "price", precision, minMove: 10 ** -precision}});
    probe.pricePrecision = precision;
  }
  if (fresh) view.chart.timeScale().fitContent();
}

function applyOverlay(name, settled, fresh) {
  if (settled.status === "rejected") {
    probe.warnings.push(`${name}: ${settled.reason.message}`);
    return;
  }
  const {changed, data} = settled.value;
  if (!changed && !fresh) {
    probe.notModified += 1;
    return;
  }
  if (name === "oi-delta") {
    put(view.oi, "oi", oiData(data.series), fresh);
    hover.oi = new Map(data.series.map((r) => [r.time / 1000, r]));
  } else if (name === "confluence") {
    const c = confluenceData(data.series);
    for (const key of ["rsi", "score", "funding"]) put(view[key], key, c[key], fresh);
    hover.conf = new Map(data.series.map((r) => [r.time / 1000, r]));
  } else {
    view.heatmap.setData(data.heatmap);
    setLiquidationLines(view, data);
    hover.levels = (data.levels || []).slice().sort((a, b) => a.price - b.price);
    probe.drawn.heatmapCells = data.heatmap ? data.heatmap.data.length : 0;
    probe.drawn.priceLines = view.priceLines.length;
    showLegend(data.heatmap);
  }
  probe.warnings.push(...((data.meta && data.meta.warnings) || []).map((w) => `${name}: ${w}`));
}

function applySignals(settled) {
  if (settled.status === "rejected") {
    probe.warnings.push(`signals: ${settled.reason.message}`);
    return;
  }
  const times = view.candles.data().map((b) => b.time);
  const {markers, byTime} = signalMarkers(settled.value.data, times, timeframeMs(state.timeframe));
  view.markers.setMarkers(markers);
  hover.signals = byTime;
  probe.drawn.markers = markers.length;
}

function showLegend(heatmap) {
  $("legend").hidden = !heatmap;
  if (!heatmap) return;
  $("legend-mid").textContent = usd(heatmap.max_usd / 4);
  $("legend-max").textContent = `${usd(heatmap.max_usd)} per bin`;
}

function showStatus(candles, delay) {
  const meta = candles.meta;
  const fresh = meta.freshness || {};
  const parts = [`${meta.exchange} ${meta.symbol} ${meta.timeframe}`, `${meta.bars} bars`,
    `last close ${utc(fresh.last_bar_close / 1000)}`];
  if (fresh.stale) parts.push("STALE: exchange unreachable, last good data");
  parts.push(`next check in ${Math.round(delay)} s`);
  $("status").textContent = parts.join(" · ");
  $("status").title = probe.warnings.join("\n");
  $("status").classList.toggle("warn", Boolean(fresh.stale || probe.warnings.length));
}

async function refresh(fresh) {
  clearTimeout(timer);
  const gen = fresh ? ++generation : generation;
  const u = urls(state);
  const settled = await Promise.allSettled([sources.candles.get(u.candles), sources.oi.get(u.oi),
    sources.confluence.get(u.confluence), sources.liquidations.get(u.liquidations), getJson(u.signals)
      .then((body) => ({data: body.data}))]);
  if (gen !== generation) return; // a selector changed while this was in flight
  if (!fresh) probe.polls += 1;
  probe.warnings = [];
  const [candles, oi, confluence, liquidations, signals] = settled;
  if (candles.status === "rejected") {
    const problem = candles.reason;
    clearAll();
    showProblem(problem);
    // a bad request stays bad until a selector changes; an upstream failure or a lost server is retried
    const retrying = !(problem.status >= 400 && problem.status < 500);
    const delay = retrying ? schedule(problem.details?.retry_after || state.refresh) : null;
    $("status").textContent = `${state.exchange} ${state.symbol} ${state.timeframe}: no data`
      + (retrying ? ` · retrying in ${Math.round(delay)} s` : "");
    $("status").classList.add("warn");
    return;
  }
  $("message").hidden = true;
  probe.error = null;
  if (!candles.value.changed && !fresh) probe.notModified += 1;
  applyCandles(candles.value, fresh);
  applyOverlay("oi-delta", oi, fresh);
  applyOverlay("confluence", confluence, fresh);
  applyOverlay("liquidations", liquidations, fresh);
  applySignals(signals);
  const delay = schedule(candles.value.maxAge ?? state.refresh);
  showStatus(candles.value.data, delay);
  placePaneTitles();
  requestAnimationFrame(() => {
    probe.loads += 1;
    probe.ready = true;
    probe.drawnAt = performance.now();
  });
}

// Poll when the server says the next bar closes (max-age), at most `refresh` seconds apart.
function schedule(seconds) {
  const delay = Math.max(1, Math.min(Number(seconds) || state.refresh, state.refresh));
  timer = setTimeout(() => refresh(false).catch(reportCrash), delay * 1000 + 250);
  return delay;
}

function reportCrash(error) {
  showProblem({status: 0, code: "page_error", message: String(error)});
  console.error(error);
}

function paneTop(index) {
  let top = 0;
  view.chart.panes().slice(0, index).forEach((pane) => { top += pane.getHeight() + 1; });
  return top;
}

function placePaneTitles() {
  const holder = $("pane-labels");
  holder.replaceChildren(...PANE_TITLES.map((title, i) => {
    const label = document.createElement("div");
    label.className = `pane-label pane-${i}`;
    label.innerHTML = title;
    label.style.top = `${paneTop(i) + 4}px`;
    label.hidden = !title;
    return label;
  }));
}

view.chart.subscribeCrosshairMove((param) => {
  const tooltip = $("tooltip");
  if (!param.point || param.time === undefined) {
    tooltip.hidden = true;
    return;
  }
  const pane = param.paneIndex ?? 0;
  const cursorPrice = pane === 0 ? view.candles.coordinateToPrice(param.point.y) : null;
  tooltip.innerHTML = hoverHtml({time: param.time, bar: param.seriesData.get(view.candles), cursorPrice,
    levels: cursorPrice === null ? [] : nearestLevels(hover.levels, cursorPrice, 3),
    oi: hover.oi.get(param.time), conf: hover.conf.get(param.time), signals: hover.signals.get(param.time) || []});
  tooltip.hidden = false;
  const box = $("chart").getBoundingClientRect();
  const x = param.point.x;
  const y = param.point.y + paneTop(pane);
  const left = x + 18 + tooltip.offsetWidth > box.width - 70 ? x - tooltip.offsetWidth - 18 : x + 18;
  tooltip.style.left = `${Math.max(4, left)}px`;
  tooltip.style.top = `${Math.max(4, Math.min(y + 12, box.height - tooltip.offsetHeight - 4))}px`;
});

drawScale($("legend-scale"));
new ResizeObserver(() => placePaneTitles()).observe($("chart"));
setUpControls($("controls"), config, state, () => {
  clearAll();
  refresh(true).catch(reportCrash);
});
refresh(true).catch(reportCrash);
