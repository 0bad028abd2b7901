// A small SVG line plot without dependencies: panels of x/y series with axes, ticks and a legend, laid out in a
// grid in one standalone SVG document. Enough to see training curves in a browser or a README.

export interface Series {
  name: string;
  /** [x, y] points; non-finite y values break the line */
  points: [number, number][];
  /** CSS colour; a palette colour by default */
  color?: string;
}

export interface Panel {
  title: string;
  xLabel?: string;
  series: Series[];
  /** fixed y range, e.g. [0, 1] for accuracies; the data's range otherwise */
  yRange?: [number, number];
  /** plot y on a log10 scale (non-positive values are dropped) */
  logY?: boolean;
}

export interface PlotOptions {
  /** panels per row */
  columns?: number;
  panelWidth?: number;
  panelHeight?: number;
  /** the document's <title> (what screen readers say of it); default: the panels' titles */
  title?: string;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#17becf', '#7f7f7f'];
const MARGIN = { left: 56, right: 22, top: 28, bottom: 38 };

function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Round tick positions covering [lo, hi]: steps of 1, 2 or 5 times a power of ten, about `count` of them. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

function formatTick(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(0);
  return String(Number(v.toPrecision(4)));
}

function extent(values: number[]): [number, number] {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!Number.isFinite(lo)) return [0, 1];
  if (lo === hi) return [lo - (Math.abs(lo) || 1) * 0.05, hi + (Math.abs(hi) || 1) * 0.05];
  return [lo, hi];
}

/** One panel as an SVG group translated to (x0, y0). */
function renderPanel(p: Panel, x0: number, y0: number, w: number, h: number): string {
  const tf = (y: number) => (p.logY ? Math.log10(y) : y);
  const series = p.series.map((s, i) => ({
    ...s,
    color: s.color ?? PALETTE[i % PALETTE.length]!,
    pts: s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!p.logY || y > 0)),
  }));
  const xs = series.flatMap((s) => s.pts.map(([x]) => x));
  const ys = series.flatMap((s) => s.pts.map(([, y]) => tf(y)));
  const [xLo, xHi] = extent(xs);
  const [yLo, yHi] = p.yRange ? [tf(p.yRange[0]), tf(p.yRange[1])] : extent(ys);
  const iw = w - MARGIN.left - MARGIN.right;
  const ih = h - MARGIN.top - MARGIN.bottom;
  const sx = (x: number) => MARGIN.left + ((x - xLo) / (xHi - xLo)) * iw;
  const sy = (y: number) => MARGIN.top + ih - ((y - yLo) / (yHi - yLo)) * ih;
  const out: string[] = [`<g transform="translate(${x0},${y0})">`];
  out.push(`<text x="${w / 2}" y="16" text-anchor="middle" font-weight="bold">${escapeXml(p.title)}</text>`);
  out.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${iw}" height="${ih}" fill="none" stroke="#999"/>`);
  for (const t of niceTicks(xLo, xHi)) {
    const x = sx(t).toFixed(1);
    out.push(`<line x1="${x}" x2="${x}" y1="${MARGIN.top}" y2="${MARGIN.top + ih}" stroke="#eee"/>`);
    out.push(`<text x="${x}" y="${MARGIN.top + ih + 14}" text-anchor="middle">${formatTick(t)}</text>`);
  }
  const yTicks = p.logY
    ? niceTicks(Math.floor(yLo), Math.ceil(yHi), 4).filter((t) => Number.isInteger(t) && t >= yLo && t <= yHi)
    : niceTicks(yLo, yHi);
  for (const t of yTicks) {
    const y = sy(t).toFixed(1);
    out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + iw}" y1="${y}" y2="${y}" stroke="#eee"/>`);
    out.push(
      `<text x="${MARGIN.left - 4}" y="${y}" dy="4" text-anchor="end">${formatTick(p.logY ? 10 ** t : t)}</text>`,
    );
  }
  if (p.xLabel)
    out.push(`<text x="${MARGIN.left + iw / 2}" y="${h - 6}" text-anchor="middle">${escapeXml(p.xLabel)}</text>`);
  series.forEach((s, i) => {
    if (s.pts.length > 0) {
      const d = s.pts.map(([x, y], k) => `${k === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(tf(y)).toFixed(1)}`).join('');
      out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.5"/>`);
      if (s.pts.length === 1) {
        const [x, y] = s.pts[0]!;
        out.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(tf(y)).toFixed(1)}" r="2.5" fill="${s.color}"/>`);
      }
    }
    const ly = MARGIN.top + 12 + 14 * i;
    out.push(
      `<line x1="${MARGIN.left + 8}" x2="${MARGIN.left + 24}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"/>`,
    );
    out.push(`<text x="${MARGIN.left + 28}" y="${ly}">${escapeXml(s.name)}</text>`);
  });
  out.push('</g>');
  return out.join('\n');
}

/** A standalone SVG document with the panels in a grid. */
export function plotSvg(panels: Panel[], opts: PlotOptions = {}): string {
  const cols = Math.max(1, Math.min(opts.columns ?? 2, panels.length));
  const w = opts.panelWidth ?? 420;
  const h = opts.panelHeight ?? 260;
  const rows = Math.max(1, Math.ceil(panels.length / cols));
  const body = panels.map((p, i) => renderPanel(p, (i % cols) * w, Math.floor(i / cols) * h, w, h));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${cols * w}" height="${rows * h}" viewBox="0 0 ${cols * w} ${rows * h}" font-family="sans-serif" font-size="11">`,
    `<title>${escapeXml(opts.title ?? panels.map((p) => p.title).join('; '))}</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
