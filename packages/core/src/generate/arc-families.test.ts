import { describe, expect, it } from 'vitest';
import { dihedral } from '../augment/dihedral.js';
import { applyFamily, flipH, flipV, gravityDown, mapColours, rotate90, rotate180, transpose } from './arc-families.js';

// A 3x4 grid with no symmetry, so that every rule moves something.
const G = [
  [1, 2, 0, 3],
  [0, 4, 5, 0],
  [6, 0, 0, 7],
];

describe('ARC task family rules on a hand-made grid', () => {
  it('flips and turns', () => {
    expect(flipH(G)).toEqual([
      [3, 0, 2, 1],
      [0, 5, 4, 0],
      [7, 0, 0, 6],
    ]);
    expect(flipV(G)).toEqual([
      [6, 0, 0, 7],
      [0, 4, 5, 0],
      [1, 2, 0, 3],
    ]);
    expect(rotate180(G)).toEqual([
      [7, 0, 0, 6],
      [0, 5, 4, 0],
      [3, 0, 2, 1],
    ]);
    // Clockwise: the left column read bottom-up becomes the top row.
    expect(rotate90(G)).toEqual([
      [6, 0, 1],
      [0, 4, 2],
      [0, 5, 0],
      [7, 0, 3],
    ]);
    expect(transpose(G)).toEqual([
      [1, 0, 6],
      [2, 4, 0],
      [0, 5, 0],
      [3, 0, 7],
    ]);
  });

  it('agrees with the dihedral transforms of the augmentations (clockwise = numpy rot270)', () => {
    expect(flipH(G)).toEqual(dihedral(G, 4));
    expect(flipV(G)).toEqual(dihedral(G, 5));
    expect(rotate180(G)).toEqual(dihedral(G, 2));
    expect(rotate90(G)).toEqual(dihedral(G, 3));
    expect(transpose(G)).toEqual(dihedral(G, 6));
    expect(rotate90(rotate90(G))).toEqual(rotate180(G));
  });

  it('maps colours and keeps the background', () => {
    const mapping = [0, 2, 1, 3, 4, 5, 6, 7, 9, 8];
    expect(mapColours([[0, 1, 2, 8, 3]], mapping)).toEqual([[0, 2, 1, 9, 3]]);
    expect(applyFamily('colour-map', [[1, 0]], mapping)).toEqual([[2, 0]]);
    expect(() => applyFamily('colour-map', [[1]])).toThrow(/colour-map needs the task colour mapping/);
  });

  it('drops cells to the bottom of their column in order', () => {
    expect(
      gravityDown([
        [1, 0, 3],
        [0, 2, 0],
        [4, 0, 0],
        [0, 5, 0],
      ]),
    ).toEqual([
      [0, 0, 0],
      [0, 0, 0],
      [1, 2, 0],
      [4, 5, 3],
    ]);
    expect(applyFamily('gravity-down', [[7], [0]])).toEqual([[0], [7]]);
  });
});
