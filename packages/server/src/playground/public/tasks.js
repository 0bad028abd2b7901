// What the playground knows about each task: grid sizes, cell codes and colours, and the text forms a person can
// paste (and copy back). The numbers are those of the HTTP API: sudoku 0 = blank and 1..9; maze 1..5 for
// '#', ' ', 'S', 'G', 'o'; ARC colours 0..9. Pure functions only, so Node tests can import this file too.

/** @typedef {'sudoku' | 'maze' | 'arc'} TaskName */
/** @typedef {number[][]} Grid */

/** Maze cell codes (the model's token ids, which the HTTP API uses as they are). */
export const MAZE_CELL = Object.freeze({ WALL: 1, OPEN: 2, START: 3, GOAL: 4, PATH: 5 });

/** Maze characters in code order: MAZE_CHARS[code - 1]. */
export const MAZE_CHARS = '# SGo';

/** The standard ARC palette, colour 0..9. */
export const ARC_COLOURS = Object.freeze([
  '#000000', // 0 black
  '#0074d9', // 1 blue
  '#ff4136', // 2 red
  '#2ecc40', // 3 green
  '#ffdc00', // 4 yellow
  '#aaaaaa', // 5 grey
  '#f012be', // 6 magenta
  '#ff851b', // 7 orange
  '#7fdbff', // 8 sky blue
  '#870c25', // 9 maroon
]);

export const ARC_COLOUR_NAMES = Object.freeze([
  'black',
  'blue',
  'red',
  'green',
  'yellow',
  'grey',
  'magenta',
  'orange',
  'sky blue',
  'maroon',
]);

export const TASKS = Object.freeze({
  sudoku: Object.freeze({ label: 'Sudoku', rows: 9, cols: 9, resizable: false, blank: 0, min: 0, max: 9 }),
  maze: Object.freeze({ label: 'Maze', rows: 30, cols: 30, resizable: false, blank: MAZE_CELL.OPEN, min: 1, max: 5 }),
  arc: Object.freeze({ label: 'ARC', rows: 10, cols: 10, resizable: true, blank: 0, min: 0, max: 9, maxSide: 30 }),
});

/** A bad pasted puzzle; the message says where and what was expected. */
export class GridTextError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'GridTextError';
  }
}

/**
 * A grid of `rows` x `cols` filled with the task's blank value (open cells for a maze).
 * @param {TaskName} task @param {number} [rows] @param {number} [cols] @returns {Grid}
 */
export function emptyGrid(task, rows = TASKS[task].rows, cols = TASKS[task].cols) {
  return Array.from({ length: rows }, () => new Array(cols).fill(TASKS[task].blank));
}

/** @param {Grid} grid @returns {Grid} */
export function copyGrid(grid) {
  return grid.map((row) => row.slice());
}

/**
 * Reads a pasted puzzle. Every task accepts a JSON array of rows (`[[5,3,0,...],...]`); besides that:
 * sudoku 81 digits with 0 or . for blanks (whitespace and | + - separators ignored); maze 30 lines of 30
 * characters over "# SGo", or the 900-character CSV form; ARC one line per row, digits with or without
 * spaces or commas between them. A path mark ('o' / 5) in a pasted maze becomes an open cell: the model draws
 * the path itself.
 * @param {TaskName} task @param {string} text @returns {Grid}
 */
export function parseGridText(task, text) {
  const trimmed = text.trim();
  if (trimmed === '') throw new GridTextError('Nothing to read: paste a puzzle first.');
  const grid = trimmed.startsWith('[') ? parseJsonGrid(trimmed) : parsePlainText(task, text);
  checkGrid(task, grid);
  if (task === 'maze') return grid.map((row) => row.map((v) => (v === MAZE_CELL.PATH ? MAZE_CELL.OPEN : v)));
  return grid;
}

/** @param {string} text @returns {Grid} */
function parseJsonGrid(text) {
  let value;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new GridTextError(`The text starts with '[' but is not valid JSON (${/** @type {Error} */ (err).message}).`);
  }
  if (!Array.isArray(value) || !value.every((row) => Array.isArray(row))) {
    throw new GridTextError('The JSON must be an array of rows, each an array of numbers, like [[1,2],[3,4]].');
  }
  return value;
}

/** @param {TaskName} task @param {string} text @returns {Grid} */
function parsePlainText(task, text) {
  if (task === 'sudoku') return parseSudokuText(text);
  if (task === 'maze') return parseMazeText(text);
  return parseArcText(text);
}

/** @param {string} text @returns {Grid} */
function parseSudokuText(text) {
  /** @type {number[]} */
  const cells = [];
  for (const ch of text) {
    if (/[\s|+-]/.test(ch)) continue;
    if (ch === '.' || ch === '0') cells.push(0);
    else if (ch >= '1' && ch <= '9') cells.push(Number(ch));
    else {
      throw new GridTextError(
        `Unexpected character ${JSON.stringify(ch)} after ${cells.length} cells; expected digits 1-9, and 0 or . for blanks.`,
      );
    }
  }
  if (cells.length !== 81) throw new GridTextError(`Found ${cells.length} cells, expected 81 (9 rows of 9).`);
  return Array.from({ length: 9 }, (_, r) => cells.slice(r * 9, r * 9 + 9));
}

