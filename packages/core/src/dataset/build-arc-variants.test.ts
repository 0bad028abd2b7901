// buildArcDatasetFromVariants: a dataset holding exactly the variants given, under their names, in the order given,
// with only the splits asked for (the batch ARC solver writes the demonstration pairs of the variants it adapts).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ArcTask, decodeArc } from '../tasks/arc.js';
import { Rng } from '../util/random.js';
import {
  type ArcExample,
  arcTaskExamples,
  arcVariants,
  buildArcDatasetFromVariants,
  readDataset,
  readIdentifiers,
} from './index.js';

const root = mkdtempSync(join(tmpdir(), 'build-arc-variants-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const quiet = { quiet: true, log: () => {} };

const TASKS: Record<string, ArcTask> = {
  flip: {
    train: [
      { input: [[1, 2]], output: [[2, 1]] },
      { input: [[3, 0, 4]], output: [[4, 0, 3]] },
    ],
    test: [{ input: [[5, 6]] }],
  },
  grow: {
    train: [{ input: [[7]], output: [[7, 7]] }],
    test: [{ input: [[8]] }, { input: [[9]] }],
  },
};

function plans(augment: number) {
  const rng = new Rng(11);
  return Object.entries(TASKS).map(([taskId, task]) => ({
    taskId,
    variants: [
      ...arcVariants(
        taskId,
        arcTaskExamples(task, true, () => {}),
        augment,
        rng,
      ),
    ],
  }));
}

/** The examples of each puzzle of a split, decoded where they sit (train examples may be translated). */
function decoded(dir: string, split: 'train' | 'test'): Map<number, { input: number[][]; output: number[][] }[]> {
  const ds = readDataset(dir, split);
  const out = new Map<number, { input: number[][]; output: number[][] }[]>();
  for (let p = 0; p < ds.numPuzzles; p++) {
    const rows = [];
    for (let e = ds.puzzleIndices[p]!; e < ds.puzzleIndices[p + 1]!; e++) {
      const input = ds.inputs.subarray(e * 900, (e + 1) * 900);
      const first = input.findIndex((t) => t !== 0);
      const at = { row: Math.floor(first / 30), col: first % 30 };
      rows.push({ input: decodeArc(input, at), output: decodeArc(ds.labels.subarray(e * 900, (e + 1) * 900), at) });
    }
    out.set(ds.puzzleIdentifiers[p]!, rows);
  }
  return out;
}

const pairs = (examples: ArcExample[], split: 'train' | 'test') =>
  examples.filter((e) => e.split === split).map(({ input, output }) => ({ input, output }));

describe('buildArcDatasetFromVariants', () => {
  it('writes the given variants under their names; only the train split when asked', async () => {
    const given = plans(3);
    const out = join(root, 'train-only');
    const s = await buildArcDatasetFromVariants({ out, tasks: given, splits: ['train'], seed: 2, ...quiet });
    const names = given.flatMap((t) => t.variants.map((v) => v.name));
    expect(names).toHaveLength(8);
    expect(readIdentifiers(out)).toEqual(['<blank>', ...names]);
    expect(existsSync(join(out, 'test'))).toBe(false);
    expect(s.splits.map((p) => [p.split, p.examples, p.puzzles, p.groups])).toEqual([['train', 4 * 2 + 4 * 1, 8, 2]]);
    const train = decoded(out, 'train');
    const all = given.flatMap((t) => t.variants);
    for (const [i, v] of all.entries()) expect(train.get(i + 1)).toEqual(pairs(v.examples, 'train'));
    expect(readDataset(out, 'train').metadata).toMatchObject({ num_puzzle_identifiers: 9, total_groups: 2 });
  });

  it('writes the test split at the origin with the placeholder labels, and refuses repeated names', async () => {
    const given = plans(1);
    const out = join(root, 'both');
    const s = await buildArcDatasetFromVariants({ out, tasks: given, ...quiet });
    expect(s.splits.map((p) => [p.split, p.examples, p.puzzles])).toEqual([
      ['train', 2 * 2 + 2 * 1, 4],
      ['test', 2 * 1 + 2 * 2, 4],
    ]);
    const test = decoded(out, 'test');
    given
      .flatMap((t) => t.variants)
      .forEach((v, i) => {
        expect(test.get(i + 1)).toEqual(pairs(v.examples, 'test'));
        for (const e of test.get(i + 1)!) expect(e.output).toEqual([[0]]);
      });
    const ds = readDataset(out, 'test');
    expect(ds.inputs[0]).toBe(5 + 2); // the first test input's first cell sits at (0, 0)

    const twice = [given[0]!, { taskId: 'again', variants: [given[0]!.variants[0]!] }];
    await expect(buildArcDatasetFromVariants({ out: join(root, 'x'), tasks: twice, ...quiet })).rejects.toThrow(
      'variant name flip is given twice',
    );
    expect(existsSync(join(root, 'x'))).toBe(false);
  });

  it('makes each variant its own group when asked, so that every row is sampled in every epoch', async () => {
    const out = join(root, 'per-variant');
    const s = await buildArcDatasetFromVariants({
      out,
      tasks: plans(2),
      splits: ['train'],
      groupPerVariant: true,
      ...quiet,
    });
    expect(s.splits.map((p) => [p.puzzles, p.groups])).toEqual([[6, 6]]);
    expect(Array.from(readDataset(out, 'train').groupIndices)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
});
