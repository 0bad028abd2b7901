import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeArc, encodeArc } from '../tasks/arc.js';
import type { Grid } from '../tasks/grid.js';
import { Rng } from '../util/random.js';
import { inverseTranslateCanvas, randomTranslation, translateCanvas } from './translate.js';

const grid = (h: number, w: number): Grid => Array.from({ length: h }, (_, r) => new Array(w).fill(r % 10));

const gridArb = fc.tuple(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 30 })).chain(([h, w]) =>
  fc.array(fc.array(fc.integer({ min: 0, max: 9 }), { minLength: w, maxLength: w }), {
    minLength: h,
    maxLength: h,
  }),
);

describe('ARC translation', () => {
  it('draws offsets where both grids of a pair fit, covering the whole range', () => {
    const rng = new Rng(3);
    const pair = [grid(5, 28), grid(27, 2)]; // max height 27, max width 28
    const rows = new Set<number>();
    const cols = new Set<number>();
    for (let i = 0; i < 500; i++) {
      const o = randomTranslation(rng, pair);
      rows.add(o.row);
      cols.add(o.col);
    }
    expect([...rows].sort()).toEqual([0, 1, 2, 3]);
    expect([...cols].sort()).toEqual([0, 1, 2]);
    expect(randomTranslation(rng, [grid(30, 30)])).toEqual({ row: 0, col: 0 });
    expect(() => randomTranslation(rng, [])).toThrow('expected at least one grid');
  });

  it('translating a canvas equals encoding at the offset, and the inverse recovers the grid (property)', () => {
    fc.assert(
      fc.property(gridArb, fc.integer(), (g, seed) => {
        const offset = randomTranslation(new Rng(seed), [g]);
        const moved = translateCanvas(encodeArc(g), offset);
        expect(moved).toEqual(encodeArc(g, offset));
        expect(decodeArc(moved, offset)).toEqual(g);
        expect(decodeArc(inverseTranslateCanvas(moved, offset))).toEqual(g);
      }),
      { numRuns: 300 },
    );
  });

  it('restores the canvas exactly when nothing was pushed off it', () => {
    const g = grid(4, 6);
    const offset = { row: 10, col: 20 }; // EOS row 14 and column 26 stay inside
    expect(inverseTranslateCanvas(translateCanvas(encodeArc(g), offset), offset)).toEqual(encodeArc(g));
    expect(() => translateCanvas(encodeArc(g), { row: -1, col: 0 })).toThrow('offset (-1, 0) must be integers');
  });
});
