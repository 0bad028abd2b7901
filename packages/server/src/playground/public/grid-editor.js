// The puzzle editor: a grid a person can type into (sudoku) or paint (maze walls/open/start/goal, ARC colours),
// by keyboard and by pointer. One cell is in the tab order at a time (roving tabindex), so Tab moves between
// the grid and the other controls while the arrow keys move inside it. A typed value is written and the cursor
// moves on, as in a text field, so a whole puzzle can be typed row by row; Backspace steps back and clears.
// Pasting onto the grid reads the text the same way as the paste box.
import { describeCell, drawCell, layoutGrid, markBoxEdges } from './grid-view.js';
import { copyGrid, emptyGrid, MAZE_CELL, parseGridText, TASKS } from './tasks.js';

/** @typedef {import('./tasks.js').TaskName} TaskName */
/** @typedef {import('./tasks.js').Grid} Grid */

/**
 * Keys that write a value, per task. Sudoku: 1-9, and 0 . or space for a blank. Maze: # or w wall, space or
 * . open, s start, g goal (or 1-4 in code order). ARC: colours 0-9.
 * @param {TaskName} task @param {string} key @returns {number | null}
 */
export function valueForKey(task, key) {
  if (task === 'sudoku') {
    if (key >= '1' && key <= '9' && key.length === 1) return Number(key);
    return key === '0' || key === '.' || key === ' ' ? 0 : null;
  }
  if (task === 'maze') {
    const k = key.toLowerCase();
    if (k === '#' || k === 'w' || k === '1') return MAZE_CELL.WALL;
    if (k === ' ' || k === '.' || k === '2') return MAZE_CELL.OPEN;
    if (k === 's' || k === '3') return MAZE_CELL.START;
    if (k === 'g' || k === '4') return MAZE_CELL.GOAL;
    return null;
  }
  return key.length === 1 && key >= '0' && key <= '9' ? Number(key) : null;
}

export class GridEditor {
  /**
   * @param {HTMLElement} host
   * @param {TaskName} task
   * @param {{ label: string, onSubmit: () => void, onError: (message: string) => void, onChange?: () => void }} hooks
   */
  constructor(host, task, hooks) {
    this.task = task;
    this.hooks = hooks;
    /** @type {Grid} */
    this.values = emptyGrid(task);
    this.cursor = 0;
    /** value a pointer paints (maze and ARC) */
    this.tool = task === 'maze' ? MAZE_CELL.WALL : 1;
    this.painting = false;
    /** @type {HTMLElement[]} */
    this.cells = [];
    this.el = document.createElement('div');
    this.el.setAttribute('role', 'grid');
    this.el.setAttribute('aria-label', hooks.label);
    host.replaceChildren(this.el);
    this.el.addEventListener('keydown', (e) => this.onKey(e));
    this.el.addEventListener('pointerdown', (e) => this.onPointerDown(e));
    this.el.addEventListener('pointerover', (e) => this.onPointerOver(e));
    this.el.addEventListener('paste', (e) => this.onPaste(e));
    // Painting ends wherever the button is released, inside the grid or not.
    window.addEventListener('pointerup', () => {
      this.painting = false;
    });
    this.build();
  }

  get rows() {
    return this.values.length;
  }

  get cols() {
    return this.values[0].length;
  }

  /** A copy of the grid as it stands. */
  get grid() {
    return copyGrid(this.values);
  }

  /** @param {Grid} grid */
  setGrid(grid) {
    this.values = copyGrid(grid);
    this.cursor = Math.min(this.cursor, this.rows * this.cols - 1);
    this.build();
    this.hooks.onChange?.();
  }

  /** Changes the size (ARC), keeping the cells that fit. @param {number} rows @param {number} cols */
  resize(rows, cols) {
    const next = emptyGrid(this.task, rows, cols);
    for (let r = 0; r < Math.min(rows, this.rows); r++) {
      for (let c = 0; c < Math.min(cols, this.cols); c++) next[r][c] = this.values[r][c];
    }
    this.setGrid(next);
  }

  clear() {
    this.setGrid(emptyGrid(this.task, this.rows, this.cols));
  }

  focus() {
    this.cells[this.cursor]?.focus();
  }

  build() {
    layoutGrid(this.el, this.task, this.rows, this.cols);
    this.el.classList.add('editor');
    if (this.task !== 'sudoku') this.el.classList.add('paintable');
    this.cells = [];
    /** @type {HTMLElement[]} */
    const rowEls = [];
    this.values.forEach((row, r) => {
      const rowEl = document.createElement('div');
      rowEl.setAttribute('role', 'row');
      rowEl.className = 'grid-row';
      row.forEach((value, c) => {
        const cell = document.createElement('div');
        cell.className = 'cell';
        cell.setAttribute('role', 'gridcell');
        cell.dataset.index = String(r * this.cols + c);
        if (this.task === 'sudoku') markBoxEdges(cell, r, c);
        this.draw(cell, value, r, c);
        rowEl.append(cell);
        this.cells.push(cell);
      });
      rowEls.push(rowEl);
    });
    this.el.replaceChildren(...rowEls);
    this.moveTo(this.cursor, false);
  }

