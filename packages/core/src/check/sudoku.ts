// Sudoku solution checking: a solution is valid when it is a complete 9x9 grid in which every row, column and
// 3x3 box holds 1..9 once each, and it keeps every given (non-blank) cell of the puzzle.
import type { Grid } from '../tasks/grid.js';

/**
 * Everything wrong with `solution` as an answer to `puzzle`, as readable sentences (empty when valid). Stops after
 * `limit` problems.
 */
export function sudokuErrors(puzzle: Grid, solution: Grid, limit = Number.POSITIVE_INFINITY): string[] {
  const errors: string[] = [];
  const is9x9 = (g: Grid) => g.length === 9 && g.every((row) => Array.isArray(row) && row.length === 9);
  if (!is9x9(puzzle)) errors.push('puzzle must be 9x9');
  if (!is9x9(solution)) errors.push('solution must be 9x9');
  if (errors.length > 0) return errors.slice(0, limit);

  const add = (msg: string) => {
    errors.push(msg);
    return errors.length >= limit;
  };
  for (let r = 0; r < 9; r++) {
    for (let c = 0; c < 9; c++) {
      const v = solution[r]![c]!;
      const given = puzzle[r]![c]!;
      if (!Number.isInteger(v) || v < 1 || v > 9) {
        if (add(`cell [${r}][${c}] is ${v}, expected a digit 1..9`)) return errors;
      } else if (given !== 0 && given !== v) {
        if (add(`cell [${r}][${c}] is ${v} but the puzzle gives ${given}`)) return errors;
      }
    }
  }
  // One bit per digit for each row, column and box; a digit seen twice in a unit is reported once per unit.
  const units: [string, (k: number, i: number) => [number, number]][] = [
    ['row', (k, i) => [k, i]],
    ['column', (k, i) => [i, k]],
    ['box', (k, i) => [3 * Math.floor(k / 3) + Math.floor(i / 3), 3 * (k % 3) + (i % 3)]],
  ];
  for (const [name, cell] of units) {
    for (let k = 0; k < 9; k++) {
      let seen = 0;
      let repeated = 0;
      for (let i = 0; i < 9; i++) {
        const [r, c] = cell(k, i);
        const v = solution[r]![c]!;
        if (!Number.isInteger(v) || v < 1 || v > 9) continue;
        const bit = 1 << v;
        if (seen & bit) repeated |= bit;
        seen |= bit;
      }
      for (let d = 1; d <= 9; d++) {
        if (repeated & (1 << d) && add(`${name} ${k} holds ${d} more than once`)) return errors;
      }
    }
  }
  return errors;
}

/** True when `solution` is a complete valid sudoku that agrees with every given of `puzzle`. */
export function isValidSudokuSolution(puzzle: Grid, solution: Grid): boolean {
  return sudokuErrors(puzzle, solution, 1).length === 0;
}
