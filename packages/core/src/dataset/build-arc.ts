// ARC datasets (TRM-SPEC §6.4, after the reference's build_arc_dataset.py). arc1 = ARC-AGI-1 training +
// evaluation + ConceptARC with evaluation as the test set; arc2 = ARC-AGI-2 training + evaluation (when present)
// + ConceptARC with evaluation as the test set. The test set's demonstration pairs go to the train split and its
// test pairs to the test split; every pair of the other tasks goes to train. Each task becomes one group of up to
// 1 + `augment` unique variants (dihedral transform + colour permutation, deduplicated by a hash over all pairs),
// each with its own puzzle identifier (from 1; 0 is "<blank>") shared by its train and test parts. Train examples
// are translated on the canvas except one random example per puzzle; test examples sit at (0, 0).
// Tasks are processed one at a time and streamed to disk, so memory stays flat however large the output.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { type ArcAugmentation, applyArcAugmentation, randomArcAugmentation } from '../augment/arc.js';
import { randomTranslation } from '../augment/translate.js';
import {
  type ArcOffset,
  type ArcTask,
  arcGridFits,
  arcVariantName,
  encodeArc,
  loadArcTaskDir,
  MIN_CANVAS_SIDE,
} from '../tasks/arc.js';
import type { Grid } from '../tasks/grid.js';
import { ARC } from '../tasks/vocab.js';
import { Progress } from '../util/progress.js';
import { Rng } from '../util/random.js';
import { type BuildOptions, type BuildSummary, checkInteger, DEFAULT_SEED, defaultLog } from './build.js';
import { BLANK_IDENTIFIER, IDENTIFIERS_FILE, TEST_PUZZLES_FILE } from './layout.js';
import type { DatasetBuildInfo } from './metadata.js';
import { finishBuild } from './finish-build.js';
import type { SplitWriter } from './split-writer.js';
import { DatasetWriter } from './writer.js';

/** arc1 and arc2 read the task sets of the paper under --input; arc reads any folders of task files (`sets`). */
export type ArcDatasetTask = 'arc1' | 'arc2' | 'arc';

export interface ArcBuildOptions extends BuildOptions {
  task: ArcDatasetTask;
  /** Augmented variants per task besides the original (default 1000, as the reference). */
  augment?: number;
  /** Use at most this many tasks of each task set (first in sorted order), for quick builds. */
  limit?: number;
  /** Use only these task ids. */
  onlyIds?: readonly string[];
  /**
   * For task `arc`: folders of task files given directly (absolute, or relative to `input`). Every pair of a set
   * with `testSet: false` is trained on; a test set's demonstration pairs are trained on and its test pairs form
   * the test split.
   */
  sets?: readonly ArcTaskSet[];
  /**
   * Canvas side (default 30, the reference's 30x30 = 900 tokens). A smaller canvas suits tasks whose grids are all
   * small (8 -> 64 tokens: attention costs ~200x less); every grid must fit it.
   */
  canvas?: number;
}

/** One task set of a build: its folder under --input and whether it is the test set. */
export interface ArcTaskSet {
  name: string;
  /** Folder relative to --input; searched recursively for *.json tasks. */
  dir: string;
  testSet: boolean;
  /** Missing folders of optional sets are reported, not fatal (ARC-AGI-2 evaluation is held out here). */
  optional: boolean;
}

export const ARC_TASK_SETS: Record<Exclude<ArcDatasetTask, 'arc'>, readonly ArcTaskSet[]> = {
  arc1: [
    { name: 'training', dir: 'arc-agi-1/training', testSet: false, optional: false },
    { name: 'evaluation', dir: 'arc-agi-1/evaluation', testSet: true, optional: false },
    { name: 'concept', dir: 'conceptarc/corpus', testSet: false, optional: false },
  ],
  arc2: [
    { name: 'training2', dir: 'arc-agi-2/training', testSet: false, optional: false },
    { name: 'evaluation2', dir: 'arc-agi-2/evaluation', testSet: true, optional: true },
    { name: 'concept', dir: 'conceptarc/corpus', testSet: false, optional: false },
  ],
};

/** The reference's retry budget: at most 5 draws per wanted variant. */
export const ARC_AUGMENT_TRIES_FACTOR = 5;
export const DEFAULT_ARC_AUGMENT = 1000;

export type ArcSplit = 'train' | 'test';

/** One (input, output) pair of a task and the split it goes to. */
export interface ArcExample {
  input: Grid;
  output: Grid;
  split: ArcSplit;
}

