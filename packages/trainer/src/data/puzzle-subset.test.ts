import { describe, expect, it } from 'vitest';
import { puzzleSubset } from './puzzle-subset.js';
import { fromMemory } from './split.js';

// 3 groups: g0 = puzzles 0,1 (2 and 1 examples), g1 = puzzle 2 (2 examples), g2 = puzzle 3 (1 example); seq_len 1,
// the token is the example index.
const split = fromMemory({
  metadata: { seq_len: 1, pad_id: 0, ignore_label_id: 0, blank_identifier_id: 0 },
  inputs: Uint8Array.from([0, 1, 2, 3, 4, 5]),
  labels: Uint8Array.from([10, 11, 12, 13, 14, 15]),
  puzzleIndices: Int32Array.from([0, 2, 3, 5, 6]),
  groupIndices: Int32Array.from([0, 2, 3, 4]),
  puzzleIdentifiers: Int32Array.from([7, 8, 9, 10]),
  numExamples: 6,
});

describe('puzzleSubset', () => {
  it('keeps the chosen puzzles with renumbered indices, drops empty groups and reads through', () => {
    const s = puzzleSubset(split, (p) => p !== 0 && p !== 2);
    expect(Array.from(s.puzzleIndices)).toEqual([0, 1, 2]);
    expect(Array.from(s.groupIndices)).toEqual([0, 1, 2]);
    expect(Array.from(s.puzzleIdentifiers)).toEqual([8, 10]);
    expect(s.numExamples).toBe(2);
    expect(Array.from(s.readRows(0, 2).inputs)).toEqual([2, 5]);
    expect(Array.from(s.readRows(1, 1).labels)).toEqual([15]);
  });

  it('reads ranges that cross puzzles', () => {
    const s = puzzleSubset(split, (p) => p !== 1);
    expect(Array.from(s.puzzleIndices)).toEqual([0, 2, 4, 5]);
    expect(Array.from(s.groupIndices)).toEqual([0, 1, 2, 3]);
    expect(Array.from(s.readRows(1, 3).inputs)).toEqual([1, 3, 4]);
    expect(() => s.readRows(4, 2)).toThrow(/outside/);
  });
});
