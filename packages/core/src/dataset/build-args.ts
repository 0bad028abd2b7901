// The `build-dataset` command line: flags, defaults, help text and the dispatch to the builders. Kept apart from
// the process wiring in cli/build-dataset.ts so that tests can call it directly.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../command/run-command.js';
import { MIN_CANVAS_SIDE } from '../tasks/arc.js';
import { ARC } from '../tasks/vocab.js';
import { buildArcDataset, DEFAULT_ARC_AUGMENT } from './build-arc.js';
import { type BuildOptions, type BuildSummary, DATASET_TASKS, type DatasetTask, DEFAULT_SEED } from './build.js';
import { buildMazeDataset } from './build-maze.js';
import { buildSudokuDataset } from './build-sudoku.js';

export const BUILD_DATASET_USAGE = `Usage: pnpm --filter @trm/core build-dataset --task <task> --input <path> --out <dir> [options]

Builds a dataset in the reference TRM on-disk format (<out>/{train,test}/dataset.json + all__*.npy,
<out>/identifiers.json, <out>/README.md; ARC also <out>/test_puzzles.json). The output is written to a
temporary folder beside <out> and moved into place only when complete.

  --task <task>        sudoku | maze | arc1 | arc2 | arc (required)
  --input <path>       sudoku, maze: the train CSV (the test split is read from test.csv beside it) or the
                       folder holding train.csv and test.csv.
                       arc1, arc2: the folder holding the task sets: arc-agi-1/{training,evaluation},
                       arc-agi-2/{training,evaluation}, conceptarc/corpus (required)
                       arc: a folder of ARC task files (searched recursively) whose pairs are all trained on,
                       e.g. tasks made by \`generate --task arc-simple\`
  --test-tasks <dir>   arc: a folder of tasks whose demonstration pairs are trained on and whose test pairs
                       form the test split (as arc1 treats the ARC-AGI-1 evaluation set); optional
  --out <dir>          output folder (required); relative paths are taken from where pnpm was started
  --augment <N>        sudoku: N random shuffles per train puzzle besides the original (default 0;
                         the reference runs 1000)
                       maze: the first N of the 8 dihedral transforms per train maze, 0..8 (default 0 =
                         the original only; 8 = all symmetries, 4 = the rotations)
                       arc1, arc2, arc: up to N unique augmented variants per task (default ${DEFAULT_ARC_AUGMENT})
  --canvas <N>         ARC: canvas side, 2..30 (default 30, the reference's 30x30 = 900 tokens); a small canvas
                       (e.g. 8 = 64 tokens) makes models of small-grid tasks far cheaper; every grid must fit
  --subsample <N>      sudoku, maze: keep a seeded random N of the train rows (default: all)
  --seed <N>           seed of every random choice (default ${DEFAULT_SEED})
  --limit <N>          ARC: at most N tasks per task set, for quick builds (default: all)
  --only-ids <a,b>     ARC: only the tasks with these ids (comma-separated)
  --force              replace <out> if it exists (default: refuse a non-empty folder)
  --quiet              no progress bar
  -h, --help           this help

Examples:
  pnpm --filter @trm/core build-dataset --task sudoku --input ../shared/data/sudoku/train.csv \\
    --out data/sudoku-1k-aug-1000 --subsample 1000 --augment 1000
  pnpm --filter @trm/core build-dataset --task maze --input ../shared/data/maze-hard-like --out data/maze --augment 8
  pnpm --filter @trm/core build-dataset --task arc1 --input ../shared/data --out data/arc1-aug-1000
  pnpm --filter @trm/core build-dataset --task arc --input data/arc-simple --test-tasks data/simple-new \\
    --out data/simple-aug-7 --augment 7 --canvas 8
`;

export type BuildDatasetCommand =
  | { kind: 'help' }
  | {
      kind: 'build';
      task: DatasetTask;
      input: string;
      out: string;
      augment?: number;
      subsample?: number;
      seed?: number;
      limit?: number;
      onlyIds?: string[];
      testTasks?: string;
      canvas?: number;
      force: boolean;
      quiet: boolean;
    };

function integerFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value)))
    throw new UsageError(`--${flag} must be a non-negative integer (got ${JSON.stringify(value)})`);
  return Number(value);
}