/** One variant of a task: its identifiers.json name and its (augmented) examples. */
export interface ArcVariantPlan {
  name: string;
  examples: ArcExample[];
}

const ORIGIN: ArcOffset = { row: 0, col: 0 };

/** The examples of a task with their split; pairs without an output are dropped from train, dummy [[0]] in test. */
export function arcTaskExamples(task: ArcTask, testSet: boolean, onMissing: (what: string) => void): ArcExample[] {
  const examples: ArcExample[] = task.train.map((p) => ({ input: p.input, output: p.output, split: 'train' }));
  task.test.forEach((p, i) => {
    const split: ArcSplit = testSet ? 'test' : 'train';
    if (p.output) examples.push({ input: p.input, output: p.output, split });
    else if (split === 'test') {
      // As the reference: a placeholder keeps the test input in the data; the evaluator scores against the real solution.
      onMissing(`test[${i}] has no output; a [[0]] placeholder label is used`);
      examples.push({ input: p.input, output: [[0]], split });
    } else onMissing(`test[${i}] has no output; the pair is left out of training`);
  });
  return examples;
}

/** Scratch space for one pair: two grids of at most 30x30 plus their shapes. */
const pairBytes = new Uint8Array(2 * (2 + ARC.side * ARC.side));

function putGrid(g: Grid, at: number): number {
  pairBytes[at++] = g.length;
  pairBytes[at++] = g[0]!.length;
  for (const row of g) for (const v of row) pairBytes[at++] = v;
  return at;
}

/** Order-independent identity of a variant: the sorted SHA-256 of each (input, output) pair, shapes included. */
export function arcVariantKey(examples: readonly { input: Grid; output: Grid }[]): string {
  const digests: string[] = [];
  for (const e of examples) {
    const end = putGrid(e.output, putGrid(e.input, 0));
    digests.push(createHash('sha256').update(pairBytes.subarray(0, end)).digest('base64'));
  }
  return digests.sort().join('|');
}

/**
 * The original and then up to `augment` unique augmented variants of a task, drawing at most
 * ARC_AUGMENT_TRIES_FACTOR * augment candidates. Lazy, so that each variant can be written and dropped before the
 * next is made; deterministic given the Rng state (the consumer may draw from the same Rng in between).
 */
export function* arcVariants(
  taskId: string,
  examples: ArcExample[],
  augment: number,
  rng: Rng,
): Generator<ArcVariantPlan, void, undefined> {
  yield { name: taskId, examples };
  if (augment <= 0) return;
  const seen = new Set([arcVariantKey(examples)]);
  for (let t = 0; t < ARC_AUGMENT_TRIES_FACTOR * augment && seen.size < augment + 1; t++) {
    const aug: ArcAugmentation = randomArcAugmentation(rng);
    const mapped = examples.map((e) => ({
      input: applyArcAugmentation(e.input, aug),
      output: applyArcAugmentation(e.output, aug),
      split: e.split,
    }));
    const key = arcVariantKey(mapped);
    if (seen.has(key)) continue;
    seen.add(key);
    yield { name: arcVariantName(taskId, aug.tid, aug.perm), examples: mapped };
  }
}

/** Writes one variant's examples of `split` as a puzzle; train examples are translated but for one. */
function writePuzzle(
  w: SplitWriter,
  examples: ArcExample[],
  id: number,
  translate: boolean,
  rng: Rng,
  side: number,
  taskId: string,
): boolean {
  if (examples.length === 0) return false;
  for (const e of examples)
    for (const g of [e.input, e.output])
      if (!arcGridFits(g, side))
        throw new RangeError(
          `task ${taskId}: a ${g.length}x${g[0]?.length ?? 0} grid does not fit the ${side}x${side} canvas (--canvas ${side})`,
        );
  const fixed = translate ? rng.int(0, examples.length - 1) : -1;
  examples.forEach((e, i) => {
    const offset = translate && i !== fixed ? randomTranslation(rng, [e.input, e.output], side) : ORIGIN;
    w.addExample(encodeArc(e.input, offset, side), encodeArc(e.output, offset, side));
  });
  w.endPuzzle(id);
  return true;
}

interface LoadedSet {
  set: ArcTaskSet;
  path: string;
  tasks: Map<string, ArcTask>;
}

