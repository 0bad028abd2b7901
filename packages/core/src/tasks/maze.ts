// Maze codec (TRM-SPEC §6.3): a maze is 30 rows of 30 characters over "# SGo" ('#' wall, ' ' open, 'S' start,
// 'G' goal, 'o' path); the model form is 900 row-major tokens '#'=1, ' '=2, 'S'=3, 'G'=4, 'o'=5 (PAD 0).
//
// Numeric form for clients that send JSON grids (`mazeFromCells` / `mazeToCells`): each cell holds the token id
// itself, 1..5 in the order above, so there is one numbering for the model and for the HTTP API.
//
// Decoding a model's output: PAD (0) or any id outside 1..5 decodes to '#', a wall. A wall is the conservative
// choice: a path checker then treats the cell as impassable instead of inventing a free cell or a path step.
import { type Grid, GridError, validateGrid } from './grid.js';
import { MAZE } from './vocab.js';

/** 30 strings of 30 characters over MAZE.charset. */
export type MazeGrid = string[];

const SIDE = MAZE.side;
const CELLS = MAZE.seqLen;
const CHARSET = MAZE.charset;

/** Parses 900 row-major characters over "# SGo" into 30 rows. */
export function parseMazeString(s: string, field = 'maze'): MazeGrid {
  if (typeof s !== 'string') throw new GridError(field, `${field} must be a string of ${CELLS} characters`);
  if (s.length !== CELLS) throw new GridError(field, `${field} has ${s.length} characters, expected ${CELLS}`);
  for (let i = 0; i < CELLS; i++) {
    if (!CHARSET.includes(s[i]!)) {
      throw new GridError(
        field,
        `${field} character ${i} (row ${Math.floor(i / SIDE)}, col ${i % SIDE}) is ${JSON.stringify(s[i])}, ` +
          `expected one of ${JSON.stringify(CHARSET)}`,
      );
    }
  }
  const rows: MazeGrid = [];
  for (let r = 0; r < SIDE; r++) rows.push(s.slice(r * SIDE, (r + 1) * SIDE));
  return rows;
}

/** Validates untrusted maze rows: an array of 30 strings of 30 characters over "# SGo". */
export function validateMazeRows(rows: unknown, field = 'maze'): MazeGrid {
  if (!Array.isArray(rows)) throw new GridError(field, `${field} must be an array of ${SIDE} strings`);
  if (rows.length !== SIDE) throw new GridError(field, `${field} has ${rows.length} rows, expected ${SIDE}`);
  rows.forEach((row: unknown, r) => {
    if (typeof row !== 'string') throw new GridError(`${field}[${r}]`, `${field}[${r}] must be a string`);
    if (row.length !== SIDE) {
      throw new GridError(`${field}[${r}]`, `${field} row ${r} has ${row.length} cells, expected ${SIDE}`);
    }
  });
  return parseMazeString((rows as string[]).join(''), field);
}

/** The 900-character row-major form (the CSV format). */
export function mazeToString(rows: MazeGrid): string {
  if (rows.length !== SIDE || rows.some((r) => r.length !== SIDE)) {
    throw new GridError('maze', `mazeToString: maze must be ${SIDE} rows of ${SIDE} characters`);
  }
  return rows.join('');
}

/** 900 tokens: '#'=1, ' '=2, 'S'=3, 'G'=4, 'o'=5. */
export function encodeMaze(rows: MazeGrid): Uint8Array {
  const s = mazeToString(rows);
  const out = new Uint8Array(CELLS);
  for (let i = 0; i < CELLS; i++) {
    const k = CHARSET.indexOf(s[i]!);
    if (k < 0) {
      throw new GridError(
        `maze[${Math.floor(i / SIDE)}][${i % SIDE}]`,
        `maze[${Math.floor(i / SIDE)}][${i % SIDE}] is ${JSON.stringify(s[i])}, expected one of ${JSON.stringify(CHARSET)}`,
      );
    }
    out[i] = k + 1;
  }
  return out;
}

/** Inverse of encodeMaze; PAD and unknown ids decode to '#' (see the header). */
export function decodeMaze(tokens: ArrayLike<number>): MazeGrid {
  if (tokens.length !== CELLS) throw new RangeError(`maze tokens: got ${tokens.length}, expected ${CELLS}`);
  const rows: MazeGrid = [];
  for (let r = 0; r < SIDE; r++) {
    let row = '';
    for (let c = 0; c < SIDE; c++) {
      const t = tokens[r * SIDE + c]!;
      row += t >= 1 && t <= CHARSET.length ? CHARSET[t - 1] : '#';
    }
    rows.push(row);
  }
  return rows;
}

/** Converts (and validates) a 30x30 numeric grid of cell codes 1..5 (= token ids) into maze rows. */
export function mazeFromCells(grid: unknown, field = 'grid'): MazeGrid {
  const cells = validateGrid(grid, { field, minValue: 1, maxValue: CHARSET.length, rows: SIDE, cols: SIDE });
  return cells.map((row) => row.map((v) => CHARSET[v - 1]).join(''));
}

/** The numeric form of a maze: cell codes 1..5 (= token ids). */
export function mazeToCells(rows: MazeGrid): Grid {
  const tokens = encodeMaze(rows);
  const grid: Grid = [];
  for (let r = 0; r < SIDE; r++) grid.push(Array.from(tokens.subarray(r * SIDE, (r + 1) * SIDE)));
  return grid;
}
