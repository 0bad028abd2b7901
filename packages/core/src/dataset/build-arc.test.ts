import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyArcAugmentation } from '../augment/arc.js';
import { type ArcOffset, decodeArc, parseArcVariantName } from '../tasks/arc.js';
import type { Grid } from '../tasks/grid.js';
import { buildArcDataset, type DatasetSplit, readDataset, readIdentifiers } from './index.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'arc');
const root = mkdtempSync(join(tmpdir(), 'build-arc-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface RawTask {
  train: { input: Grid; output: Grid }[];
  test: { input: Grid; output: Grid }[];
}
const raw = (rel: string): RawTask => JSON.parse(readFileSync(join(FIXTURES, rel), 'utf8'));
const TASKS: Record<string, { task: RawTask; testSet: boolean }> = {
  '6150a2bd': { task: raw('arc-agi-1/training/6150a2bd.json'), testSet: false },
  d631b094: { task: raw('arc-agi-1/training/d631b094.json'), testSet: false },
  '00576224': { task: raw('arc-agi-1/evaluation/00576224.json'), testSet: true },
  '66e6c45b': { task: raw('arc-agi-1/evaluation/66e6c45b.json'), testSet: true },
  Center2: { task: raw('conceptarc/corpus/Center/Center2.json'), testSet: false },
};

/** Where a grid sits on a canvas: its top-left cell is the first non-PAD token (EOS only lies below/right). */
function offsetOf(canvas: Uint8Array): ArcOffset {
  const i = canvas.findIndex((t) => t !== 0);
  return { row: Math.floor(i / 30), col: i % 30 };
}

interface Example {
  input: Grid;
  output: Grid;
  offset: ArcOffset;
}

/** Decodes every puzzle of a split: puzzle identifier -> its examples. */
function puzzlesById(ds: DatasetSplit): Map<number, Example[]> {
  const out = new Map<number, Example[]>();
  for (let p = 0; p < ds.numPuzzles; p++) {
    const examples: Example[] = [];
    for (let e = ds.puzzleIndices[p]!; e < ds.puzzleIndices[p + 1]!; e++) {
      const input = ds.inputs.subarray(e * 900, (e + 1) * 900);
      const label = ds.labels.subarray(e * 900, (e + 1) * 900);
      const offset = offsetOf(input);
      expect(offsetOf(label)).toEqual(offset);
      examples.push({ input: decodeArc(input, offset), output: decodeArc(label, offset), offset });
    }
    expect(out.has(ds.puzzleIdentifiers[p]!)).toBe(false);
    out.set(ds.puzzleIdentifiers[p]!, examples);
  }
  return out;
}

/** The pairs a task contributes to a split, per the reference's split rule. */
function expectedPairs(taskId: string, split: 'train' | 'test'): { input: Grid; output: Grid }[] {
  const { task, testSet } = TASKS[taskId]!;
  if (split === 'test') return testSet ? task.test : [];
  return testSet ? task.train : [...task.train, ...task.test];
}

const quiet = { quiet: true, log: () => {} };

describe('ARC builder', () => {
  it('arc1 without augmentation: split rule, ids from 1, test puzzles, untranslated test split', async () => {
    const out = join(root, 'arc1-plain');
    const s = await buildArcDataset({ task: 'arc1', input: FIXTURES, out, augment: 0, seed: 3, ...quiet });
    const ids = readIdentifiers(out);
    expect(ids).toEqual(['<blank>', '6150a2bd', 'd631b094', '00576224', '66e6c45b', 'Center2']);
    expect(s.splits.map((p) => [p.split, p.examples, p.puzzles, p.groups])).toEqual([
      ['train', 3 + 5 + 2 + 2 + 6, 5, 5],
      ['test', 2, 2, 2],
    ]);
    for (const split of ['train', 'test'] as const) {
      const ds = readDataset(out, split);
      expect(ds.metadata).toMatchObject({ seq_len: 900, vocab_size: 12, num_puzzle_identifiers: 6, pad_id: 0 });
      for (const [id, examples] of puzzlesById(ds)) {
        expect(id).toBeGreaterThanOrEqual(1);
        const want = expectedPairs(ids[id]!, split);
        expect(examples.map(({ input, output }) => ({ input, output }))).toEqual(want);
        if (split === 'test') for (const e of examples) expect(e.offset).toEqual({ row: 0, col: 0 });
      }
    }
    const testPuzzles = JSON.parse(readFileSync(join(out, 'test_puzzles.json'), 'utf8'));
    expect(Object.keys(testPuzzles).sort()).toEqual(['00576224', '66e6c45b']);
    expect(testPuzzles['00576224']).toEqual(TASKS['00576224']!.task);
  });

  it('arc1 with augmentation: every variant is its name applied to the task, unique, translated only in train', async () => {
    const out = join(root, 'arc1-aug');
    await buildArcDataset({ task: 'arc1', input: FIXTURES, out, augment: 30, seed: 5, ...quiet });
    const ids = readIdentifiers(out);
    expect(ids.length).toBe(1 + 5 * 31);
    const train = puzzlesById(readDataset(out, 'train'));
    const test = puzzlesById(readDataset(out, 'test'));
    expect(train.size).toBe(5 * 31);
    expect(test.size).toBe(2 * 31);
    let translated = 0;
    const seen = new Map<string, Set<string>>();
    for (let id = 1; id < ids.length; id++) {
      const v = parseArcVariantName(ids[id]!);
      const aug = (pairs: { input: Grid; output: Grid }[]) =>
        pairs.map((p) => ({ input: applyArcAugmentation(p.input, v), output: applyArcAugmentation(p.output, v) }));
      const trainExamples = train.get(id)!;
      expect(trainExamples.map(({ input, output }) => ({ input, output }))).toEqual(
        aug(expectedPairs(v.taskId, 'train')),
      );
      // One example per puzzle keeps the origin; the test split never moves.
      expect(trainExamples.some((e) => e.offset.row === 0 && e.offset.col === 0)).toBe(true);
      translated += trainExamples.filter((e) => e.offset.row !== 0 || e.offset.col !== 0).length;
      const testExamples = test.get(id) ?? [];
      expect(testExamples.map(({ input, output }) => ({ input, output }))).toEqual(
        aug(expectedPairs(v.taskId, 'test')),
      );
      for (const e of testExamples) expect(e.offset).toEqual({ row: 0, col: 0 });
      const content = JSON.stringify(trainExamples.map(({ input, output }) => [input, output]));
      const set = seen.get(v.taskId) ?? new Set();
      expect(set.has(content)).toBe(false);
      set.add(content);
      seen.set(v.taskId, set);
    }
    expect(translated).toBeGreaterThan(100);
    expect([...seen.values()].map((s) => s.size)).toEqual([31, 31, 31, 31, 31]);
  });

  it('deduplicates variants: a one-colour 1x1 task has only 9 distinct variants', async () => {
    const input = join(root, 'tiny-sets');
    const task = JSON.stringify({ train: [{ input: [[1]], output: [[1]] }], test: [{ input: [[1]], output: [[1]] }] });
    for (const dir of ['arc-agi-1/training', 'arc-agi-1/evaluation', 'conceptarc/corpus/X']) {
      mkdirSync(join(input, dir), { recursive: true });
      writeFileSync(join(input, dir, `${dir.split('/')[1]}.json`), task);
    }
    const s = await buildArcDataset({ task: 'arc1', input, out: join(root, 'tiny'), augment: 20, ...quiet });
    expect(s.splits[0]!.puzzles).toBe(3 * 9);
    expect(s.notes.join(' ')).toContain(
      '3 tasks have fewer than 20 unique variants: training (8), evaluation (8), corpus (8)',
    );
  });

  it('arc2 without its evaluation set: says so and leaves the test split empty', async () => {
    const out = join(root, 'arc2');
    const lines: string[] = [];
    const s = await buildArcDataset({
      task: 'arc2',
      input: FIXTURES,
      out,
      augment: 2,
      quiet: true,
      log: (l) => lines.push(l),
    });
    expect(lines[0]).toContain('warning: The evaluation2 task set was not found');
    expect(s.splits.map((p) => [p.split, p.examples, p.puzzles])).toEqual([
      ['train', 3 * (3 + 6), 6],
      ['test', 0, 0],
    ]);
    const meta = readDataset(out, 'test').metadata;
    expect(meta.build?.notes.join(' ')).toContain('evaluation2 task set was not found');
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toContain('the test split is empty');
    expect(JSON.parse(readFileSync(join(out, 'test_puzzles.json'), 'utf8'))).toEqual({});
  });

  it('is reproducible from the seed; names bad inputs', async () => {
    const a = await buildArcDataset({
      task: 'arc1',
      input: FIXTURES,
      out: join(root, 'r1'),
      augment: 4,
      seed: 9,
      ...quiet,
    });
    const b = await buildArcDataset({
      task: 'arc1',
      input: FIXTURES,
      out: join(root, 'r2'),
      augment: 4,
      seed: 9,
      ...quiet,
    });
    expect(a.examples).toBe(b.examples);
    expect(readDataset(join(root, 'r1'), 'train').inputs).toEqual(readDataset(join(root, 'r2'), 'train').inputs);
    expect(readIdentifiers(join(root, 'r1'))).toEqual(readIdentifiers(join(root, 'r2')));
    await expect(buildArcDataset({ task: 'arc1', input: root, out: join(root, 'x'), ...quiet })).rejects.toThrow(
      `--input ${root} has no training task set (expected the folder ${join(root, 'arc-agi-1/training')})`,
    );
    await expect(
      buildArcDataset({ task: 'arc1', input: FIXTURES, out: join(root, 'x'), onlyIds: ['nope'], ...quiet }),
    ).rejects.toThrow('--only-ids: no task named nope');
    const only = await buildArcDataset({
      task: 'arc1',
      input: FIXTURES,
      out: join(root, 'only'),
      augment: 0,
      onlyIds: ['66e6c45b'],
      ...quiet,
    });
    expect(readIdentifiers(join(root, 'only'))).toEqual(['<blank>', '66e6c45b']);
    expect(only.splits.map((p) => p.examples)).toEqual([2, 1]);
  });

  it('builds any folders of task files (--task arc): all pairs of --input, the test pairs of --test-tasks', async () => {
    const trainDir = join(FIXTURES, 'arc-agi-1/training');
    const testDir = join(FIXTURES, 'arc-agi-1/evaluation');
    const sets = [
      { name: '--input', dir: trainDir, testSet: false, optional: false },
      { name: '--test-tasks', dir: testDir, testSet: true, optional: false },
    ];
    const s = await buildArcDataset({
      task: 'arc',
      input: trainDir,
      out: join(root, 'folders'),
      augment: 0,
      sets,
      ...quiet,
    });
    const ids = readIdentifiers(join(root, 'folders'));
    expect(ids).toEqual(['<blank>', '6150a2bd', 'd631b094', '00576224', '66e6c45b']);
    const train = puzzlesById(readDataset(join(root, 'folders'), 'train'));
    const test = puzzlesById(readDataset(join(root, 'folders'), 'test'));
    for (const [i, id] of ids.entries()) {
      if (i === 0) continue;
      const strip = (es: Example[] | undefined) => (es ?? []).map(({ input, output }) => ({ input, output }));
      const sorted = (ps: { input: Grid; output: Grid }[]) => ps.map((p) => JSON.stringify(p)).sort();
      expect(sorted(strip(train.get(i)))).toEqual(sorted(expectedPairs(id, 'train')));
      expect(strip(test.get(i))).toEqual(expectedPairs(id, 'test'));
    }
    expect(s.splits.map((p) => p.examples)).toEqual([
      ['6150a2bd', 'd631b094', '00576224', '66e6c45b'].reduce((a, id) => a + expectedPairs(id, 'train').length, 0),
      expectedPairs('00576224', 'test').length + expectedPairs('66e6c45b', 'test').length,
    ]);
    await expect(
      buildArcDataset({ task: 'arc', input: trainDir, out: join(root, 'y'), sets: [], ...quiet }),
    ).rejects.toThrow('an arc build needs at least one folder of task files');
    await expect(
      buildArcDataset({
        task: 'arc',
        input: trainDir,
        out: join(root, 'y'),
        sets: [{ name: '--test-tasks', dir: join(root, 'none'), testSet: true, optional: false }],
        ...quiet,
      }),
    ).rejects.toThrow(`--test-tasks ${join(root, 'none')} does not exist (expected a folder of ARC task files)`);
    await expect(
      buildArcDataset({
        task: 'arc',
        input: trainDir,
        out: join(root, 'y'),
        sets: [sets[0]!, { ...sets[0]!, name: '--test-tasks', testSet: true }],
        ...quiet,
      }),
    ).rejects.toThrow('task id 6150a2bd is in both the --input and the --test-tasks task sets');
  });

  it('builds on a smaller canvas (--canvas): same pairs, seq_len side*side, translations inside it', async () => {
    const small = join(root, 'small-tasks');
    mkdirSync(small, { recursive: true });
    const task = {
      train: [
        { input: [[1, 2]], output: [[2, 1]] },
        { input: [[3], [4]], output: [[4], [3]] },
        { input: [[5, 6, 7]], output: [[7, 6, 5]] },
      ],
      test: [{ input: [[8, 9]], output: [[9, 8]] }],
    };
    writeFileSync(join(small, 'tiny.json'), JSON.stringify(task));
    const sets = [{ name: '--test-tasks', dir: small, testSet: true, optional: false }];
    const out = join(root, 'canvas4');
    const s = await buildArcDataset({ task: 'arc', input: small, out, augment: 3, canvas: 4, seed: 5, sets, ...quiet });
    const train = readDataset(out, 'train');
    const test = readDataset(out, 'test');
    expect(train.metadata.seq_len).toBe(16);
    expect(test.metadata.seq_len).toBe(16);
    expect(s.notes.some((n) => n.includes('Canvas 4x4 (16 tokens)'))).toBe(true);
    const ids = readIdentifiers(out);
    for (let p = 0; p < train.numPuzzles; p++) {
      const name = ids[train.puzzleIdentifiers[p]!]!;
      const v = parseArcVariantName(name);
      const aug = { tid: v.tid, perm: v.perm };
      const want = task.train.map((e) => ({
        input: applyArcAugmentation(e.input, aug),
        output: applyArcAugmentation(e.output, aug),
      }));
      const got: { input: Grid; output: Grid }[] = [];
      for (let e = train.puzzleIndices[p]!; e < train.puzzleIndices[p + 1]!; e++) {
        const input = train.inputs.subarray(e * 16, (e + 1) * 16);
        const label = train.labels.subarray(e * 16, (e + 1) * 16);
        const i = input.findIndex((t) => t !== 0);
        const offset = { row: Math.floor(i / 4), col: i % 4 };
        got.push({ input: decodeArc(input, offset), output: decodeArc(label, offset) });
      }
      const key = (x: { input: Grid; output: Grid }[]) => x.map((e) => JSON.stringify(e)).sort();
      expect(key(got)).toEqual(key(want));
    }
    expect(decodeArc(test.labels.subarray(0, 16))).toEqual([[9, 8]]);
    await expect(
      buildArcDataset({ task: 'arc', input: small, out: join(root, 'canvas2'), canvas: 2, sets, ...quiet }),
    ).rejects.toThrow('task tiny: a 1x3 grid does not fit the 2x2 canvas (--canvas 2)');
  });
});