async function loadTaskSets(opts: ArcBuildOptions, notes: string[], log: (l: string) => void): Promise<LoadedSet[]> {
  const loaded: LoadedSet[] = [];
  const owner = new Map<string, string>();
  const wanted = opts.onlyIds ? new Set(opts.onlyIds) : null;
  const sets = opts.task === 'arc' ? (opts.sets ?? []) : ARC_TASK_SETS[opts.task];
  if (opts.task === 'arc' && sets.length === 0) throw new Error('an arc build needs at least one folder of task files');
  for (const set of sets) {
    const path = resolve(opts.input, set.dir);
    if (!existsSync(path)) {
      if (!set.optional)
        throw new Error(
          opts.task === 'arc'
            ? `${set.name} ${path} does not exist (expected a folder of ARC task files)`
            : `--input ${opts.input} has no ${set.name} task set (expected the folder ${path})`,
        );
      const note =
        `The ${set.name} task set was not found (${path}): it is left out, so the test split is empty and ` +
        `${TEST_PUZZLES_FILE} holds no tasks. Add the folder and rebuild to evaluate on it.`;
      notes.push(note);
      log(`warning: ${note}`);
      loaded.push({ set, path, tasks: new Map() });
      continue;
    }
    let ids = [...(await loadArcTaskDir(path)).entries()];
    if (ids.length === 0 && !set.optional)
      throw new Error(`${opts.task === 'arc' ? set.name : `--input ${opts.input}:`} ${path} holds no *.json tasks`);
    for (const [id] of ids) {
      const other = owner.get(id);
      if (other) throw new Error(`task id ${id} is in both the ${other} and the ${set.name} task sets`);
      owner.set(id, set.name);
    }
    if (wanted) ids = ids.filter(([id]) => wanted.has(id));
    if (opts.limit !== undefined) ids = ids.slice(0, opts.limit);
    loaded.push({ set, path, tasks: new Map(ids) });
  }
  if (wanted) {
    const missing = [...wanted].filter((id) => !owner.has(id));
    if (missing.length > 0) throw new Error(`--only-ids: no task named ${missing.join(', ')} in ${opts.input}`);
  }
  if (opts.limit !== undefined) notes.push(`Quick build: at most ${opts.limit} tasks per task set (--limit).`);
  if (wanted) notes.push(`Only the tasks ${[...wanted].join(', ')} (--only-ids).`);
  return loaded;
}

/** What writing the task sets gives the files and the notes. */
interface WrittenTasks {
  /** puzzle names by id; id 0 is the blank */
  identifiers: string[];
  /** the tasks of the test sets, as test_puzzles.json */
  testPuzzles: Record<string, ArcTask>;
  /** tasks with fewer unique variants than asked, "id (n)" */
  short: string[];
  /** pairs without an output, "id what" */
  missing: string[];
}

/**
 * Writes every task of the sets as its variants (the original first): the demonstration pairs to train, the test
 * pairs of a test set to test; each task is one group per split.
 */
async function writeTaskSets(
  sets: readonly LoadedSet[],
  splits: { train: SplitWriter; test: SplitWriter },
  o: { augment: number; side: number; rng: Rng },
  opts: ArcBuildOptions,
): Promise<WrittenTasks> {
  const { train, test } = splits;
  const written: WrittenTasks = { identifiers: [BLANK_IDENTIFIER], testPuzzles: {}, short: [], missing: [] };
  const { identifiers } = written;
  const totalTasks = sets.reduce((a, s) => a + s.tasks.size, 0);
  const progress = new Progress(`${opts.task} tasks`, totalTasks, { unit: 'tasks', silent: opts.quiet });
  for (const { set, tasks } of sets) {
    for (const [taskId, task] of tasks) {
      // Yield between tasks so that Ctrl-C (an aborted signal) can stop the build.
      await new Promise((r) => setImmediate(r));
      if (opts.signal?.aborted) throw new Error('build stopped');
      if (set.testSet) written.testPuzzles[taskId] = task;
      const examples = arcTaskExamples(task, set.testSet, (what) => written.missing.push(`${taskId} ${what}`));
      let variants = 0;
      let inTrain = false;
      let inTest = false;
      for (const plan of arcVariants(taskId, examples, o.augment, o.rng)) {
        const id = identifiers.length;
        identifiers.push(plan.name);
        const part = (s: ArcSplit) => plan.examples.filter((e) => e.split === s);
        inTrain = writePuzzle(train, part('train'), id, true, o.rng, o.side, taskId) || inTrain;
        inTest = writePuzzle(test, part('test'), id, false, o.rng, o.side, taskId) || inTest;
        variants++;
      }
      if (variants < o.augment + 1) written.short.push(`${taskId} (${variants - 1})`);
      if (inTrain) train.endGroup();
      if (inTest) test.endGroup();
      progress.tick(1, { puzzles: identifiers.length - 1, examples: train.examples + test.examples });
    }
  }
  progress.finish();
  return written;
}

