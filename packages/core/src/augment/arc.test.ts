import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arcVariantName, parseArcVariantName } from '../tasks/arc.js';
import { Rng } from '../util/random.js';
import { applyArcAugmentation, inverseArcAugmentation, randomArcAugmentation } from './arc.js';

const grids = fc.tuple(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 30 })).chain(([h, w]) =>
  fc.array(fc.array(fc.integer({ min: 0, max: 9 }), { minLength: w, maxLength: w }), {
    minLength: h,
    maxLength: h,
  }),
);

describe('ARC variant augmentation', () => {
  it('maps colours first, then the dihedral transform', () => {
    // perm swaps 1 and 2; tid 1 = np.rot90
    const aug = { tid: 1, perm: [0, 2, 1, 3, 4, 5, 6, 7, 8, 9] };
    expect(
      applyArcAugmentation(
        [
          [1, 2],
          [0, 3],
        ],
        aug,
      ),
    ).toEqual([
      [1, 3],
      [2, 0],
    ]);
  });

  it('is undone by its inverse, also through the variant name (property)', () => {
    fc.assert(
      fc.property(grids, fc.integer(), (g, seed) => {
        const aug = randomArcAugmentation(new Rng(seed));
        expect(inverseArcAugmentation(applyArcAugmentation(g, aug), aug)).toEqual(g);
        const parsed = parseArcVariantName(arcVariantName('task', aug.tid, aug.perm));
        expect(inverseArcAugmentation(applyArcAugmentation(g, aug), parsed)).toEqual(g);
      }),
      { numRuns: 300 },
    );
  });

  it('draws every transform id', () => {
    const rng = new Rng(11);
    const tids = new Set(Array.from({ length: 200 }, () => randomArcAugmentation(rng).tid));
    expect([...tids].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});
