import { describe, expect, it } from 'vitest';
import { IGNORE_LABEL } from './batch.js';
import { fromMemory, type SplitSource } from './split.js';
import { testBatches } from './test-batches.js';
import { TrainSampler } from './train-sampler.js';

/**
 * A split whose tokens say where they come from: example row = [group, puzzle, example within puzzle]; labels
 * [0 (PAD, ignored), 5, 6]. `shape[g]` lists the example counts of group g's puzzles.
 */
function taggedSplit(shape: number[][]): SplitSource {
  const inputs: number[] = [];
  const labels: number[] = [];
  const puzzleIndices = [0];
  const groupIndices = [0];
  const ids: number[] = [];
  let puzzle = 0;
  shape.forEach((puzzles, g) => {
    for (const n of puzzles) {
      for (let e = 0; e < n; e++) {
        inputs.push(g, puzzle, e);
        labels.push(0, 5, 6);
      }
      puzzleIndices.push(puzzleIndices.at(-1)! + n);
      ids.push(100 + puzzle);
      puzzle++;
    }
    groupIndices.push(puzzle);
  });
  return fromMemory({
    metadata: { seq_len: 3, pad_id: 0, ignore_label_id: 0, blank_identifier_id: 0 },
    inputs: Uint8Array.from(inputs),
    labels: Uint8Array.from(labels),
    puzzleIndices: Int32Array.from(puzzleIndices),
    groupIndices: Int32Array.from(groupIndices),
    puzzleIdentifiers: Int32Array.from(ids),
    numExamples: inputs.length / 3,
  });
}

/** [group, puzzle, example] of each row. */
function rowsOf(b: { size: number; inputs: Int32Array }): [number, number, number][] {
  return Array.from({ length: b.size }, (_, i) => [b.inputs[3 * i]!, b.inputs[3 * i + 1]!, b.inputs[3 * i + 2]!]);
}

describe('TrainSampler', () => {
  // 10 groups; group g has 2 puzzles (variants) with 1 + (g % 3) examples each.
  const shape = Array.from({ length: 10 }, (_, g) => [1 + (g % 3), 1 + (g % 3)]);
  const split = taggedSplit(shape);

  it('fills every batch exactly with all examples of one random puzzle per group, truncating the last', () => {
    const s = new TrainSampler(split, 4, 1);
    for (let k = 0; k < 20; k++) {
      const b = s.next();
      expect(b.size).toBe(4);
      const rows = rowsOf(b);
      // runs of one puzzle; within a run, distinct examples; puzzle ids from the table
      const runs = new Map<number, number[]>();
      rows.forEach(([g, p, e], i) => {
        expect(Math.floor(p / 2)).toBe(g); // puzzle belongs to its group
        expect(b.puzzleIds[i]).toBe(100 + p);
        runs.set(p, [...(runs.get(p) ?? []), e]);
      });
      const puzzles = [...runs.keys()];
      puzzles.forEach((p, j) => {
        const ex = runs.get(p)!;
        expect(new Set(ex).size).toBe(ex.length);
        const full = 1 + (Math.floor(p / 2) % 3);
        // only the last puzzle of a batch (or the first, continuing nothing) may be cut short
        if (j < puzzles.length - 1) expect(ex.length).toBe(full);
      });
      expect(Array.from(b.labels)).toEqual([
        IGNORE_LABEL,
        5,
        6,
        IGNORE_LABEL,
        5,
        6,
        IGNORE_LABEL,
        5,
        6,
        IGNORE_LABEL,
        5,
        6,
      ]);
    }
  });

  it('uses each group at most once per epoch and drops the incomplete final batch', () => {
    // 10 groups, 20 examples per epoch-pick at most; batch 4: groups are consumed until fewer remain than a batch.
    const s = new TrainSampler(split, 4, 7);
    const groupsByEpoch = new Map<number, number[]>();
    for (let k = 0; k < 30; k++) {
      const b = s.next();
      const epoch = s.epochs;
      const groups = [...new Set(rowsOf(b).map((r) => r[0]))];
      groupsByEpoch.set(epoch, [...(groupsByEpoch.get(epoch) ?? []), ...groups]);
    }
    expect(groupsByEpoch.size).toBeGreaterThan(2);
    for (const [epoch, groups] of groupsByEpoch) {
      if (epoch === s.epochs) continue; // the current epoch may be unfinished
      expect(new Set(groups).size).toBe(groups.length);
      // the dropped remainder holds fewer examples than a batch: at most 3 groups (>= 1 example each) unused
      expect(groups.length).toBeGreaterThanOrEqual(10 - 3);
    }
  });

  it('is reproducible from the seed and resumes exactly from a saved cursor', () => {
    const a = new TrainSampler(split, 4, 3);
    const b = new TrainSampler(split, 4, 3);
    const c = new TrainSampler(split, 4, 4);
    const seqA = Array.from({ length: 12 }, () => rowsOf(a.next()));
    expect(Array.from({ length: 12 }, () => rowsOf(b.next()))).toEqual(seqA);
    expect(Array.from({ length: 12 }, () => rowsOf(c.next()))).not.toEqual(seqA);

    const first = new TrainSampler(split, 4, 3);
    for (let k = 0; k < 7; k++) first.next();
    const cursor = JSON.parse(JSON.stringify(first.cursor()));
    const resumed = new TrainSampler(split, 4, 3);
    resumed.restore(cursor);
    expect(Array.from({ length: 5 }, () => rowsOf(resumed.next()))).toEqual(seqA.slice(7));
  });

  it('refuses a split that cannot fill one batch per epoch', () => {
    expect(() => new TrainSampler(taggedSplit([[1], [1]]), 4, 0)).toThrow(/at least one batch/);
    expect(() => new TrainSampler(taggedSplit([[5], [1]]), 4, 0).next()).not.toThrow();
    const s = new TrainSampler(taggedSplit([[2, 2], [1]]), 4, 0);
    expect(() => s.next()).toThrow(/use a smaller batch/);
  });
});

describe('testBatches', () => {
  it('visits every example once in order and pads the last batch', () => {
    const split = taggedSplit([[2], [3, 1]]);
    const batches = [...testBatches(split, 4)];
    expect(batches.map((t) => [t.start, t.count])).toEqual([
      [0, 4],
      [4, 2],
    ]);
    expect(rowsOf(batches[0]!.batch)).toEqual([
      [0, 0, 0],
      [0, 0, 1],
      [1, 1, 0],
      [1, 1, 1],
    ]);
    const last = batches[1]!.batch;
    expect(rowsOf(last)).toEqual([
      [1, 1, 2],
      [1, 2, 0],
      [0, 0, 0],
      [0, 0, 0],
    ]);
    expect(Array.from(last.puzzleIds)).toEqual([101, 102, 0, 0]);
    expect(Array.from(last.labels.subarray(6))).toEqual(new Array(6).fill(IGNORE_LABEL));
    expect([...testBatches(split, 4, 3)].map((t) => t.count)).toEqual([3]);
  });
});