/** The README notes of a build from task sets: augmentation, translation, canvas, short tasks, missing outputs. */
function taskSetNotes(augment: number, side: number, written: WrittenTasks): string[] {
  const { short, missing } = written;
  const notes = [
    augment === 0
      ? 'No augmentation: one puzzle per task.'
      : `Each task is a group of its original and up to ${augment} unique variants (dihedral transform + colour ` +
        `permutation of 1..9, at most ${ARC_AUGMENT_TRIES_FACTOR * augment} draws).`,
    'Train examples are translated to a random canvas offset except one random example per puzzle; test examples sit at (0, 0).',
  ];
  if (side !== ARC.side) notes.push(`Canvas ${side}x${side} (${side * side} tokens) instead of the reference's 30x30.`);
  if (short.length > 0)
    notes.push(
      `${short.length} tasks have fewer than ${augment} unique variants: ${short.slice(0, 20).join(', ')}${short.length > 20 ? ', ...' : ''}.`,
    );
  if (missing.length > 0) notes.push(`Pairs without an output: ${missing.join('; ')}.`);
  return notes;
}

/** The metadata of each split of an ARC dataset (the ARC vocabulary, pad and blank id 0). */
function arcSplitMetadata(numPuzzleIdentifiers: number, build: DatasetBuildInfo) {
  return {
    pad_id: 0,
    ignore_label_id: 0,
    blank_identifier_id: 0,
    vocab_size: ARC.vocabSize,
    num_puzzle_identifiers: numPuzzleIdentifiers,
    build,
  };
}

/** Builds an ARC dataset from the task sets under `--input` into `--out`. */
export async function buildArcDataset(opts: ArcBuildOptions): Promise<BuildSummary> {
  const started = performance.now();
  const log = opts.log ?? defaultLog;
  const seed = opts.seed ?? DEFAULT_SEED;
  const augment = opts.augment ?? DEFAULT_ARC_AUGMENT;
  if (opts.task !== 'arc1' && opts.task !== 'arc2' && opts.task !== 'arc')
    throw new RangeError(`--task must be arc1, arc2 or arc for an ARC build (got ${opts.task})`);
  const side = opts.canvas ?? ARC.side;
  checkInteger('--augment', augment, 0, 100_000);
  checkInteger('--canvas', side, MIN_CANVAS_SIDE, ARC.side);
  checkInteger('--limit', opts.limit, 1);
  checkInteger('--seed', seed, 0, 2 ** 32 - 1);
  if (!existsSync(opts.input))
    throw new Error(`--input ${opts.input} does not exist (expected the folder holding the ARC task sets)`);
  const notes: string[] = [];
  const sets = await loadTaskSets(opts, notes, log);
  const rng = new Rng(seed);
  const writer = DatasetWriter.create(resolve(opts.out), { force: opts.force });
  try {
    const train = writer.split('train', side * side);
    const test = writer.split('test', side * side);
    const written = await writeTaskSets(sets, { train, test }, { augment, side, rng }, opts);
    notes.push(...taskSetNotes(augment, side, written));
    const build: DatasetBuildInfo = {
      task: opts.task,
      seed,
      augment,
      subsample: null,
      sources: sets.map((s) => ({ name: s.set.name, path: s.path, items: s.tasks.size })),
      notes,
      created: new Date().toISOString(),
      tool: '@trm/core build-dataset',
    };
    const meta = arcSplitMetadata(written.identifiers.length, build);
    const splits = [train.finish(meta), test.finish(meta)];
    writer.writeJson(IDENTIFIERS_FILE, written.identifiers);
    writer.writeJson(TEST_PUZZLES_FILE, written.testPuzzles);
    return finishBuild(writer, { task: opts.task, splits, notes, build, started, log });
  } catch (err) {
    writer.abort();
    throw err;
  }
}

/** One task of a dataset built from memory: its id and the variants to write, the original first. */
export interface ArcTaskVariants {
  taskId: string;
  /** e.g. `arcVariants(taskId, arcTaskExamples(task, ...), augment, rng)`, or variants chosen elsewhere */
  variants: Iterable<ArcVariantPlan>;
}

