// The halt-probability chart: sigmoid(q_halt) after each supervision step as a small SVG line chart, with the
// threshold the loop stops at drawn dashed. Plain SVG, no library. Points are buttons for the pointer (they
// pick the step to show); the keyboard does the same with the step slider beside the chart.

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 340;
const HEIGHT = 160;
const PAD = { left: 40, right: 12, top: 12, bottom: 34 };

/**
 * @param {string} name @param {Record<string, string | number>} attrs @param {string} [text]
 * @returns {SVGElement}
 */
function node(name, attrs, text) {
  const el = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/**
 * Draws the chart into `svg` (replacing what was there).
 * @param {SVGSVGElement} svg
 * @param {{ points: { step: number, haltProbability: number }[], maxSteps: number, threshold: number,
 *   selected?: number, onSelect?: (step: number) => void }} data
 */
export function renderHaltChart(svg, data) {
  const { points, threshold, selected, onSelect } = data;
  const maxSteps = Math.max(1, data.maxSteps, ...points.map((p) => p.step));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (/** @type {number} */ step) =>
    PAD.left + (maxSteps === 1 ? plotW / 2 : ((step - 1) / (maxSteps - 1)) * plotW);
  const y = (/** @type {number} */ p) => PAD.top + (1 - Math.max(0, Math.min(1, p))) * plotH;

  svg.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`);
  svg.setAttribute('role', 'img');
  const summary =
    points.length === 0
      ? 'Halt probability per step: no steps yet.'
      : `Halt probability per step: ${points.map((p) => `step ${p.step} ${p.haltProbability.toFixed(2)}`).join(', ')}; threshold ${threshold}.`;
  svg.setAttribute('aria-label', summary);
  /** @type {SVGElement[]} */
  const parts = [];

  for (const p of [0, 0.5, 1]) {
    parts.push(node('line', { class: 'gridline', x1: PAD.left, x2: WIDTH - PAD.right, y1: y(p), y2: y(p) }));
    parts.push(node('text', { class: 'tick', x: PAD.left - 6, y: y(p) + 4, 'text-anchor': 'end' }, p.toFixed(1)));
  }
  for (let s = 1; s <= maxSteps; s++) {
    parts.push(
      node('text', { class: 'tick', x: x(s), y: HEIGHT - PAD.bottom + 14, 'text-anchor': 'middle' }, String(s)),
    );
  }
  parts.push(
    node(
      'text',
      { class: 'axis-title', x: PAD.left + plotW / 2, y: HEIGHT - 4, 'text-anchor': 'middle' },
      'supervision step',
    ),
  );
  parts.push(
    node(
      'text',
      {
        class: 'axis-title',
        x: 12,
        y: PAD.top + plotH / 2,
        'text-anchor': 'middle',
        transform: `rotate(-90 12 ${PAD.top + plotH / 2})`,
      },
      'P(halt)',
    ),
  );
  parts.push(
    node('line', { class: 'threshold', x1: PAD.left, x2: WIDTH - PAD.right, y1: y(threshold), y2: y(threshold) }),
  );

  if (points.length > 0) {
    const path = points.map((p) => `${x(p.step).toFixed(1)},${y(p.haltProbability).toFixed(1)}`).join(' ');
    parts.push(node('polyline', { class: 'halt-line', points: path }));
  }
  for (const p of points) {
    const dot = node('circle', {
      class: p.step === selected ? 'halt-point selected' : 'halt-point',
      cx: x(p.step),
      cy: y(p.haltProbability),
      r: p.step === selected ? 6 : 4,
      'data-step': p.step,
      'data-p': p.haltProbability,
    });
    dot.append(node('title', {}, `step ${p.step}: P(halt) = ${p.haltProbability.toFixed(3)}`));
    if (onSelect) dot.addEventListener('click', () => onSelect(p.step));
    parts.push(dot);
  }
  svg.replaceChildren(...parts);
}
