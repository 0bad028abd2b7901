// The one-row table: the mean of the trained rows (the blank row 0 left out), in float64.
import { describe, expect, it } from 'vitest';
import { oneRowTable } from './one-row-table.js';

const table = (rows: number[][]) => ({ shape: [rows.length, rows[0]!.length], data: Float32Array.from(rows.flat()) });

describe('oneRowTable', () => {
  it('averages rows 1..N-1 when row 0 is <blank>', () => {
    const t = oneRowTable(
      table([
        [100, -100],
        [1, 2],
        [3, 6],
        [5, 1],
      ]),
      ['<blank>', 'a', 'b', 'c'],
    );
    expect(Array.from(t.row)).toEqual([3, 3]);
    expect(t).toMatchObject({ first: 1, last: 3, rows: 4 });
  });

  it('averages every row when row 0 is a named puzzle', () => {
    const t = oneRowTable(
      table([
        [3, 0],
        [1, 2],
        [5, 4],
      ]),
      ['x', 'a', 'b'],
    );
    expect(Array.from(t.row)).toEqual([3, 2]);
    expect(t.first).toBe(0);
  });

  it('keeps a lone blank row', () => {
    const t = oneRowTable(table([[0.25, -1.5]]), ['<blank>']);
    expect(Array.from(t.row)).toEqual([0.25, -1.5]);
    expect(t).toMatchObject({ first: 0, last: 0, rows: 1 });
  });

  it('sums in float64: a million float32 rows of 0.1 average to 0.1 within float32 rounding', () => {
    const rows = 1_000_001;
    const data = new Float32Array(rows).fill(0.1);
    data[0] = 0;
    const names = Array.from({ length: rows }, (_, i) => (i === 0 ? '<blank>' : `p${i}`));
    const t = oneRowTable({ shape: [rows, 1], data }, names);
    expect(t.row[0]).toBe(Math.fround(0.1));
  });

  it('refuses identifiers that do not name every row', () => {
    expect(() => oneRowTable(table([[1], [2]]), ['<blank>'])).toThrow(
      'identifiers.json names 1 rows but the puzzle table has 2',
    );
  });
});
