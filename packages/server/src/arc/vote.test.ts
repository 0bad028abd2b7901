// Voting and the way back from a variant's canvas to the original task, on hand-made cases: ties on votes broken
// by the mean halt probability, grids of different shapes kept apart, empty canvases casting no vote, and every
// dihedral transform with a colour permutation undone exactly.
import { applyArcAugmentation, type ArcAugmentation, ARC, encodeArc, type Grid } from '@trm/core';
import { describe, expect, it } from 'vitest';
import { predictionGrid } from './prediction.js';
import { gridKey, VoteBox } from './vote.js';

const A: Grid = [
  [1, 2, 3],
  [4, 5, 6],
];
const ROW: Grid = [[1, 2]];
const COLUMN: Grid = [[1], [2]];
const PERM = [0, 3, 1, 2, 5, 4, 7, 6, 9, 8];

describe('VoteBox', () => {
  it('ranks by votes, then by mean halt probability; shapes count as different grids', () => {
    const box = new VoteBox();
    for (const p of [0.1, 0.2, 0.3]) box.add(ROW, p);
    for (const p of [0.9, 0.8, 0.7]) box.add(COLUMN, p);
    box.add(A, 1);
    box.add(null, 0.99);
    expect(box.predictions).toBe(8);
    expect(box.empty).toBe(1);
    const ranked = box.ranked();
    expect(ranked.map((c) => [c.grid, c.votes])).toEqual([
      [COLUMN, 3],
      [ROW, 3],
      [A, 1],
    ]);
    expect(ranked[0]!.meanHalt).toBeCloseTo(0.8, 12);
    expect(ranked[1]!.meanHalt).toBeCloseTo(0.2, 12);
    expect(box.ranked(2)).toHaveLength(2);
    // A fourth vote for the row beats the column's higher confidence.
    box.add([[1, 2]], 0);
    expect(box.ranked(1)[0]).toMatchObject({ grid: ROW, votes: 4 });
    expect(box.ranked(1)[0]!.meanHalt).toBeCloseTo(0.15, 12);
  });

  it('keeps the first-seen grid first when votes and confidence are equal', () => {
    const box = new VoteBox();
    box.add(COLUMN, 0.5);
    box.add(ROW, 0.5);
    expect(box.ranked().map((c) => c.grid)).toEqual([COLUMN, ROW]);
    expect(new VoteBox().ranked()).toEqual([]);
    expect(gridKey(ROW)).toBe('1x2:1,2');
    expect(gridKey(COLUMN)).toBe('2x1:1;2');
  });
});

describe('predictionGrid', () => {
  it('undoes every dihedral transform with a colour permutation', () => {
    for (let tid = 0; tid < 8; tid++) {
      const aug: ArcAugmentation = { tid, perm: PERM };
      const seen = applyArcAugmentation(A, aug);
      expect(predictionGrid(encodeArc(seen), aug), `tid ${tid}`).toEqual(A);
    }
  });

  it('crops at the first non-colour token and answers null for a canvas without a grid', () => {
    const canvas = encodeArc(A);
    canvas[2 * ARC.side + 0] = 5; // a colour below the EOS row does not extend the crop
    expect(predictionGrid(canvas, { tid: 0, perm: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] })).toEqual(A);
    const wide = encodeArc([[1, 2, 3, 4]]);
    // transpose back to a column, then colour c -> the colour that PERM sends to c
    expect(predictionGrid(wide, { tid: 6, perm: PERM })).toEqual([[2], [3], [1], [5]]);
    expect(predictionGrid(new Uint8Array(900), { tid: 0, perm: PERM })).toBeNull();
    const eosFirst = encodeArc(A);
    eosFirst[0] = ARC.EOS;
    expect(predictionGrid(eosFirst, { tid: 0, perm: PERM })).toBeNull();
  });

  it('votes the right answer back together from disagreeing variants', () => {
    const box = new VoteBox();
    const augs: ArcAugmentation[] = [0, 1, 4, 6].map((tid) => ({ tid, perm: PERM }));
    // Three variants predict A in their own frame; one predicts A shifted by a colour.
    augs.forEach((aug, i) => {
      const frame = applyArcAugmentation(i === 3 ? A.map((r) => r.map((c) => (c % 9) + 1)) : A, aug);
      box.add(predictionGrid(encodeArc(frame), aug), 0.5);
    });
    expect(box.ranked().map((c) => [c.grid, c.votes])).toEqual([
      [A, 3],
      [A.map((r) => r.map((c) => (c % 9) + 1)), 1],
    ]);
  });
});