export interface ArcVariantsBuildOptions extends Omit<BuildOptions, 'input'> {
  tasks: Iterable<ArcTaskVariants>;
  /** The splits to write (default both). Test-time adaptation needs only `train`, the demonstration pairs. */
  splits?: readonly ArcSplit[];
  /** Label of the build record; arc1 and arc2 share the ARC token layout (default arc1). */
  task?: ArcDatasetTask;
  /** Where the tasks came from, for the build record and README (default "in-memory tasks"). */
  source?: string;
  /**
   * One group per variant instead of one per task. The training sampler takes one puzzle per group and epoch, so
   * this makes every variant's row see examples in every epoch, which is what fitting new rows needs.
   */
  groupPerVariant?: boolean;
  /** Canvas side (default 30); a model's is arcCanvasSide(config.seq_len). */
  canvas?: number;
}

/**
 * Builds an ARC dataset from tasks held in memory, with exactly the variants given (no task sets on disk, no
 * drawing of augmentations here): the batch solver writes the variants it will run, so that their names, and
 * with them the puzzle rows that adaptation fits, match. Puzzle ids follow the order given, from 1; train
 * examples are translated but for one per puzzle, test examples sit at (0, 0), as in buildArcDataset.
 */
export async function buildArcDatasetFromVariants(opts: ArcVariantsBuildOptions): Promise<BuildSummary> {
  const started = performance.now();
  const log = opts.log ?? defaultLog;
  const seed = opts.seed ?? DEFAULT_SEED;
  const task = opts.task ?? 'arc1';
  const wanted = new Set<ArcSplit>(opts.splits ?? ['train', 'test']);
  const side = opts.canvas ?? ARC.side;
  checkInteger('seed', seed, 0, 2 ** 32 - 1);
  checkInteger('canvas', side, MIN_CANVAS_SIDE, ARC.side);
  for (const s of wanted)
    if (s !== 'train' && s !== 'test') throw new RangeError(`splits must hold "train" and/or "test" (got ${s})`);
  if (wanted.size === 0) throw new RangeError('splits is empty, expected "train" and/or "test"');
  const rng = new Rng(seed);
  const writer = DatasetWriter.create(resolve(opts.out), { force: opts.force });
  try {
    const splits = new Map<ArcSplit, SplitWriter>(
      (['train', 'test'] as const).filter((s) => wanted.has(s)).map((s) => [s, writer.split(s, side * side)]),
    );
    const identifiers = [BLANK_IDENTIFIER];
    const names = new Set(identifiers);
    let tasks = 0;
    let augment = 0;
    for (const { taskId, variants } of opts.tasks) {
      if (opts.signal?.aborted) throw new Error('build stopped');
      const touched = new Set<ArcSplit>();
      let count = 0;
      for (const plan of variants) {
        if (names.has(plan.name)) throw new RangeError(`variant name ${plan.name} is given twice`);
        names.add(plan.name);
        const id = identifiers.length;
        identifiers.push(plan.name);
        for (const [split, w] of splits) {
          const part = plan.examples.filter((e) => e.split === split);
          if (writePuzzle(w, part, id, split === 'train', rng, side, taskId)) {
            if (opts.groupPerVariant) w.endGroup();
            else touched.add(split);
          }
        }
        count++;
      }
      if (count === 0) throw new RangeError(`task ${taskId} has no variants, expected at least its original`);
      for (const s of touched) splits.get(s)!.endGroup();
      augment = Math.max(augment, count - 1);
      tasks++;
    }
    const notes = [
      `Built from ${tasks} task(s) with the variants given (up to ${augment} augmented ones per task besides the original).`,
      'Train examples are translated to a random canvas offset except one random example per puzzle; test examples sit at (0, 0).',
    ];
    if (!wanted.has('test')) notes.push('Only the train split (the demonstration pairs) was written.');
    if (!wanted.has('train')) notes.push('Only the test split was written.');
    if (opts.groupPerVariant) notes.push('Each variant is its own group (not one group per task).');
    if (side !== ARC.side)
      notes.push(`Canvas ${side}x${side} (${side * side} tokens) instead of the reference's 30x30.`);
    const build: DatasetBuildInfo = {
      task,
      seed,
      augment,
      subsample: null,
      sources: [{ name: 'tasks', path: opts.source ?? 'in-memory tasks', items: tasks }],
      notes,
      created: new Date().toISOString(),
      tool: '@trm/core buildArcDatasetFromVariants',
    };
    const meta = arcSplitMetadata(identifiers.length, build);
    const summaries = [...splits.values()].map((w) => w.finish(meta));
    writer.writeJson(IDENTIFIERS_FILE, identifiers);
    return finishBuild(writer, { task, splits: summaries, notes, build, started, log });
  } catch (err) {
    writer.abort();
    throw err;
  }
}
