// Drawing grids: one cell's look for each task (shared by the editor and the answer), and the read-only answer
// grid with the cells that changed since the previous step highlighted and, for sudoku, the givens set apart
// from what the model filled in. Cells carry data-value so a test can read the rendered grid back.
import { ARC_COLOUR_NAMES, ARC_COLOURS, MAZE_CELL } from './tasks.js';

/** @typedef {import('./tasks.js').TaskName} TaskName */
/** @typedef {import('./tasks.js').Grid} Grid */

const MAZE_LOOK = {
  [MAZE_CELL.WALL]: { cls: 'wall', text: '', name: 'wall' },
  [MAZE_CELL.OPEN]: { cls: 'open', text: '', name: 'open' },
  [MAZE_CELL.START]: { cls: 'start', text: 'S', name: 'start' },
  [MAZE_CELL.GOAL]: { cls: 'goal', text: 'G', name: 'goal' },
  [MAZE_CELL.PATH]: { cls: 'path', text: '', name: 'path' },
};

/**
 * Gives `el` the look of a cell holding `value`.
 * @param {HTMLElement} el @param {TaskName} task @param {number} value
 */
export function drawCell(el, task, value) {
  el.dataset.value = String(value);
  if (task === 'sudoku') {
    el.textContent = value === 0 ? '' : String(value);
  } else if (task === 'maze') {
    const look = MAZE_LOOK[value] ?? MAZE_LOOK[MAZE_CELL.WALL];
    el.textContent = look.text;
    el.classList.remove('wall', 'open', 'start', 'goal', 'path');
    el.classList.add(look.cls);
  } else {
    el.style.background = ARC_COLOURS[value] ?? '#ffffff';
  }
}

/**
 * Words for a cell, for screen readers.
 * @param {TaskName} task @param {number} value @param {number} r @param {number} c
 */
export function describeCell(task, value, r, c) {
  const where = `row ${r + 1}, column ${c + 1}`;
  if (task === 'sudoku') return `${where}: ${value === 0 ? 'blank' : value}`;
  if (task === 'maze') return `${where}: ${(MAZE_LOOK[value] ?? MAZE_LOOK[MAZE_CELL.WALL]).name}`;
  return `${where}: ${ARC_COLOUR_NAMES[value] ?? 'unknown'}`;
}

/**
 * Sets the grid container's layout: columns, and a cell size that keeps any grid about the same width.
 * @param {HTMLElement} el @param {TaskName} task @param {number} rows @param {number} cols
 */
export function layoutGrid(el, task, rows, cols) {
  const cell = task === 'sudoku' ? 40 : Math.max(12, Math.min(40, Math.floor(420 / Math.max(rows, cols))));
  el.className = `grid grid-${task}`;
  el.style.setProperty('--cols', String(cols));
  el.style.setProperty('--cell', `${cell}px`);
  el.dataset.rows = String(rows);
  el.dataset.cols = String(cols);
}

/**
 * Marks the thick lines between sudoku boxes.
 * @param {HTMLElement} el @param {number} r @param {number} c
 */
export function markBoxEdges(el, r, c) {
  el.classList.toggle('box-right', c % 3 === 2 && c < 8);
  el.classList.toggle('box-bottom', r % 3 === 2 && r < 8);
}

/**
 * Draws `grid` read-only into `host`.
 * @param {HTMLElement} host
 * @param {TaskName} task
 * @param {Grid} grid
 * @param {{ puzzle?: Grid, changed?: Iterable<number>, label: string }} options puzzle: the input (sudoku givens);
 *   changed: row-major indices to highlight
 */
export function renderGrid(host, task, grid, options) {
  const rows = grid.length;
  const cols = grid[0]?.length ?? 0;
  const changed = new Set(options.changed ?? []);
  const el = document.createElement('div');
  layoutGrid(el, task, rows, cols);
  el.setAttribute('role', 'group');
  el.setAttribute('aria-label', options.label);
  grid.forEach((row, r) => {
    row.forEach((value, c) => {
      const cell = document.createElement('div');
      cell.className = 'cell';
      drawCell(cell, task, value);
      if (task === 'sudoku') {
        markBoxEdges(cell, r, c);
        const given = options.puzzle?.[r]?.[c] ?? 0;
        if (given !== 0) cell.classList.add(given === value ? 'given' : 'given-changed');
      }
      if (changed.has(r * cols + c)) cell.classList.add('changed');
      cell.title = describeCell(task, value, r, c);
      el.append(cell);
    });
  });
  host.replaceChildren(el);
  return el;
}
