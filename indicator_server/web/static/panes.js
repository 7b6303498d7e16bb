// The chart, created once: price pane (candles over the liquidation heatmap, cluster and max-pain price lines,
// signal markers), OI-delta pane, RSI + confluence-score pane and funding pane (lightweight-charts 5 panes).
import {
  CandlestickSeries, ColorType, createChart, createSeriesMarkers, CrosshairMode, HistogramSeries, LineSeries,
  LineStyle,
} from "lightweight-charts";

import {LiquidationHeatmap} from "./heatmap.js";

export const COLOURS = {
  up: "#26a69a", down: "#ef5350", text: "#c9d1d9", grid: "#1c2230", background: "#0d1117",
  longCluster: "#4fc3f7", shortCluster: "#ff8a65", maxPain: "#f48fb1", rsi: "#b39ddb", funding: "#ffd54f",
  quadrant: {longs_opening: "#26a69a", shorts_opening: "#ef5350", short_covering: "#80cbc4", long_closing: "#ffab91"},
};
const STRETCH = [0.58, 0.14, 0.16, 0.12];
const swatch = (colour, label) => `<i style="background:${colour}"></i>${label}`;
// Static HTML (no data in it): the title of each pane below the price pane.
export const PANE_TITLES = [
  "",
  "OI Δ per bar (USD), by price/OI quadrant: " + [
    swatch(COLOURS.quadrant.longs_opening, "longs opening"), swatch(COLOURS.quadrant.shorts_opening, "shorts opening"),
    swatch(COLOURS.quadrant.short_covering, "short covering"), swatch(COLOURS.quadrant.long_closing, "long closing"),
  ].join(" "),
  `<span style="color:${COLOURS.rsi}">RSI 14</span> (right scale, 30/70 dotted) · confluence score −100..100 `
    + "(bars: green squeeze risk, red cascade risk)",
  `<span style="color:${COLOURS.funding}">Funding</span>, annualised % (rate × periods a year)`,
];

const sec = (ms) => ms / 1000;

export function createPanes(container) {
  const chart = createChart(container, {
    autoSize: true,
    layout: {background: {type: ColorType.Solid, color: COLOURS.background}, textColor: COLOURS.text,
      fontSize: 11, panes: {separatorColor: "#30363d", separatorHoverColor: "#484f58"}},
    grid: {vertLines: {color: COLOURS.grid}, horzLines: {color: COLOURS.grid}},
    crosshair: {mode: CrosshairMode.Normal},
    timeScale: {timeVisible: true, secondsVisible: false, borderColor: "#30363d", rightOffset: 4},
    rightPriceScale: {borderColor: "#30363d"},
  });
  const candles = chart.addSeries(CandlestickSeries, {
    upColor: COLOURS.up, downColor: COLOURS.down, borderVisible: false,
    wickUpColor: COLOURS.up, wickDownColor: COLOURS.down,
  }, 0);
  const heatmap = new LiquidationHeatmap();
  candles.attachPrimitive(heatmap);
  const markers = createSeriesMarkers(candles, []);
  const oi = chart.addSeries(HistogramSeries, {title: "OI Δ", priceFormat: {type: "volume"}}, 1);
  // The score has its own overlay scale (no axis: RSI owns the right one); the tooltip gives its value.
  const score = chart.addSeries(HistogramSeries, {title: "score", priceScaleId: "score", base: 0,
    lastValueVisible: false}, 2);
  const rsi = chart.addSeries(LineSeries, {title: "RSI", color: COLOURS.rsi, lineWidth: 2}, 2);
  const funding = chart.addSeries(LineSeries, {title: "funding %/yr", color: COLOURS.funding, lineWidth: 2}, 3);
  score.priceScale().applyOptions({scaleMargins: {top: 0.1, bottom: 0.1}});
  for (const [value, title] of [[70, "70"], [30, "30"]]) {
    rsi.createPriceLine({price: value, color: "#6e7681", lineStyle: LineStyle.Dotted, lineWidth: 1,
      axisLabelVisible: false, title});
  }
  funding.createPriceLine({price: 0, color: "#6e7681", lineStyle: LineStyle.Dotted, lineWidth: 1,
    axisLabelVisible: false});
  chart.panes().forEach((pane, i) => pane.setStretchFactor(STRETCH[i]));
  return {chart, candles, heatmap, markers, oi, score, rsi, funding, priceLines: []};
}

