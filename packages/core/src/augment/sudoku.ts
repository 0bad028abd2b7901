// Validity-preserving sudoku shuffles (TRM-SPEC §6.2, the reference's shuffle_sudoku) as plain data, so that a
// shuffle can be stored, applied to a puzzle and its solution alike, and inverted.
//
// Applying a shuffle: optionally transpose, then out[i][j] = in[rows[i]][cols[j]], then map every digit d to
// digits[d] (digits[0] = 0 keeps blanks blank). `rows` permutes the 3 bands and the rows within each band,
// `cols` the stacks and the columns within each stack, so rows, columns and boxes stay rows, columns and boxes.
// The reference draws, in this order: the digit permutation, transpose (p = 0.5), the band order, the row order
// within each band (in the new band order), the stack order, the column order within each stack.
import type { Grid } from '../tasks/grid.js';
import type { Rng } from '../util/random.js';
import { invertPermutation } from './colour.js';

export interface SudokuShuffle {
  /** length 10, digits[0] = 0; digit d becomes digits[d] */
  digits: number[];
  /** transpose before the row/column permutation */
  transpose: boolean;
  /** length 9: output row i is (transposed) input row rows[i] */
  rows: number[];
  /** length 9: output column j is (transposed) input column cols[j] */
  cols: number[];
}

function bandPermutation(rng: Rng): number[] {
  const bands = rng.permutation(3);
  return bands.flatMap((b) => rng.permutation(3).map((k) => b * 3 + k));
}

export function randomSudokuShuffle(rng: Rng): SudokuShuffle {
  const digits = [0, ...rng.permutation(9).map((d) => d + 1)];
  const transpose = rng.random() < 0.5;
  const rows = bandPermutation(rng);
  const cols = bandPermutation(rng);
  return { digits, transpose, rows, cols };
}

export const IDENTITY_SUDOKU_SHUFFLE: Readonly<SudokuShuffle> = Object.freeze({
  digits: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  transpose: false,
  rows: [0, 1, 2, 3, 4, 5, 6, 7, 8],
  cols: [0, 1, 2, 3, 4, 5, 6, 7, 8],
});

/** Applies a shuffle to a 9x9 grid (a puzzle with blanks 0, or a solution); returns a new grid. */
export function applySudokuShuffle(grid: Grid, s: SudokuShuffle): Grid {
  if (grid.length !== 9 || grid.some((row) => row.length !== 9)) {
    throw new RangeError('applySudokuShuffle: grid must be 9x9');
  }
  const out: Grid = [];
  for (let i = 0; i < 9; i++) {
    const row: number[] = new Array(9);
    for (let j = 0; j < 9; j++) {
      const r = s.rows[i]!;
      const c = s.cols[j]!;
      const v = s.transpose ? grid[c]![r]! : grid[r]![c]!;
      row[j] = s.digits[v]!;
    }
    out.push(row);
  }
  return out;
}

/**
 * The shuffle that undoes `s`. Digits map back through the inverse permutation (digit relabelling commutes with
 * moving cells). For the cells: without transpose, in[a][b] = out[rowsInv[a]][colsInv[b]]; with transpose,
 * out[i][j] = in[cols[j]][rows[i]], so in[a][b] = transpose(out)[colsInv[a]][rowsInv[b]]: the inverse transposes
 * too and swaps the roles of the row and column permutations.
 */
export function invertSudokuShuffle(s: SudokuShuffle): SudokuShuffle {
  const rowsInv = invertPermutation(s.rows);
  const colsInv = invertPermutation(s.cols);
  return {
    digits: invertPermutation(s.digits),
    transpose: s.transpose,
    rows: s.transpose ? colsInv : rowsInv,
    cols: s.transpose ? rowsInv : colsInv,
  };
}
