// The rules of sudoku as a check of an answer grid (0 = blank, 1..9 digits): an answer never changes a given (the
// givens are written back over it), and it is valid when every row, column and 3x3 box holds 1..9 exactly once.
// Reasons count rows, columns and boxes from 1, as a person reads the grid.
import type { Grid } from './grid.js';
import { countWord, type RuleCheck } from './rule-check.js';
import { SUDOKU } from './vocab.js';

const SIDE = SUDOKU.side;

export interface RestoredGivens {
  /** the answer with every given of the puzzle in its cell (a new grid) */
  grid: Grid;
  /** cells where the answer differed from a given */
  restored: number;
}

/** Writes the puzzle's givens (its non-zero cells) over `answer`; both are 9x9. */
export function restoreSudokuGivens(puzzle: Grid, answer: Grid): RestoredGivens {
  let restored = 0;
  const grid = answer.map((row, r) =>
    row.map((v, c) => {
      const given = puzzle[r]?.[c] ?? 0;
      if (given === 0 || given === v) return v;
      restored++;
      return given;
    }),
  );
  return { grid, restored };
}

/** The nine units a cell belongs to, in the order they are checked: rows, then columns, then boxes. */
const UNITS: { name: string; cells: [number, number][] }[] = [
  ...Array.from({ length: SIDE }, (_, k) => ({
    name: `row ${k + 1}`,
    cells: Array.from({ length: SIDE }, (_, i): [number, number] => [k, i]),
  })),
  ...Array.from({ length: SIDE }, (_, k) => ({
    name: `column ${k + 1}`,
    cells: Array.from({ length: SIDE }, (_, i): [number, number] => [i, k]),
  })),
  ...Array.from({ length: SIDE }, (_, k) => {
    const r0 = 3 * Math.floor(k / 3);
    const c0 = 3 * (k % 3);
    return {
      name: `the box of rows ${r0 + 1}-${r0 + 3} and columns ${c0 + 1}-${c0 + 3}`,
      cells: Array.from({ length: SIDE }, (_, i): [number, number] => [r0 + Math.floor(i / 3), c0 + (i % 3)]),
    };
  }),
];

/**
 * Whether `grid` is a solved sudoku: 9x9, no blank, and every row, column and box holding 1..9 exactly once. The
 * reason names the first problem: a blank or out-of-range cell in reading order, else the first unit (rows 1-9,
 * columns 1-9, boxes left to right, top to bottom) that holds a digit more than once ("row 3 has two 7s").
 */
export function checkSudokuRules(grid: Grid): RuleCheck {
  if (grid.length !== SIDE || grid.some((row) => row.length !== SIDE)) {
    return { valid: false, reason: `the answer is not ${SIDE}x${SIDE}` };
  }
  for (let r = 0; r < SIDE; r++) {
    for (let c = 0; c < SIDE; c++) {
      const v = grid[r]![c]!;
      if (v === 0) return { valid: false, reason: `row ${r + 1}, column ${c + 1} is blank` };
      if (!Number.isInteger(v) || v < 1 || v > 9) {
        return { valid: false, reason: `row ${r + 1}, column ${c + 1} holds ${v}, not a digit 1..9` };
      }
    }
  }
  // With every cell a digit, a unit misses a digit exactly when it repeats one, so repeats are all there is to find.
  for (const unit of UNITS) {
    const counts = new Array<number>(10).fill(0);
    for (const [r, c] of unit.cells) counts[grid[r]![c]!]!++;
    const digit = counts.findIndex((n) => n > 1);
    if (digit >= 0) return { valid: false, reason: `${unit.name} has ${countWord(counts[digit]!)} ${digit}s` };
  }
  return { valid: true };
}
