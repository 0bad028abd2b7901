// Sudoku codec: the 81-character text form of the CSV files and the 81-token model form (TRM-SPEC §6.2).
// A grid holds 0 for a blank cell and 1..9 for a digit; tokens are blank 1, digit d -> d + 1, PAD 0.
import { SUDOKU } from './vocab.js';
import { type Grid, GridError, validateGrid } from './grid.js';

const SIDE = SUDOKU.side;
const CELLS = SUDOKU.seqLen;

/** Validates an untrusted 9x9 grid of 0 (blank) and 1..9. */
export function validateSudokuGrid(grid: unknown, field = 'grid'): Grid {
  return validateGrid(grid, { field, minValue: 0, maxValue: 9, rows: SIDE, cols: SIDE });
}

/** Parses 81 row-major characters: '1'..'9' are digits, '.' or '0' a blank. */
export function parseSudokuString(s: string, field = 'sudoku'): Grid {
  if (typeof s !== 'string') throw new GridError(field, `${field} must be a string of ${CELLS} characters`);
  if (s.length !== CELLS) throw new GridError(field, `${field} has ${s.length} characters, expected ${CELLS}`);
  const grid: Grid = [];
  for (let r = 0; r < SIDE; r++) {
    const row: number[] = new Array(SIDE);
    for (let c = 0; c < SIDE; c++) {
      const i = r * SIDE + c;
      const code = s.charCodeAt(i);
      if (code === 46 /* . */ || code === 48 /* 0 */) row[c] = 0;
      else if (code >= 49 && code <= 57) row[c] = code - 48;
      else {
        throw new GridError(
          field,
          `${field} character ${i} (row ${r}, col ${c}) is ${JSON.stringify(s[i])}, expected '1'..'9', '.' or '0'`,
        );
      }
    }
    grid.push(row);
  }
  return grid;
}

function checkShape(grid: Grid, what: string): void {
  if (grid.length !== SIDE || grid.some((row) => row.length !== SIDE)) {
    throw new GridError('grid', `${what}: grid must be ${SIDE}x${SIDE}`);
  }
}

/** The 81-character form with '.' for blanks (the CSV's question format). */
export function sudokuToString(grid: Grid): string {
  checkShape(grid, 'sudokuToString');
  let s = '';
  for (const row of grid) for (const v of row) s += v === 0 ? '.' : String(v);
  return s;
}

/** 81 tokens, row-major: blank -> 1, digit d -> d + 1. */
export function encodeSudoku(grid: Grid): Uint8Array {
  checkShape(grid, 'encodeSudoku');
  const out = new Uint8Array(CELLS);
  for (let r = 0; r < SIDE; r++) {
    for (let c = 0; c < SIDE; c++) {
      const v = grid[r]![c]!;
      if (!Number.isInteger(v) || v < 0 || v > 9) {
        throw new GridError(`grid[${r}][${c}]`, `grid[${r}][${c}] must be an integer 0..9 (got ${v})`);
      }
      out[r * SIDE + c] = v + SUDOKU.digitOffset;
    }
  }
  return out;
}

/**
 * Inverse of encodeSudoku. Tokens 2..10 are digits 1..9; everything else (the blank token 1, but also PAD or an
 * out-of-vocabulary id that a model may predict) decodes to a blank, so a model's output always yields a grid.
 */
export function decodeSudoku(tokens: ArrayLike<number>): Grid {
  if (tokens.length !== CELLS) throw new RangeError(`sudoku tokens: got ${tokens.length}, expected ${CELLS}`);
  const grid: Grid = [];
  for (let r = 0; r < SIDE; r++) {
    const row: number[] = new Array(SIDE);
    for (let c = 0; c < SIDE; c++) {
      const t = tokens[r * SIDE + c]!;
      row[c] = t >= 2 && t <= 10 ? t - SUDOKU.digitOffset : 0;
    }
    grid.push(row);
  }
  return grid;
}