export function candleData(series) {
  return series.filter((b) => b.open !== null && b.close !== null)
    .map((b) => ({time: sec(b.time), open: b.open, high: b.high, low: b.low, close: b.close}));
}

export function oiData(series) {
  return series.filter((r) => r.delta_usd !== null && r.delta_usd !== undefined)
    .map((r) => ({time: sec(r.time), value: r.delta_usd, color: COLOURS.quadrant[r.quadrant] || "#8b949e"}));
}

export function confluenceData(series) {
  const rsi = [];
  const score = [];
  const funding = [];
  for (const r of series) {
    const time = sec(r.time);
    if (r.rsi !== null && r.rsi !== undefined) rsi.push({time, value: r.rsi});
    if (r.score !== null && r.score !== undefined) {
      score.push({time, value: r.score, color: r.score >= 0 ? "rgba(38,166,154,0.55)" : "rgba(239,83,80,0.55)"});
    }
    if (r.funding_annualized !== null && r.funding_annualized !== undefined) {
      funding.push({time, value: r.funding_annualized * 100});
    }
  }
  return {rsi, score, funding};
}

// Clusters and max pain as price lines on the candles, replaced on each new answer.
export function setLiquidationLines(view, liq) {
  for (const line of view.priceLines) view.candles.removePriceLine(line);
  view.priceLines = [];
  const add = (options) => view.priceLines.push(view.candles.createPriceLine({lineWidth: 1, ...options}));
  const clusters = (liq && liq.clusters) || [];
  for (const side of ["long", "short"]) {
    for (const c of clusters.filter((k) => k.side === side).slice(0, 3)) {
      add({price: c.price_peak, color: side === "long" ? COLOURS.longCluster : COLOURS.shortCluster,
        lineStyle: LineStyle.Dashed, axisLabelVisible: true,
        title: `${side} $${(c.notional_usd / 1e6).toFixed(1)}M`});
    }
  }
  const pain = (liq && liq.max_pain) || {};
  for (const side of ["long", "short"]) {
    if (pain[side] && Number.isFinite(pain[side].price)) {
      add({price: pain[side].price, color: COLOURS.maxPain, lineStyle: LineStyle.Solid, lineWidth: 2,
        axisLabelVisible: true, title: `pain ${side === "long" ? "L" : "S"}`});
    }
  }
}

const BUY = /^(buy|long)/i;
const SELL = /^(sell|short)/i;

// A signal sits on the bar it fired in ({{time}} when the alert gave one, else its receipt), clamped to the bars
// drawn: an alert in the still-open bar shows on the last closed one.
export function signalMarkers(signals, times, stepMs) {
  const byTime = new Map();
  if (!times.length) return {markers: [], byTime};
  const first = times[0];
  const last = times[times.length - 1];
  const markers = [];
  for (const s of signals) {
    const ms = s.bar_time ?? s.received_at;
    let time = sec(Math.floor(ms / stepMs) * stepMs);
    if (time < first) continue;
    time = Math.min(time, last);
    const action = s.action || "signal";
    const buy = BUY.test(action);
    const sell = SELL.test(action);
    markers.push({time, position: buy ? "belowBar" : sell ? "aboveBar" : "inBar",
      shape: buy ? "arrowUp" : sell ? "arrowDown" : "circle",
      color: buy ? "#3fb950" : sell ? "#f85149" : "#d2a8ff", text: action, id: String(s.id)});
    if (!byTime.has(time)) byTime.set(time, []);
    byTime.get(time).push(s);
  }
  markers.sort((a, b) => a.time - b.time);
  return {markers, byTime};
}
