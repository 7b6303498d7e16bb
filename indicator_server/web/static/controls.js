// The view's state lives in the URL (?exchange=&symbol=&timeframe=&lookback=&leverage=&refresh=) so a view can be
// shared; selectors write it back with history.replaceState.

const UNIT_MS = {m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000, y: 365 * 86_400_000};
export const MAX_BARS = 5000; // the overlays' `limit` cap (README: "at most 5,000")
const MIN_BARS = 20;
const LOOKBACKS = ["200", "500", "1000", "2000", "5000", "7d", "30d", "90d"];
const LEVERAGE_NAMES = {"": "all tiers", low: "low (≤10x)", medium: "medium (10x–50x)", high: "high (≥50x)"};

export function timeframeMs(timeframe) {
  const match = /^(\d+)([mhdw])$/.exec(timeframe);
  return match ? Number(match[1]) * UNIT_MS[match[2]] : 3_600_000;
}

// "500" -> 500 bars; "7d" -> 7 days of bars of `timeframe` (the liquidations endpoint's own lookback syntax),
// kept within what the overlays serve.
export function lookbackBars(lookback, timeframe) {
  const text = String(lookback || "").trim().toLowerCase();
  let bars = 500;
  if (/^\d+$/.test(text)) {
    bars = Number(text);
  } else {
    const match = /^(\d+)([mhdwy])$/.exec(text);
    if (match) bars = Math.floor((Number(match[1]) * UNIT_MS[match[2]]) / timeframeMs(timeframe));
  }
  return Math.max(MIN_BARS, Math.min(MAX_BARS, bars));
}

export function readState(config, search = window.location.search) {
  const params = new URLSearchParams(search);
  const d = config.defaults;
  const refresh = Number(params.get("refresh"));
  return {
    exchange: params.get("exchange") || config.defaultExchange,
    symbol: (params.get("symbol") || d.symbol).trim().toUpperCase(),
    timeframe: params.get("timeframe") || d.timeframe,
    lookback: params.get("lookback") || d.lookback,
    leverage: params.get("leverage") ?? d.leverage,
    refresh: Number.isFinite(refresh) && refresh > 0 ? refresh : d.refresh,
  };
}

export function writeState(state, config) {
  const params = new URLSearchParams();
  params.set("exchange", state.exchange);
  params.set("symbol", state.symbol);
  params.set("timeframe", state.timeframe);
  params.set("lookback", state.lookback);
  if (state.leverage) params.set("leverage", state.leverage);
  if (state.refresh !== config.defaults.refresh) params.set("refresh", String(state.refresh));
  const path = window.location.pathname === "/" ? "/chart" : window.location.pathname;
  window.history.replaceState(null, "", `${path}?${params}`);
}

function fill(select, values, labels = {}) {
  select.replaceChildren(...values.map((value) => new Option(labels[value] ?? value, value)));
}

// Values from a shared URL that the lists lack (a custom lookback, a tier list such as "10,25") are added so the
// selector shows what is being drawn.
function ensureOption(select, value) {
  if (![...select.options].some((o) => o.value === value)) select.add(new Option(value, value));
  select.value = value;
}

export function setUpControls(form, config, state, onChange) {
  fill(form.elements.exchange, config.exchanges);
  fill(form.elements.timeframe, config.timeframes);
  fill(form.elements.lookback, LOOKBACKS, {"7d": "7 days", "30d": "30 days", "90d": "90 days"});
  fill(form.elements.leverage, config.leverage, LEVERAGE_NAMES);
  document.getElementById("symbols").replaceChildren(...config.symbols.map((s) => new Option(s, s)));
  ensureOption(form.elements.exchange, state.exchange);
  ensureOption(form.elements.timeframe, state.timeframe);
  ensureOption(form.elements.lookback, state.lookback);
  ensureOption(form.elements.leverage, state.leverage);
  form.elements.symbol.value = state.symbol;
  const changed = () => {
    const next = {
      ...state,
      exchange: form.elements.exchange.value,
      symbol: form.elements.symbol.value.trim().toUpperCase(),
      timeframe: form.elements.timeframe.value,
      lookback: form.elements.lookback.value,
      leverage: form.elements.leverage.value,
    };
    form.elements.symbol.value = next.symbol;
    Object.assign(state, next);
    writeState(state, config);
    onChange(state);
  };
  form.addEventListener("change", changed);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    changed();
  });
}