/** @param {string} text @returns {Grid} */
function parseMazeText(text) {
  const lines = withoutBlankEnds(text.split(/\r\n|\r|\n/));
  const side = TASKS.maze.rows;
  const rows = lines.length === 1 && lines[0].length === side * side ? chunk(lines[0], side) : lines;
  if (rows.length !== side) {
    throw new GridTextError(
      `Found ${rows.length} lines, expected ${side} lines of ${side} characters (or one of 900).`,
    );
  }
  return rows.map((line, r) => {
    if (line.length !== side) {
      throw new GridTextError(`Line ${r + 1} has ${line.length} characters, expected ${side}.`);
    }
    return Array.from(line, (ch, c) => {
      const code = MAZE_CHARS.indexOf(ch) + 1;
      if (code === 0) {
        throw new GridTextError(
          `Line ${r + 1}, column ${c + 1} is ${JSON.stringify(ch)}; expected '#' (wall), ' ' (open), 'S' (start), 'G' (goal) or 'o'.`,
        );
      }
      return code;
    });
  });
}

/** @param {string} text @returns {Grid} */
function parseArcText(text) {
  const lines = withoutBlankEnds(text.split(/\r\n|\r|\n/)).map((line) => line.trim());
  return lines.map((line, r) => {
    const cells = /[\s,]/.test(line) ? line.split(/[\s,]+/).filter((s) => s !== '') : Array.from(line);
    return cells.map((s, c) => {
      if (!/^\d$/.test(s)) {
        throw new GridTextError(`Row ${r + 1}, cell ${c + 1} is ${JSON.stringify(s)}; expected a colour 0-9.`);
      }
      return Number(s);
    });
  });
}

/** Drops empty lines at the start and end (a trailing newline), keeping blank lines inside. */
function withoutBlankEnds(/** @type {string[]} */ lines) {
  let start = 0;
  let end = lines.length;
  while (start < end && lines[start].trim() === '') start++;
  while (end > start && lines[end - 1].trim() === '') end--;
  return lines.slice(start, end);
}

/** @param {string} s @param {number} size */
function chunk(s, size) {
  /** @type {string[]} */
  const out = [];
  for (let i = 0; i < s.length; i += size) out.push(s.slice(i, i + size));
  return out;
}

/**
 * Checks a grid's shape and values for a task; throws a GridTextError naming the first problem.
 * @param {TaskName} task @param {Grid} grid
 */
export function checkGrid(task, grid) {
  const spec = TASKS[task];
  if (grid.length === 0) throw new GridTextError('The grid has no rows.');
  const width = grid[0].length;
  if (spec.resizable) {
    const maxSide = spec.maxSide ?? spec.rows;
    if (grid.length > maxSide || width > maxSide || width === 0) {
      throw new GridTextError(
        `The grid is ${grid.length}x${width}; ${spec.label} grids are 1x1 to ${maxSide}x${maxSide}.`,
      );
    }
  } else if (grid.length !== spec.rows || width !== spec.cols) {
    throw new GridTextError(`The grid is ${grid.length}x${width}; a ${spec.label} grid is ${spec.rows}x${spec.cols}.`);
  }
  grid.forEach((row, r) => {
    if (row.length !== width) {
      throw new GridTextError(`Row ${r + 1} has ${row.length} cells, but row 1 has ${width}; rows must be equal.`);
    }
    row.forEach((v, c) => {
      if (!Number.isInteger(v) || v < spec.min || v > spec.max) {
        throw new GridTextError(
          `Row ${r + 1}, cell ${c + 1} is ${JSON.stringify(v)}; expected a whole number ${spec.min}-${spec.max}.`,
        );
      }
    });
  });
}

/**
 * The text form that parseGridText reads back: sudoku 9 lines with . for blanks, maze 30 lines over "# SGo",
 * ARC one line of digits per row.
 * @param {TaskName} task @param {Grid} grid @returns {string}
 */
export function formatGridText(task, grid) {
  if (task === 'sudoku') return grid.map((row) => row.map((v) => (v === 0 ? '.' : String(v))).join('')).join('\n');
  if (task === 'maze') return grid.map((row) => row.map((v) => MAZE_CHARS[v - 1] ?? '#').join('')).join('\n');
  return grid.map((row) => row.join('')).join('\n');
}

/**
 * Row-major indices of the cells that differ between two grids; every cell of `next` when the shapes differ
 * (an ARC answer that changed size).
 * @param {Grid | null} previous @param {Grid} next @returns {number[]}
 */
export function changedCells(previous, next) {
  const cols = next[0]?.length ?? 0;
  const sameShape =
    previous !== null && previous.length === next.length && previous.every((row) => row.length === cols);
  /** @type {number[]} */
  const out = [];
  for (let r = 0; r < next.length; r++) {
    for (let c = 0; c < cols; c++) if (!sameShape || previous[r][c] !== next[r][c]) out.push(r * cols + c);
  }
  return out;
}
