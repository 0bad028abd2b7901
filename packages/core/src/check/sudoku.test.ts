import { describe, expect, it } from 'vitest';
import { parseSudokuString } from '../tasks/sudoku.js';
import { isValidSudokuSolution, sudokuErrors } from './sudoku.js';

const PUZZLE = parseSudokuString('43.9.......1.8..43......5...8.......3...2..84......6...4..3..122..1.7...1......5.');
const ANSWER = parseSudokuString('438952167951786243762314598689471325317625984524893671846539712295147836173268459');

const copy = (g: number[][]) => g.map((r) => [...r]);

describe('sudoku checker', () => {
  it('accepts the solution and rejects the unsolved puzzle', () => {
    expect(sudokuErrors(PUZZLE, ANSWER)).toEqual([]);
    expect(isValidSudokuSolution(PUZZLE, ANSWER)).toBe(true);
    expect(isValidSudokuSolution(PUZZLE, PUZZLE)).toBe(false);
    expect(sudokuErrors(PUZZLE, PUZZLE, 2)).toEqual([
      'cell [0][2] is 0, expected a digit 1..9',
      'cell [0][4] is 0, expected a digit 1..9',
    ]);
  });

  it('reports a changed given', () => {
    const puzzle = copy(PUZZLE);
    puzzle[0]![0] = 5; // the answer has 4 there
    expect(sudokuErrors(puzzle, ANSWER)).toEqual(['cell [0][0] is 4 but the puzzle gives 5']);
  });

  it('reports repeated digits per row, column and box', () => {
    // swapping two cells of a row keeps the row valid but breaks two columns and (here) two boxes
    const bad = copy(ANSWER);
    [bad[0]![0], bad[0]![3]] = [bad[0]![3]!, bad[0]![0]!];
    expect(sudokuErrors(parseSudokuString('.'.repeat(81)), bad)).toEqual([
      'column 0 holds 9 more than once',
      'column 3 holds 4 more than once',
      'box 0 holds 9 more than once',
      'box 1 holds 4 more than once',
    ]);
    const row = copy(ANSWER);
    row[4]![4] = row[4]![5]!;
    expect(sudokuErrors(parseSudokuString('.'.repeat(81)), row)).toContain('row 4 holds 5 more than once');
  });

  it('rejects wrong shapes', () => {
    expect(sudokuErrors(PUZZLE, [[1]])).toEqual(['solution must be 9x9']);
    expect(isValidSudokuSolution([], ANSWER)).toBe(false);
  });
});
