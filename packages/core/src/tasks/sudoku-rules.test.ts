import { describe, expect, it } from 'vitest';
import type { Grid } from './grid.js';
import { parseSudokuString } from './sudoku.js';
import { checkSudokuRules, restoreSudokuGivens } from './sudoku-rules.js';

const PUZZLE = '43.9.......1.8..43......5...8.......3...2..84......6...4..3..122..1.7...1......5.';
const ANSWER = '438952167951786243762314598689471325317625984524893671846539712295147836173268459';

const copy = (g: Grid): Grid => g.map((row) => row.slice());

describe('checkSudokuRules', () => {
  it('accepts a solved grid', () => {
    expect(checkSudokuRules(parseSudokuString(ANSWER))).toEqual({ valid: true });
  });

  it('names the first blank or out-of-range cell, counting from 1', () => {
    const g = parseSudokuString(ANSWER);
    g[4]![6] = 0;
    g[7]![1] = 0;
    expect(checkSudokuRules(g)).toEqual({ valid: false, reason: 'row 5, column 7 is blank' });
    expect(checkSudokuRules(parseSudokuString(PUZZLE))).toEqual({ valid: false, reason: 'row 1, column 3 is blank' });
    const h = parseSudokuString(ANSWER);
    h[0]![0] = 12;
    expect(checkSudokuRules(h)).toEqual({ valid: false, reason: 'row 1, column 1 holds 12, not a digit 1..9' });
  });

  it('names a row that repeats a digit', () => {
    const g = parseSudokuString(ANSWER);
    // Row 3 is 7 6 2 3 1 4 5 9 8: a second 7 in it.
    g[2]![4] = 7;
    expect(checkSudokuRules(g)).toEqual({ valid: false, reason: 'row 3 has two 7s' });
    g[2]![5] = 7;
    expect(checkSudokuRules(g)).toEqual({ valid: false, reason: 'row 3 has three 7s' });
  });

  it('names a column when every row holds 1..9 once', () => {
    const g = parseSudokuString(ANSWER);
    // Swapping two cells of row 1 keeps the row whole and breaks columns 2 and 8.
    [g[0]![1], g[0]![7]] = [g[0]![7]!, g[0]![1]!];
    expect(checkSudokuRules(g)).toEqual({ valid: false, reason: `column 2 has two ${ANSWER[7]}s` });
  });

  it('names a box when every row and column holds 1..9 once', () => {
    // A Latin square by shifting: rows and columns are whole, boxes are not.
    const latin = Array.from({ length: 9 }, (_, r) => Array.from({ length: 9 }, (_, c) => ((r + c) % 9) + 1));
    expect(checkSudokuRules(latin)).toEqual({
      valid: false,
      reason: 'the box of rows 1-3 and columns 1-3 has two 2s',
    });
    // Shifting rows by 3 within a band and by 1 between bands makes the boxes whole too: a solved grid.
    const boxes = Array.from({ length: 9 }, (_, r) =>
      Array.from({ length: 9 }, (_, c) => ((3 * (r % 3) + Math.floor(r / 3) + c) % 9) + 1),
    );
    expect(checkSudokuRules(boxes)).toEqual({ valid: true });
  });

  it('refuses a grid that is not 9x9', () => {
    expect(checkSudokuRules([[1, 2, 3]])).toEqual({ valid: false, reason: 'the answer is not 9x9' });
  });
});

describe('restoreSudokuGivens', () => {
  it('writes the givens back and counts the cells that differed', () => {
    const puzzle = parseSudokuString(PUZZLE);
    const answer = parseSudokuString(ANSWER);
    expect(restoreSudokuGivens(puzzle, answer)).toEqual({ grid: answer, restored: 0 });
    const wrong = copy(answer);
    wrong[0]![0] = 9; // a given (4)
    wrong[0]![1] = 0; // a given (3) left blank
    wrong[0]![2] = 1; // not a given: kept
    const { grid, restored } = restoreSudokuGivens(puzzle, wrong);
    expect(restored).toBe(2);
    expect(grid[0]!.slice(0, 3)).toEqual([4, 3, 1]);
    expect(wrong[0]![0]).toBe(9);
    expect(checkSudokuRules(grid)).toEqual({ valid: false, reason: 'row 1 has two 1s' });
  });
});
