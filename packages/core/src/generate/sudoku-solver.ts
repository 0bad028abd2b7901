// A bitmask backtracking solver for 9x9 sudoku that counts solutions up to a limit: the uniqueness test of the
// generator (limit 2) and the source of random full grids (random candidate order). Each cell's candidates are
// the digits missing from its row, column and box masks; the search always branches on the empty cell with the
// fewest candidates, so forced cells (one candidate) cost no guessing.
import type { Rng } from '../util/random.js';

/** Popcount of 9-bit masks. */
const BITS = new Uint8Array(512);
for (let m = 1; m < 512; m++) BITS[m] = BITS[m >> 1]! + (m & 1);

const BOX = new Uint8Array(81);
for (let i = 0; i < 81; i++) BOX[i] = Math.floor(Math.floor(i / 9) / 3) * 3 + Math.floor((i % 9) / 3);

export interface SudokuSolveResult {
  /** Solutions found, capped at the limit (so 2 with limit 2 means "two or more"). */
  solutions: number;
  /** The first solution found (81 digits 1..9), when there is one. */
  solution?: Uint8Array;
  /** Branching nodes (cells tried with two or more candidates) visited before the first solution. */
  guesses: number;
}

export interface SudokuSolveOptions {
  /** Stop after this many solutions (default 2: enough to tell unique from not). */
  limit?: number;
  /** Try candidates in a random order (for random full grids); default ascending digits. */
  rng?: Rng;
}

/**
 * Solves an 81-cell puzzle (0 = blank, 1..9 = given). A puzzle whose givens already clash has 0 solutions.
 */
export function solveSudoku(cells: ArrayLike<number>, options: SudokuSolveOptions = {}): SudokuSolveResult {
  if (cells.length !== 81) throw new RangeError(`sudoku has ${cells.length} cells, expected 81`);
  const limit = options.limit ?? 2;
  const rng = options.rng;
  const grid = new Uint8Array(81);
  const rows = new Uint16Array(9);
  const cols = new Uint16Array(9);
  const boxes = new Uint16Array(9);
  for (let i = 0; i < 81; i++) {
    const v = cells[i]!;
    if (!Number.isInteger(v) || v < 0 || v > 9) throw new RangeError(`sudoku cell ${i} is ${v}, expected 0..9`);
    if (v === 0) continue;
    const bit = 1 << (v - 1);
    const r = (i / 9) | 0;
    const c = i % 9;
    const b = BOX[i]!;
    if ((rows[r]! | cols[c]! | boxes[b]!) & bit) return { solutions: 0, guesses: 0 };
    rows[r]! |= bit;
    cols[c]! |= bit;
    boxes[b]! |= bit;
    grid[i] = v;
  }

  const result: SudokuSolveResult = { solutions: 0, guesses: 0 };

  const search = (): boolean => {
    // Pick the empty cell with the fewest candidates; a cell with none means a dead end.
    let best = -1;
    let bestMask = 0;
    let bestCount = 10;
    for (let i = 0; i < 81; i++) {
      if (grid[i] !== 0) continue;
      const mask = ~(rows[(i / 9) | 0]! | cols[i % 9]! | boxes[BOX[i]!]!) & 0x1ff;
      const n = BITS[mask]!;
      if (n < bestCount) {
        best = i;
        bestMask = mask;
        bestCount = n;
        if (n <= 1) break;
      }
    }
    if (best < 0) {
      result.solutions++;
      if (result.solution === undefined) result.solution = grid.slice();
      return result.solutions >= limit;
    }
    if (bestCount === 0) return false;
    if (bestCount > 1 && result.solution === undefined) result.guesses++;
    const order: number[] = [];
    for (let m = bestMask; m !== 0; m &= m - 1) order.push(32 - Math.clz32(m & -m)); // lowest bit k -> digit k+1
    if (rng !== undefined) rng.shuffle(order);
    const r = (best / 9) | 0;
    const c = best % 9;
    const b = BOX[best]!;
    for (const v of order) {
      const bit = 1 << (v - 1);
      grid[best] = v;
      rows[r]! |= bit;
      cols[c]! |= bit;
      boxes[b]! |= bit;
      const stop = search();
      rows[r]! &= ~bit;
      cols[c]! &= ~bit;
      boxes[b]! &= ~bit;
      grid[best] = 0;
      if (stop) return true;
    }
    return false;
  };
  search();
  return result;
}

/**
 * A random complete grid: the first solution of the empty grid under a shuffled candidate order. (Every grid
 * can come out, though not with exactly equal probability.)
 */
export function randomSolvedSudoku(rng: Rng): Uint8Array {
  return solveSudoku(new Uint8Array(81), { limit: 1, rng }).solution!;
}
