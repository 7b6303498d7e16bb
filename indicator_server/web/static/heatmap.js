// The liquidation heatmap drawn behind the candles: a series primitive whose pane view has zOrder "bottom"
// (lightweight-charts 5 plugin API: ISeriesPrimitive.paneViews() -> IPrimitivePaneView.zOrder/renderer).
// Data: GET /api/v1/overlays/liquidations?include=heatmap&heatmap_format=sparse -> heatmap {time[], price[],
// bin_size, stride_bars, max_usd, data: [[time_index, price_index, usd], ...]} (Coinglass-style sparse cells).

// Viridis stops (matplotlib's perceptually uniform map), dark purple for little notional to yellow for the most.
const STOPS = [
  [0.0, [68, 1, 84]], [0.25, [59, 82, 139]], [0.5, [33, 145, 140]], [0.75, [94, 201, 98]], [1.0, [253, 231, 37]],
];
export const LEVELS = 48;
const MIN_SHOWN = 0.06;

export function colourAt(v) {
  const x = Math.min(1, Math.max(0, v));
  let i = 1;
  while (i < STOPS.length - 1 && STOPS[i][0] < x) i += 1;
  const [x0, c0] = STOPS[i - 1];
  const [x1, c1] = STOPS[i];
  const f = (x - x0) / (x1 - x0);
  const rgb = c0.map((c, k) => Math.round(c + (c1[k] - c) * f));
  const alpha = 0.1 + 0.62 * x; // faint cells stay faint so the candles read on top of them
  return `rgba(${rgb[0]},${rgb[1]},${rgb[2]},${alpha.toFixed(3)})`;
}

// The colour scale is on the square root of the share of the largest cell: the few huge bins would otherwise
// leave everything else black.
export function levelOf(usd, maxUsd) {
  if (!(maxUsd > 0) || !(usd > 0)) return -1;
  const v = Math.sqrt(usd / maxUsd);
  if (v < MIN_SHOWN) return -1;
  return Math.min(LEVELS - 1, Math.floor(v * LEVELS));
}

const PALETTE = Array.from({length: LEVELS}, (_, i) => colourAt((i + 0.5) / LEVELS));

export function drawScale(canvas) {
  const ctx = canvas.getContext("2d");
  for (let x = 0; x < canvas.width; x += 1) {
    ctx.fillStyle = colourAt(x / (canvas.width - 1));
    ctx.fillRect(x, 0, 1, canvas.height);
  }
}

class HeatmapRenderer {
  constructor(source) {
    this.source = source;
  }

  draw(target) {
    const {chart, series, grid} = this.source;
    if (!chart || !grid) return;
    const timeScale = chart.timeScale();
    const spacing = timeScale.logicalToCoordinate(1) - timeScale.logicalToCoordinate(0);
    if (!Number.isFinite(spacing) || spacing <= 0) return;
    const width = spacing * grid.stride;
    const yTop = grid.price.map((p) => series.priceToCoordinate(p + grid.binSize / 2));
    const yBottom = grid.price.map((p) => series.priceToCoordinate(p - grid.binSize / 2));
    const xs = grid.time.map((t) => timeScale.timeToCoordinate(t));
    target.useBitmapCoordinateSpace(({context: ctx, horizontalPixelRatio: hr, verticalPixelRatio: vr}) => {
      for (let level = 0; level < LEVELS; level += 1) {
        const cells = grid.byLevel[level];
        if (!cells.length) continue;
        ctx.fillStyle = PALETTE[level];
        for (let k = 0; k < cells.length; k += 2) {
          const x = xs[cells[k]];
          const pi = cells[k + 1];
          const top = yTop[pi];
          const bottom = yBottom[pi];
          if (x === null || top === null || bottom === null) continue;
          const left = Math.round((x - width + spacing / 2) * hr);
          const right = Math.round((x + spacing / 2) * hr);
          const y0 = Math.round(top * vr);
          const y1 = Math.round(bottom * vr);
          ctx.fillRect(left, y0, Math.max(1, right - left), Math.max(1, y1 - y0));
        }
      }
    });
  }
}

export class LiquidationHeatmap {
  constructor() {
    this.chart = null;
    this.series = null;
    this.grid = null;
    this.requestUpdate = null;
    const renderer = new HeatmapRenderer(this);
    this.view = {zOrder: () => "bottom", renderer: () => renderer};
  }

  attached({chart, series, requestUpdate}) {
    this.chart = chart;
    this.series = series;
    this.requestUpdate = requestUpdate;
  }

  detached() {
    this.chart = null;
  }

  updateAllViews() {}

  paneViews() {
    return [this.view];
  }

  // Cells are grouped by colour level so a redraw sets fillStyle LEVELS times, not once per cell. A row's time is
  // the last bar of its stride, so its cell reaches back `stride` bars.
  setData(heatmap) {
    if (!heatmap || !heatmap.data || !heatmap.data.length) {
      this.grid = null;
    } else {
      const byLevel = Array.from({length: LEVELS}, () => []);
      for (const [ti, pi, usd] of heatmap.data) {
        const level = levelOf(usd, heatmap.max_usd);
        if (level >= 0) byLevel[level].push(ti, pi);
      }
      this.grid = {
        time: heatmap.time.map((ms) => ms / 1000),
        price: heatmap.price,
        binSize: heatmap.bin_size,
        stride: heatmap.stride_bars || 1,
        maxUsd: heatmap.max_usd,
        byLevel,
      };
    }
    if (this.requestUpdate) this.requestUpdate();
  }
}
