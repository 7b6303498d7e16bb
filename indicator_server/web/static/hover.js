// What the crosshair shows: the bar, the nearest estimated liquidation levels to the cursor's price, the overlay
// values of that bar and the webhook signals logged on it (with the market context stored at receipt).

const escapeHtml = (text) =>
  String(text).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"})[c]);

export function usd(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  const a = Math.abs(value);
  const sign = value < 0 ? "-" : "";
  if (a >= 1e9) return `${sign}$${(a / 1e9).toFixed(2)}B`;
  if (a >= 1e6) return `${sign}$${(a / 1e6).toFixed(2)}M`;
  if (a >= 1e3) return `${sign}$${(a / 1e3).toFixed(1)}K`;
  return `${sign}$${a.toFixed(0)}`;
}

// Decimals to show a price with: 1 from 1,000, 2 from 10, 4 from 1, and below 1 enough for four significant
// digits (0.01724, 0.0001200), so a low-priced symbol's axis and tooltip do not read 0.02 everywhere.
export function pricePrecision(value) {
  const a = Math.abs(value);
  if (!Number.isFinite(a) || a === 0) return 2;
  if (a >= 1) return a >= 1000 ? 1 : a >= 10 ? 2 : 4;
  return Math.min(10, 3 - Math.floor(Math.log10(a)));
}

export function price(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  const digits = pricePrecision(value);
  return value.toLocaleString("en-US", {minimumFractionDigits: digits, maximumFractionDigits: digits});
}

const num = (value, digits = 2) => (value === null || value === undefined ? "–" : Number(value).toFixed(digits));

export function utc(seconds) {
  return new Date(seconds * 1000).toISOString().slice(0, 16).replace("T", " ") + " UTC";
}

// The `count` levels whose price is closest to `target`; `levels` sorted by price (binary search, then widen).
export function nearestLevels(levels, target, count = 3) {
  if (!levels.length || !Number.isFinite(target)) return [];
  let lo = 0;
  let hi = levels.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (levels[mid].price < target) lo = mid + 1;
    else hi = mid;
  }
  let left = lo - 1;
  let right = lo;
  const out = [];
  while (out.length < count && (left >= 0 || right < levels.length)) {
    const takeLeft = right >= levels.length
      || (left >= 0 && target - levels[left].price <= levels[right].price - target);
    out.push(takeLeft ? levels[left--] : levels[right++]);
  }
  return out;
}

function row(label, value, cls = "") {
  return `<div class="row ${cls}"><span>${escapeHtml(label)}</span><b>${escapeHtml(value)}</b></div>`;
}

export function hoverHtml({time, bar, cursorPrice, levels, oi, conf, signals}) {
  const parts = [`<div class="tt-time">${utc(time)}</div>`];
  if (bar) {
    parts.push(row("O H L C", `${price(bar.open)} ${price(bar.high)} ${price(bar.low)} ${price(bar.close)}`));
  }
  if (levels.length) {
    parts.push(`<div class="tt-head">nearest liquidation levels to ${price(cursorPrice)}</div>`);
    for (const level of levels) {
      parts.push(row(`${level.side} ${num(level.leverage, 0)}x @ ${price(level.price)}`, usd(level.notional_usd),
        level.side));
    }
  }
  if (oi) parts.push(row(`OI Δ (${oi.quadrant ? oi.quadrant.replace("_", " ") : "–"})`, usd(oi.delta_usd)));
  if (conf) {
    parts.push(row("RSI · score", `${num(conf.rsi, 1)} · ${num(conf.score, 1)} (${conf.regime || "–"})`));
    if (conf.funding_rate !== null && conf.funding_rate !== undefined) {
      parts.push(row("funding", `${(conf.funding_rate * 100).toFixed(4)}% · ${(conf.funding_annualized * 100).toFixed(1)}%/yr`));
    }
  }
  for (const signal of signals) {
    const c = signal.context || {};
    parts.push(`<div class="tt-head signal">signal #${signal.id}: ${escapeHtml(signal.action || "?")}`
      + `${signal.price ? " @ " + price(signal.price) : ""}</div>`);
    parts.push(row("received", utc(signal.received_at / 1000)));
    if (signal.context_status !== "filled") parts.push(row("context", signal.context_status));
    if (c.score !== undefined) parts.push(row("score · regime", `${num(c.score, 1)} · ${c.regime || "–"}`));
    if (c.rsi !== undefined) parts.push(row("RSI · quadrant", `${num(c.rsi, 1)} · ${c.quadrant || "–"}`));
    if (c.funding_rate !== undefined && c.funding_rate !== null) {
      parts.push(row("funding", `${(c.funding_rate * 100).toFixed(4)}%`));
    }
    for (const reason of (c.reasons || []).slice(0, 3)) parts.push(`<div class="reason">${escapeHtml(reason)}</div>`);
  }
  return parts.join("");
}
