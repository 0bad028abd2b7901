import { describe, expect, it } from 'vitest';
import { GridError } from './grid.js';
import { decodeSudoku, encodeSudoku, parseSudokuString, sudokuToString, validateSudokuGrid } from './sudoku.js';

const PUZZLE = '43.9.......1.8..43......5...8.......3...2..84......6...4..3..122..1.7...1......5.';
const ANSWER = '438952167951786243762314598689471325317625984524893671846539712295147836173268459';

describe('sudoku codec', () => {
  it('parses the CSV form row-major with blanks as 0', () => {
    const g = parseSudokuString(PUZZLE);
    expect(g).toHaveLength(9);
    expect(g[0]).toEqual([4, 3, 0, 9, 0, 0, 0, 0, 0]);
    expect(g[8]).toEqual([1, 0, 0, 0, 0, 0, 0, 5, 0]);
    expect(parseSudokuString(PUZZLE.replaceAll('.', '0'))).toEqual(g);
    expect(sudokuToString(g)).toBe(PUZZLE);
  });

  it('encodes blank as 1 and digit d as d + 1', () => {
    const tokens = encodeSudoku(parseSudokuString(PUZZLE));
    expect(tokens).toBeInstanceOf(Uint8Array);
    expect(Array.from(tokens.slice(0, 9))).toEqual([5, 4, 1, 10, 1, 1, 1, 1, 1]);
    expect(Array.from(encodeSudoku(parseSudokuString(ANSWER)).slice(0, 3))).toEqual([5, 4, 9]);
    expect(decodeSudoku(tokens)).toEqual(parseSudokuString(PUZZLE));
  });

  it('decodes PAD and out-of-vocabulary predictions as blanks', () => {
    const tokens = new Array(81).fill(2);
    tokens[0] = 0;
    tokens[1] = 11;
    tokens[2] = 1;
    tokens[3] = 10;
    const g = decodeSudoku(tokens);
    expect(g[0]!.slice(0, 5)).toEqual([0, 0, 0, 9, 1]);
    expect(() => decodeSudoku(new Uint8Array(80))).toThrow('sudoku tokens: got 80, expected 81');
  });

  it('rejects bad strings and grids with the position', () => {
    expect(() => parseSudokuString(PUZZLE.slice(1))).toThrow('sudoku has 80 characters, expected 81');
    expect(() => parseSudokuString(`x${PUZZLE.slice(1)}`, 'question')).toThrow(
      `question character 0 (row 0, col 0) is "x", expected '1'..'9', '.' or '0'`,
    );
    expect(() => encodeSudoku([[1]])).toThrow(GridError);
    const bad = parseSudokuString(ANSWER);
    bad[4]![7] = 10;
    expect(() => encodeSudoku(bad)).toThrow('grid[4][7] must be an integer 0..9 (got 10)');
    expect(() => validateSudokuGrid(bad, 'body.grid')).toThrow('body.grid[4][7] must be an integer 0..9 (got 10)');
    expect(() => validateSudokuGrid([[1, 2, 3]])).toThrow('grid has 1 rows, expected 9');
  });
});
