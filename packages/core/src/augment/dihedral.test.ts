import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DIHEDRAL_INVERSE, dihedral, inverseDihedral } from './dihedral.js';

// Expected values are numpy's: np.rot90(a, k), np.fliplr, np.flipud, a.T, np.fliplr(np.rot90(a)).
const A = [
  [1, 2],
  [3, 4],
];
const B = [
  [1, 2, 3],
  [4, 5, 6],
];

const grids = fc.tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 })).chain(([h, w]) =>
  fc.array(fc.array(fc.integer({ min: 0, max: 9 }), { minLength: w, maxLength: w }), {
    minLength: h,
    maxLength: h,
  }),
);

describe('dihedral', () => {
  it('follows the reference numbering on a 2x2 grid', () => {
    expect(dihedral(A, 0)).toEqual(A);
    expect(dihedral(A, 1)).toEqual([
      [2, 4],
      [1, 3],
    ]);
    expect(dihedral(A, 2)).toEqual([
      [4, 3],
      [2, 1],
    ]);
    expect(dihedral(A, 3)).toEqual([
      [3, 1],
      [4, 2],
    ]);
    expect(dihedral(A, 4)).toEqual([
      [2, 1],
      [4, 3],
    ]);
    expect(dihedral(A, 5)).toEqual([
      [3, 4],
      [1, 2],
    ]);
    expect(dihedral(A, 6)).toEqual([
      [1, 3],
      [2, 4],
    ]);
    expect(dihedral(A, 7)).toEqual([
      [4, 2],
      [3, 1],
    ]);
  });

  it('handles non-square grids (rot90 of 2x3 is 3x2)', () => {
    expect(dihedral(B, 1)).toEqual([
      [3, 6],
      [2, 5],
      [1, 4],
    ]);
    expect(dihedral(B, 3)).toEqual([
      [4, 1],
      [5, 2],
      [6, 3],
    ]);
    expect(dihedral(B, 6)).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    expect(dihedral(B, 7)).toEqual([
      [6, 3],
      [5, 2],
      [4, 1],
    ]);
    expect(dihedral(B, 2)).toEqual([
      [6, 5, 4],
      [3, 2, 1],
    ]);
  });

  it('composes like the group: rot90 twice is rot180, 7 is fliplr after rot90', () => {
    fc.assert(
      fc.property(grids, (g) => {
        expect(dihedral(dihedral(g, 1), 1)).toEqual(dihedral(g, 2));
        expect(dihedral(dihedral(g, 1), 2)).toEqual(dihedral(g, 3));
        expect(dihedral(dihedral(g, 1), 4)).toEqual(dihedral(g, 7));
        expect(dihedral(dihedral(g, 4), 5)).toEqual(dihedral(g, 2));
      }),
      { numRuns: 100 },
    );
  });

  it('is undone by its inverse for all 8 transforms (property)', () => {
    fc.assert(
      fc.property(grids, fc.integer({ min: 0, max: 7 }), (g, tid) => {
        expect(inverseDihedral(dihedral(g, tid), tid)).toEqual(g);
        expect(dihedral(g, DIHEDRAL_INVERSE[tid]!)).toEqual(inverseDihedral(g, tid));
      }),
      { numRuns: 400 },
    );
    for (let tid = 0; tid < 8; tid++) expect(inverseDihedral(dihedral(B, tid), tid)).toEqual(B);
  });

  it('gives 8 distinct results on an asymmetric grid and works on any cell type', () => {
    const seen = new Set(Array.from({ length: 8 }, (_, t) => JSON.stringify(dihedral(B, t))));
    expect(seen.size).toBe(8);
    expect(dihedral([['a', 'b']], 1)).toEqual([['b'], ['a']]);
    expect(() => dihedral(A, 8)).toThrow('dihedral: tid must be 0..7 (got 8)');
  });
});