/** Parses the command line; relative paths are resolved against `cwd` (pnpm's INIT_CWD, the caller's folder). */
export function parseBuildDatasetArgs(argv: readonly string[], cwd: string): BuildDatasetCommand {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        task: { type: 'string' },
        input: { type: 'string' },
        out: { type: 'string' },
        augment: { type: 'string' },
        subsample: { type: 'string' },
        seed: { type: 'string' },
        limit: { type: 'string' },
        'only-ids': { type: 'string' },
        'test-tasks': { type: 'string' },
        canvas: { type: 'string' },
        force: { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    // node's messages name the flag ("Unknown option '--tsk'", "Option '--out <value>' argument missing"); keep
    // their first sentence, except for the confusing "ambiguous" one that a negative number triggers.
    const message = (err as Error).message;
    const ambiguous = /Option '(--[\w-]+)' argument is ambiguous/.exec(message);
    if (ambiguous) throw new UsageError(`${ambiguous[1]} is missing its value (values cannot start with "-")`);
    throw new UsageError(message.split(/\.(\s|$)/)[0]!);
  }
  if (values.help) return { kind: 'help' };
  const str = (k: string) => values[k] as string | undefined;
  const task = str('task');
  if (task === undefined) throw new UsageError(`--task is required (one of ${DATASET_TASKS.join(', ')})`);
  if (!DATASET_TASKS.includes(task as DatasetTask))
    throw new UsageError(`--task must be one of ${DATASET_TASKS.join(', ')} (got ${JSON.stringify(task)})`);
  for (const flag of ['input', 'out']) if (!str(flag)) throw new UsageError(`--${flag} is required`);
  const arc = task === 'arc1' || task === 'arc2' || task === 'arc';
  if (task !== 'arc' && str('test-tasks') !== undefined)
    throw new UsageError('--test-tasks applies to --task arc only');
  if (arc && str('subsample') !== undefined) throw new UsageError('--subsample applies to sudoku and maze, not ARC');
  if (!arc && str('limit') !== undefined) throw new UsageError('--limit applies to ARC tasks only');
  if (!arc && str('only-ids') !== undefined) throw new UsageError('--only-ids applies to ARC tasks only');
  if (!arc && str('canvas') !== undefined) throw new UsageError('--canvas applies to ARC tasks only');
  const canvas = integerFlag('canvas', str('canvas'));
  if (canvas !== undefined && (canvas < MIN_CANVAS_SIDE || canvas > ARC.side))
    throw new UsageError(`--canvas must be ${MIN_CANVAS_SIDE}..${ARC.side} (got ${canvas})`);
  const augment = integerFlag('augment', str('augment'));
  if (task === 'maze' && augment !== undefined && augment > 8)
    throw new UsageError(`--augment for maze is the number of dihedral transforms, 0..8 (got ${augment})`);
  const seed = integerFlag('seed', str('seed'));
  if (seed !== undefined && seed >= 2 ** 32) throw new UsageError(`--seed must be below 2^32 (got ${seed})`);
  const subsample = integerFlag('subsample', str('subsample'));
  if (subsample === 0) throw new UsageError('--subsample must be at least 1');
  const limit = integerFlag('limit', str('limit'));
  if (limit === 0) throw new UsageError('--limit must be at least 1');
  const onlyIds = str('only-ids')
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (onlyIds !== undefined && onlyIds.length === 0) throw new UsageError('--only-ids needs at least one task id');
  return {
    kind: 'build',
    task: task as DatasetTask,
    input: resolve(cwd, str('input')!),
    out: resolve(cwd, str('out')!),
    augment,
    subsample,
    seed,
    limit,
    onlyIds,
    canvas,
    testTasks: str('test-tasks') === undefined ? undefined : resolve(cwd, str('test-tasks')!),
    force: values.force === true,
    quiet: values.quiet === true,
  };
}

/** Runs a parsed build command. */
export function runBuildDataset(
  cmd: Extract<BuildDatasetCommand, { kind: 'build' }>,
  extra: Pick<BuildOptions, 'log' | 'signal'> = {},
): Promise<BuildSummary> {
  const common: BuildOptions = {
    input: cmd.input,
    out: cmd.out,
    seed: cmd.seed,
    force: cmd.force,
    quiet: cmd.quiet,
    ...extra,
  };
  switch (cmd.task) {
    case 'sudoku':
      return buildSudokuDataset({ ...common, augment: cmd.augment, subsample: cmd.subsample });
    case 'maze':
      return buildMazeDataset({ ...common, augment: cmd.augment, subsample: cmd.subsample });
    case 'arc1':
    case 'arc2':
    case 'arc':
      return buildArcDataset({
        ...common,
        task: cmd.task,
        canvas: cmd.canvas,
        sets:
          cmd.task === 'arc'
            ? [
                { name: '--input', dir: cmd.input, testSet: false, optional: false },
                ...(cmd.testTasks
                  ? [{ name: '--test-tasks', dir: cmd.testTasks, testSet: true, optional: false }]
                  : []),
              ]
            : undefined,
        augment: cmd.augment,
        limit: cmd.limit,
        onlyIds: cmd.onlyIds,
      });
  }
}
