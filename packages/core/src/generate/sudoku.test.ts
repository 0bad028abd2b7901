import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Rng } from '../util/random.js';
import { generateSudoku, sudokuSource } from './sudoku.js';
import { randomSolvedSudoku, solveSudoku } from './sudoku-solver.js';

// The shared data folder sits beside the repository (TRM_DATA_DIR overrides).
const DATA = process.env.TRM_DATA_DIR ?? fileURLToPath(new URL('../../../../../shared/data', import.meta.url));

const digits = (s: string): number[] => Array.from(s, (c) => (c === '.' ? 0 : Number(c)));

/** Rows, columns and boxes each hold 1..9 exactly once. */
function isCompleteGrid(g: ArrayLike<number>): boolean {
  for (let k = 0; k < 9; k++) {
    const row = new Set<number>();
    const col = new Set<number>();
    const box = new Set<number>();
    for (let j = 0; j < 9; j++) {
      row.add(g[k * 9 + j]!);
      col.add(g[j * 9 + k]!);
      box.add(g[(Math.floor(k / 3) * 3 + Math.floor(j / 3)) * 9 + (k % 3) * 3 + (j % 3)]!);
    }
    for (const s of [row, col, box]) if (s.size !== 9 || s.has(0)) return false;
  }
  return true;
}

describe('sudoku solver', () => {
  it('solves hard shared puzzles uniquely to their published answers', () => {
    const lines = readFileSync(join(DATA, 'sudoku/test.csv'), 'utf8').split('\n').slice(1, 21);
    for (const line of lines) {
      const [, q, a] = line.split(',') as [string, string, string];
      const r = solveSudoku(digits(q));
      expect(r.solutions).toBe(1);
      expect(r.solution!.join('')).toBe(a);
      expect(r.guesses).toBeGreaterThan(0);
    }
  });

  it('counts up to the limit and detects clashing givens', () => {
    expect(solveSudoku(new Uint8Array(81)).solutions).toBe(2);
    expect(solveSudoku(new Uint8Array(81), { limit: 5 }).solutions).toBe(5);
    const clash = new Uint8Array(81);
    clash[0] = 5;
    clash[8] = 5;
    expect(solveSudoku(clash)).toEqual({ solutions: 0, guesses: 0 });
    // A complete grid with two cells of a swappable pair blanked stays unique; blanking a whole "deadly
    // rectangle" (a,b / b,a in two rows, two columns, two boxes) has exactly two solutions.
    const grid = digits('123456789456789123789123456214365897365897214897214365531642978642978531978531642');
    expect(isCompleteGrid(grid)).toBe(true);
    const rect = [...grid];
    for (const i of [0, 1, 27, 28]) rect[i] = 0; // 1,2 / 2,1 in rows 0 and 3, columns 0 and 1
    expect(solveSudoku(rect, { limit: 10 }).solutions).toBe(2);
    expect(() => solveSudoku([1, 2, 3])).toThrow(/3 cells, expected 81/);
  });

  it('makes valid random complete grids that differ by seed', () => {
    const a = randomSolvedSudoku(new Rng(1));
    const b = randomSolvedSudoku(new Rng(2));
    expect(isCompleteGrid(a)).toBe(true);
    expect(isCompleteGrid(b)).toBe(true);
    expect(a.join('')).not.toBe(b.join(''));
    expect(randomSolvedSudoku(new Rng(1))).toEqual(a);
  });
});

describe('sudoku generator', () => {
  it.each([79, 50, 30, 25])('makes unique puzzles with exactly %i givens that agree with their answer', (givens) => {
    const rng = new Rng(givens);
    for (let k = 0; k < 5; k++) {
      const p = generateSudoku(rng, { givens });
      expect(p.question).toMatch(/^[1-9.]{81}$/);
      expect(p.question.replace(/\./g, '')).toHaveLength(givens);
      expect(p.givens).toBe(givens);
      expect(isCompleteGrid(digits(p.answer))).toBe(true);
      for (let i = 0; i < 81; i++) if (p.question[i] !== '.') expect(p.question[i]).toBe(p.answer[i]);
      const r = solveSudoku(digits(p.question));
      expect(r.solutions).toBe(1);
      expect(r.solution!.join('')).toBe(p.answer);
      expect(p.rating).toBe(solveSudoku(digits(p.question), { limit: 1 }).guesses);
    }
  });

  it('draws the givens from a range, is reproducible, and names the source', () => {
    const a = Array.from(
      { length: 30 },
      (
        (rng) => () =>
          generateSudoku(rng, { givens: [30, 40] })
      )(new Rng(9)),
    );
    const counts = a.map((p) => p.givens);
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(30);
    expect(Math.max(...counts)).toBeLessThanOrEqual(40);
    expect(new Set(counts).size).toBeGreaterThan(3);
    expect(generateSudoku(new Rng(9), { givens: [30, 40] })).toEqual(a[0]);
    expect(sudokuSource(9, a[0]!)).toBe(`gen-seed9-givens${a[0]!.givens}`);
  });

  it('says so when the target cannot be reached', () => {
    expect(() => generateSudoku(new Rng(1), { givens: 17, maxAttempts: 2 })).toThrow(
      /could not blank a sudoku down to 17 givens .* in 2 attempts \(fewest reached: \d+\)/,
    );
    expect(() => generateSudoku(new Rng(1), { givens: 16 })).toThrow(/givens must be integers with 17 <= min/);
    expect(() => generateSudoku(new Rng(1), { givens: [40, 30] })).toThrow(/got 40..30/);
  });
});