  /** @param {HTMLElement} cell @param {number} value @param {number} r @param {number} c */
  draw(cell, value, r, c) {
    drawCell(cell, this.task, value);
    cell.setAttribute('aria-label', describeCell(this.task, value, r, c));
  }

  /** @param {number} index @param {number} value */
  write(index, value) {
    const r = Math.floor(index / this.cols);
    const c = index % this.cols;
    if (this.task === 'maze' && (value === MAZE_CELL.START || value === MAZE_CELL.GOAL)) {
      // A maze has one start and one goal: placing one moves it.
      for (let i = 0; i < this.rows * this.cols; i++) {
        const rr = Math.floor(i / this.cols);
        const cc = i % this.cols;
        if (i !== index && this.values[rr][cc] === value) {
          this.values[rr][cc] = MAZE_CELL.OPEN;
          this.draw(this.cells[i], MAZE_CELL.OPEN, rr, cc);
        }
      }
    }
    if (this.values[r][c] === value) return;
    this.values[r][c] = value;
    this.draw(this.cells[index], value, r, c);
    this.hooks.onChange?.();
  }

  /** @param {number} index @param {boolean} [focus] */
  moveTo(index, focus = true) {
    const last = this.rows * this.cols - 1;
    const next = Math.max(0, Math.min(last, index));
    this.cells[this.cursor]?.setAttribute('tabindex', '-1');
    this.cursor = next;
    const cell = this.cells[next];
    cell.setAttribute('tabindex', '0');
    if (focus) cell.focus();
  }

  /** @param {KeyboardEvent} e */
  onKey(e) {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const r = Math.floor(this.cursor / this.cols);
    const c = this.cursor % this.cols;
    /** @type {number | null} */
    let target = null;
    switch (e.key) {
      case 'ArrowLeft':
        target = r * this.cols + Math.max(0, c - 1);
        break;
      case 'ArrowRight':
        target = r * this.cols + Math.min(this.cols - 1, c + 1);
        break;
      case 'ArrowUp':
        target = Math.max(0, r - 1) * this.cols + c;
        break;
      case 'ArrowDown':
        target = Math.min(this.rows - 1, r + 1) * this.cols + c;
        break;
      case 'Home':
        target = r * this.cols;
        break;
      case 'End':
        target = r * this.cols + this.cols - 1;
        break;
      case 'Backspace':
        target = Math.max(0, this.cursor - 1);
        this.write(target, TASKS[this.task].blank);
        break;
      case 'Delete':
        this.write(this.cursor, TASKS[this.task].blank);
        e.preventDefault();
        return;
      case 'Enter':
        e.preventDefault();
        this.hooks.onSubmit();
        return;
      default: {
        const value = valueForKey(this.task, e.key);
        if (value === null) return;
        this.write(this.cursor, value);
        target = this.cursor + 1;
      }
    }
    e.preventDefault();
    this.moveTo(target);
  }

  /** @param {Event} e */
  cellOf(e) {
    const cell = /** @type {HTMLElement | null} */ (e.target instanceof Element ? e.target.closest('.cell') : null);
    return cell?.dataset.index === undefined ? -1 : Number(cell.dataset.index);
  }

  /** @param {PointerEvent} e */
  onPointerDown(e) {
    const index = this.cellOf(e);
    if (index < 0 || e.button !== 0) return;
    e.preventDefault(); // keeps text selection from starting while painting; focus is moved by hand
    this.moveTo(index);
    if (this.task === 'sudoku') return;
    // Touch pointers are captured by the cell they started on; release so pointerover reaches the others.
    if (e.target instanceof Element && e.target.hasPointerCapture(e.pointerId)) {
      e.target.releasePointerCapture(e.pointerId);
    }
    this.painting = true;
    this.write(index, this.tool);
  }

  /** @param {PointerEvent} e */
  onPointerOver(e) {
    if (!this.painting || (e.buttons & 1) === 0) return;
    const index = this.cellOf(e);
    if (index >= 0) this.write(index, this.tool);
  }

  /** @param {ClipboardEvent} e */
  onPaste(e) {
    const text = e.clipboardData?.getData('text/plain') ?? '';
    e.preventDefault();
    try {
      this.setGrid(parseGridText(this.task, text));
    } catch (err) {
      this.hooks.onError(`Could not paste: ${/** @type {Error} */ (err).message}`);
    }
  }
}
