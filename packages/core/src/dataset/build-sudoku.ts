// Sudoku dataset (TRM-SPEC §6.2): 81 tokens per puzzle, labels = the full solution. `--augment N` adds N random
// validity-preserving shuffles per train puzzle (digits, transpose, bands/rows, stacks/columns), each its own
// puzzle in the original's group, as the reference does with `--num-aug`.
import { isValidSudokuSolution, sudokuErrors } from '../check/sudoku.js';
import { applySudokuShuffle, randomSudokuShuffle } from '../augment/sudoku.js';
import type { Grid } from '../tasks/grid.js';
import { encodeSudoku, parseSudokuString } from '../tasks/sudoku.js';
import { SUDOKU } from '../tasks/vocab.js';
import type { BuildSummary } from './build.js';
import { buildCsvDataset, type CsvBuildOptions, type CsvTaskSpec } from './build-csv.js';

interface SudokuRow {
  puzzle: Grid;
  solution: Grid;
}

export const sudokuTaskSpec: CsvTaskSpec<SudokuRow> = {
  task: 'sudoku',
  seqLen: SUDOKU.seqLen,
  vocabSize: SUDOKU.vocabSize,
  maxAugment: 1_000_000,
  parse(row, where) {
    const puzzle = parseSudokuString(row.question, `${where} question`);
    const solution = parseSudokuString(row.answer, `${where} answer`);
    if (!isValidSudokuSolution(puzzle, solution))
      throw new Error(
        `${where}: the answer does not solve the question: ${sudokuErrors(puzzle, solution, 3).join('; ')}`,
      );
    return { puzzle, solution };
  },
  variants({ puzzle, solution }, augment, rng, emit) {
    emit(encodeSudoku(puzzle), encodeSudoku(solution));
    for (let k = 0; k < augment; k++) {
      const s = randomSudokuShuffle(rng);
      emit(encodeSudoku(applySudokuShuffle(puzzle, s)), encodeSudoku(applySudokuShuffle(solution, s)));
    }
  },
  describeAugment: (n) =>
    n === 0
      ? 'No augmentation: one puzzle per train row.'
      : `Each train row is a group of ${n + 1} puzzles: the original and ${n} random shuffles (digits, transpose, bands, rows, stacks, columns).`,
};

/** Builds the sudoku dataset from `--input` (train CSV or its folder) into `--out`. */
export function buildSudokuDataset(opts: CsvBuildOptions): Promise<BuildSummary> {
  return buildCsvDataset(sudokuTaskSpec, opts);
}
