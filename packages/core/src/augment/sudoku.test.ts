import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isValidSudokuSolution } from '../check/sudoku.js';
import { parseSudokuString } from '../tasks/sudoku.js';
import { Rng } from '../util/random.js';
import {
  applySudokuShuffle,
  IDENTITY_SUDOKU_SHUFFLE,
  invertSudokuShuffle,
  randomSudokuShuffle,
  type SudokuShuffle,
} from './sudoku.js';

const PUZZLE = parseSudokuString('43.9.......1.8..43......5...8.......3...2..84......6...4..3..122..1.7...1......5.');
const ANSWER = parseSudokuString('438952167951786243762314598689471325317625984524893671846539712295147836173268459');

const anyGrid = fc.array(fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 9, maxLength: 9 }), {
  minLength: 9,
  maxLength: 9,
});

describe('sudoku shuffle', () => {
  it('draws band-preserving row/column permutations and a digit permutation fixing 0', () => {
    const rng = new Rng(1);
    let transposed = 0;
    for (let n = 0; n < 1000; n++) {
      const s = randomSudokuShuffle(rng);
      expect(s.digits[0]).toBe(0);
      expect([...s.digits].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      for (const p of [s.rows, s.cols]) {
        expect([...p].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
        for (let band = 0; band < 3; band++) {
          const b = Math.floor(p[band * 3]! / 3);
          expect(p.slice(band * 3, band * 3 + 3).every((x) => Math.floor(x / 3) === b)).toBe(true);
        }
      }
      if (s.transpose) transposed++;
    }
    expect(Math.abs(transposed - 500)).toBeLessThan(70);
  });

  it('applies transpose, then out[i][j] = in[rows[i]][cols[j]], then the digit map', () => {
    const s: SudokuShuffle = {
      digits: [0, 2, 1, 3, 4, 5, 6, 7, 8, 9],
      transpose: true,
      rows: [3, 4, 5, 0, 1, 2, 6, 7, 8],
      cols: [1, 0, 2, 3, 4, 5, 6, 7, 8],
    };
    const out = applySudokuShuffle(ANSWER, s);
    // out[0][0] = digits[transpose(in)[3][1]] = digits[in[1][3]] = digits[7] = 7
    expect(out[0]![0]).toBe(ANSWER[1]![3]);
    // out[0][1] = digits[in[0][3]] = digits[9]; out[2][2] = digits[in[2][5]] = digits[4]
    expect(out[0]![1]).toBe(9);
    expect(out[2]![2]).toBe(4);
    // digits 1 and 2 swap: in[0][6] = 1 is transposed to (6, 0), and rows[6] = 6, cols[1] = 0 put it at out[6][1]
    expect(ANSWER[0]![6]).toBe(1);
    expect(out[6]![1]).toBe(2);
    expect(applySudokuShuffle(ANSWER, IDENTITY_SUDOKU_SHUFFLE)).toEqual(ANSWER);
  });

  it('is undone by its inverse (property over any 9x9 grid)', () => {
    fc.assert(
      fc.property(anyGrid, fc.integer(), (g, seed) => {
        const s = randomSudokuShuffle(new Rng(seed));
        expect(applySudokuShuffle(applySudokuShuffle(g, s), invertSudokuShuffle(s))).toEqual(g);
        expect(applySudokuShuffle(applySudokuShuffle(g, invertSudokuShuffle(s)), s)).toEqual(g);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps a valid solution valid for the shuffled puzzle', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const s = randomSudokuShuffle(new Rng(seed));
        expect(isValidSudokuSolution(applySudokuShuffle(PUZZLE, s), applySudokuShuffle(ANSWER, s))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
