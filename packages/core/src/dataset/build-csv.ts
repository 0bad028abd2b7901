// The build flow shared by the CSV tasks (sudoku, maze), after the reference's build_sudoku_dataset.py and
// build_maze_dataset.py: a seeded subsample of the train rows, each kept row becomes one group holding the
// original puzzle and its augmented copies (one example per puzzle), the test CSV is converted without
// augmentation, every puzzle identifier is 0 (one shared puzzle embedding).
import { resolve } from 'node:path';
import { Progress } from '../util/progress.js';
import { Rng } from '../util/random.js';
import { type BuildOptions, type BuildSummary, checkInteger, DEFAULT_SEED, defaultLog } from './build.js';
import { findTrainTestCsv, type PuzzleCsvRow, readPuzzleCsv } from './csv.js';
import { BLANK_IDENTIFIER, IDENTIFIERS_FILE } from './layout.js';
import type { DatasetBuildInfo } from './metadata.js';
import { finishBuild } from './finish-build.js';
import type { SplitSummary } from './split-writer.js';
import { DatasetWriter } from './writer.js';

export interface CsvBuildOptions extends BuildOptions {
  /** Keep this many train rows, drawn with the seed (default: all). */
  subsample?: number;
  /** Augmentation count; its meaning is the task's (see each builder). Default 0. */
  augment?: number;
}

/** What a CSV task contributes to the shared flow. */
export interface CsvTaskSpec<P> {
  task: 'sudoku' | 'maze';
  seqLen: number;
  vocabSize: number;
  /** Largest accepted --augment. */
  maxAugment: number;
  /** Parses and validates one row; `where` ("file:line") starts every error message. */
  parse(row: PuzzleCsvRow, where: string): P;
  /** Calls `emit` for each puzzle of the row's group: the original first, then `augment`-driven copies. */
  variants(parsed: P, augment: number, rng: Rng, emit: (input: Uint8Array, label: Uint8Array) => void): void;
  /** One sentence on what --augment did, for the notes. */
  describeAugment(augment: number): string;
}

export async function buildCsvDataset<P>(spec: CsvTaskSpec<P>, opts: CsvBuildOptions): Promise<BuildSummary> {
  const started = performance.now();
  const log = opts.log ?? defaultLog;
  const seed = opts.seed ?? DEFAULT_SEED;
  const augment = opts.augment ?? 0;
  checkInteger('--augment', augment, 0, spec.maxAugment);
  checkInteger('--subsample', opts.subsample, 1);
  checkInteger('--seed', seed, 0, 2 ** 32 - 1);
  const sources = findTrainTestCsv(opts.input);
  const trainRows = await readPuzzleCsv(sources.train, () => {});
  const testRows = await readPuzzleCsv(sources.test, () => {});
  const rng = new Rng(seed);
  const notes: string[] = [spec.describeAugment(augment), 'The test split is the test CSV, not augmented.'];

  // Which train rows to keep: a seeded sample without replacement, written in file order.
  let keep: Uint8Array | null = null;
  let kept = trainRows;
  if (opts.subsample !== undefined && opts.subsample < trainRows) {
    keep = new Uint8Array(trainRows);
    for (const i of rng.sample(trainRows, opts.subsample)) keep[i] = 1;
    kept = opts.subsample;
    notes.push(`Train rows: a seeded sample of ${kept} of the ${trainRows} rows in ${sources.train}.`);
  } else if (opts.subsample !== undefined) {
    notes.push(`--subsample ${opts.subsample} is not below the ${trainRows} train rows: all rows are used.`);
  }

  const writer = DatasetWriter.create(resolve(opts.out), { force: opts.force });
  try {
    const build: DatasetBuildInfo = {
      task: spec.task,
      seed,
      augment,
      subsample: opts.subsample ?? null,
      sources: [
        { name: 'train', path: resolve(sources.train), items: kept },
        { name: 'test', path: resolve(sources.test), items: testRows },
      ],
      notes,
      created: new Date().toISOString(),
      tool: '@trm/core build-dataset',
    };
    const splits: SplitSummary[] = [];
    for (const [split, path, total, aug] of [
      ['train', sources.train, kept, augment],
      ['test', sources.test, testRows, 0],
    ] as const) {
      const w = writer.split(split, spec.seqLen);
      const progress = new Progress(`${spec.task} ${split}`, total, { unit: 'puzzles', silent: opts.quiet });
      const emit = (input: Uint8Array, label: Uint8Array) => {
        w.addExample(input, label);
        w.endPuzzle(0);
      };
      await readPuzzleCsv(path, (row, i) => {
        if (opts.signal?.aborted) throw new Error('build stopped');
        if (split === 'train' && keep && !keep[i]) return;
        spec.variants(spec.parse(row, `${path}:${row.line}`), aug, rng, emit);
        w.endGroup();
        progress.tick(1, { examples: w.examples });
      });
      progress.finish();
      splits.push(
        w.finish({
          pad_id: 0,
          ignore_label_id: 0,
          blank_identifier_id: 0,
          vocab_size: spec.vocabSize,
          num_puzzle_identifiers: 1,
          build,
        }),
      );
    }
    writer.writeJson(IDENTIFIERS_FILE, [BLANK_IDENTIFIER]);
    return finishBuild(writer, { task: spec.task, splits, notes, build, started, log });
  } catch (err) {
    writer.abort();
    throw err;
  }
}
