import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng } from '../util/random.js';
import { applyColourPermutation, invertPermutation, isPermutation, randomColourPermutation } from './colour.js';

describe('colour permutations', () => {
  it('keeps 0 fixed and permutes 1..9 uniformly', () => {
    const rng = new Rng(5);
    const counts = Array.from({ length: 10 }, () => new Array(10).fill(0));
    for (let n = 0; n < 9000; n++) {
      const perm = randomColourPermutation(rng);
      expect(perm[0]).toBe(0);
      expect(isPermutation(perm)).toBe(true);
      perm.forEach((v, i) => {
        counts[i]![v]++;
      });
    }
    // each colour 1..9 lands on each of 1..9 about 1000 times
    for (let i = 1; i <= 9; i++) for (let v = 1; v <= 9; v++) expect(Math.abs(counts[i]![v] - 1000)).toBeLessThan(150);
  });

  it('maps colour c to perm[c] and inverts exactly', () => {
    const perm = [0, 2, 3, 1, 4, 5, 6, 7, 9, 8];
    expect(applyColourPermutation([[0, 1, 2, 3, 8]], perm)).toEqual([[0, 2, 3, 1, 9]]);
    expect(invertPermutation(perm)).toEqual([0, 3, 1, 2, 4, 5, 6, 7, 9, 8]);
    expect(() => invertPermutation([0, 0, 1])).toThrow('not a permutation');
    expect(() => applyColourPermutation([[10]], perm)).toThrow('grid[0][0] = 10 has no mapping');
  });

  it('is undone by the inverse permutation (property)', () => {
    const grid = fc.array(fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 4, maxLength: 4 }), {
      minLength: 1,
      maxLength: 30,
    });
    fc.assert(
      fc.property(grid, fc.integer(), (g, seed) => {
        const perm = randomColourPermutation(new Rng(seed));
        const back = applyColourPermutation(applyColourPermutation(g, perm), invertPermutation(perm));
        expect(back).toEqual(g);
      }),
      { numRuns: 300 },
    );
  });
});
