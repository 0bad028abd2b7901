import { describe, expect, it } from 'vitest';
import { GridError, validateGrid } from './grid.js';

const digits = { field: 'grid', minValue: 0, maxValue: 9 };

function errorOf(fn: () => unknown): GridError {
  try {
    fn();
  } catch (e) {
    if (e instanceof GridError) return e;
    throw e;
  }
  throw new Error('expected a GridError');
}

describe('validateGrid', () => {
  it('returns an equal copy of a valid grid', () => {
    const input = [
      [1, 2, 3],
      [4, 5, 6],
    ];
    const out = validateGrid(input, digits);
    expect(out).toEqual(input);
    expect(out).not.toBe(input);
    expect(out[0]).not.toBe(input[0]);
  });

  it('names the field and the position of the first bad cell', () => {
    const g = Array.from({ length: 9 }, () => new Array(9).fill(1));
    g[3]![5] = 12;
    const e = errorOf(() => validateGrid(g, digits));
    expect(e.message).toBe('grid[3][5] must be an integer 0..9 (got 12)');
    expect(e.field).toBe('grid[3][5]');
  });

  it('rejects non-integers, non-numbers and negatives', () => {
    expect(() => validateGrid([[1.5]], digits)).toThrow('grid[0][0] must be an integer 0..9 (got 1.5)');
    expect(() => validateGrid([[0, '3']], digits)).toThrow('grid[0][1] must be an integer 0..9 (got "3")');
    expect(() => validateGrid([[0], [null]], digits)).toThrow('grid[1][0] must be an integer 0..9 (got null)');
    expect(() => validateGrid([[-1]], digits)).toThrow('grid[0][0] must be an integer 0..9 (got -1)');
    expect(() => validateGrid([[Number.NaN]], digits)).toThrow('grid[0][0] must be an integer 0..9 (got NaN)');
  });

  it('rejects values that are not arrays of arrays', () => {
    expect(() => validateGrid('123', digits)).toThrow('grid must be an array of rows (got "123")');
    expect(() => validateGrid({ rows: 1 }, digits)).toThrow('grid must be an array of rows (got an object)');
    expect(() => validateGrid(undefined, { ...digits, field: 'body.grid' })).toThrow(
      'body.grid must be an array of rows (got undefined)',
    );
    expect(() => validateGrid([[1], 2], digits)).toThrow('grid[1] must be an array of cells (got 2)');
  });

  it('rejects empty grids and empty rows', () => {
    expect(() => validateGrid([], digits)).toThrow('grid is empty, expected at least one row');
    expect(() => validateGrid([[]], digits)).toThrow('grid row 0 is empty, expected at least one cell');
  });

  it('rejects ragged rows with the row number and both widths', () => {
    const g = Array.from({ length: 9 }, () => new Array(9).fill(0));
    g[2] = new Array(7).fill(0);
    expect(() => validateGrid(g, digits)).toThrow('grid row 2 has 7 cells, expected 9');
  });

  it('enforces exact sizes and the largest side', () => {
    const opts = { ...digits, rows: 9, cols: 9 };
    expect(() => validateGrid([[1, 2]], opts)).toThrow('grid has 1 rows, expected 9');
    const eightWide = Array.from({ length: 9 }, () => new Array(8).fill(0));
    expect(() => validateGrid(eightWide, opts)).toThrow('grid row 0 has 8 cells, expected 9');
    const tall = Array.from({ length: 31 }, () => [0]);
    expect(() => validateGrid(tall, { ...digits, maxSide: 30 })).toThrow('grid has 31 rows, expected at most 30');
    const wide = [new Array(31).fill(0)];
    expect(() => validateGrid(wide, { ...digits, maxSide: 30 })).toThrow(
      'grid row 0 has 31 cells, expected at most 30',
    );
    expect(
      validateGrid(
        Array.from({ length: 30 }, () => new Array(30).fill(9)),
        { ...digits, maxSide: 30 },
      ),
    ).toHaveLength(30);
  });
});
