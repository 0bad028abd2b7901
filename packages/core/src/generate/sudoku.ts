// Sudoku generator with a difficulty knob, the number of givens: fill a random complete grid, then blank cells
// in a random order, keeping each blank only while the puzzle still has exactly one solution, until the target
// number of givens is reached. Greedy blanking usually gets stuck somewhere around 22-27 givens, so targets of
// 30 and above succeed at the first attempt and lower ones may need several (a fresh grid each); below ~22 it
// rarely succeeds and says so.
import type { Rng } from '../util/random.js';
import { randomSolvedSudoku, solveSudoku } from './sudoku-solver.js';

export interface SudokuOptions {
  /** Givens wanted: an exact count, or an inclusive range drawn uniformly per puzzle (e.g. [30, 79]). */
  givens: number | readonly [number, number];
  /** Fresh complete grids to try before giving up on a target (default 50). */
  maxAttempts?: number;
}

export interface GeneratedSudoku {
  /** 81 characters, row-major, '.' for a blank (the Sudoku-Extreme CSV form). */
  question: string;
  /** 81 digits. */
  answer: string;
  givens: number;
  /** Branching guesses the solver made before reaching the solution (solveSudoku's `guesses`). */
  rating: number;
  /** Complete grids tried, the successful one included. */
  attempts: number;
}

/** Givens below this cannot give a unique solution (the 17-clue theorem). */
export const MIN_SUDOKU_GIVENS = 17;

/** Generates one puzzle with a unique solution and the requested number of givens. */
export function generateSudoku(rng: Rng, options: SudokuOptions): GeneratedSudoku {
  const [lo, hi] = typeof options.givens === 'number' ? [options.givens, options.givens] : options.givens;
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < MIN_SUDOKU_GIVENS || hi > 81 || lo > hi) {
    throw new RangeError(`givens must be integers with ${MIN_SUDOKU_GIVENS} <= min <= max <= 81, got ${lo}..${hi}`);
  }
  const target = rng.int(lo, hi);
  const maxAttempts = options.maxAttempts ?? 50;
  let fewest = 81;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const solution = randomSolvedSudoku(rng);
    const puzzle = solution.slice();
    let givens = 81;
    for (const i of rng.permutation(81)) {
      if (givens === target) break;
      const v = puzzle[i]!;
      puzzle[i] = 0;
      if (solveSudoku(puzzle, { limit: 2 }).solutions === 1) givens--;
      else puzzle[i] = v;
    }
    fewest = Math.min(fewest, givens);
    if (givens !== target) continue;
    return {
      question: Array.from(puzzle, (v) => (v === 0 ? '.' : String(v))).join(''),
      answer: solution.join(''),
      givens,
      rating: solveSudoku(puzzle, { limit: 1 }).guesses,
      attempts: attempt,
    };
  }
  throw new Error(
    `could not blank a sudoku down to ${target} givens with a unique solution in ${maxAttempts} attempts ` +
      `(fewest reached: ${fewest}); ask for more givens or raise maxAttempts`,
  );
}

/** The CSV `source` field of a generated puzzle. */
export function sudokuSource(seed: number, puzzle: GeneratedSudoku): string {
  return `gen-seed${seed}-givens${puzzle.givens}`;
}
