// The `build-dataset` command line: flags, defaults, help text and the dispatch to the builders. Kept apart from
// the process wiring in cli/build-dataset.ts so that tests can call it directly.
import { type CliSpec, helpText, parseFlags } from '../command/flags.js';
import { UsageError } from '../command/run-command.js';
import { MIN_CANVAS_SIDE } from '../tasks/arc.js';
import { ARC } from '../tasks/vocab.js';
import { buildArcDataset, DEFAULT_ARC_AUGMENT } from './build-arc.js';
import { type BuildOptions, type BuildSummary, DATASET_TASKS, type DatasetTask, DEFAULT_SEED } from './build.js';
import { buildMazeDataset } from './build-maze.js';
import { buildSudokuDataset } from './build-sudoku.js';

export const buildDatasetSpec: CliSpec = {
  usage: 'pnpm --filter @trm/core build-dataset',
  summary: `Builds a dataset in the reference TRM on-disk format (<out>/{train,test}/dataset.json + all__*.npy,
<out>/identifiers.json, <out>/README.md; ARC also <out>/test_puzzles.json). The output is written to a
temporary folder beside <out> and moved into place only when complete.`,
  flags: [
    {
      name: 'task',
      kind: 'enum',
      choices: DATASET_TASKS,
      required: true,
      value: '<task>',
      help: DATASET_TASKS.join(' | '),
    },
    {
      name: 'input',
      kind: 'path',
      required: true,
      value: '<path>',
      help:
        'sudoku, maze: the train CSV (the test split is read from test.csv beside it) or the folder holding ' +
        'train.csv and test.csv.\n' +
        'arc1, arc2: the folder holding the task sets: arc-agi-1/{training,evaluation}, ' +
        'arc-agi-2/{training,evaluation}, conceptarc/corpus\n' +
        'arc: a folder of ARC task files (searched recursively) whose pairs are all trained on, e.g. tasks made by ' +
        '`generate --task arc-simple`',
    },
    {
      name: 'test-tasks',
      kind: 'path',
      value: '<dir>',
      help:
        'arc: a folder of tasks whose demonstration pairs are trained on and whose test pairs form the test split ' +
        '(as arc1 treats the ARC-AGI-1 evaluation set); optional',
    },
    {
      name: 'out',
      kind: 'path',
      required: true,
      value: '<dir>',
      help: 'output folder; relative paths are taken from where pnpm was started',
    },
    {
      name: 'augment',
      kind: 'int',
      min: 0,
      value: '<N>',
      help:
        'sudoku: N random shuffles per train puzzle besides the original (default 0; the reference runs 1000)\n' +
        'maze: the first N of the 8 dihedral transforms per train maze, 0..8 (default 0 = the original only; ' +
        '8 = all symmetries, 4 = the rotations)\n' +
        `arc1, arc2, arc: up to N unique augmented variants per task (default ${DEFAULT_ARC_AUGMENT})`,
    },
    {
      name: 'canvas',
      kind: 'int',
      min: MIN_CANVAS_SIDE,
      max: ARC.side,
      value: '<N>',
      help:
        `ARC: canvas side, ${MIN_CANVAS_SIDE}..${ARC.side} (default ${ARC.side}, the reference's 30x30 = 900 tokens); a small canvas ` +
        '(e.g. 8 = 64 tokens) makes models of small-grid tasks far cheaper; every grid must fit',
    },
    {
      name: 'subsample',
      kind: 'int',
      min: 1,
      value: '<N>',
      help: 'sudoku, maze: keep a seeded random N of the train rows (default: all)',
    },
    {
      name: 'seed',
      kind: 'int',
      min: 0,
      max: 2 ** 32 - 1,
      default: DEFAULT_SEED,
      value: '<N>',
      help: 'seed of every random choice',
    },
    {
      name: 'limit',
      kind: 'int',
      min: 1,
      value: '<N>',
      help: 'ARC: at most N tasks per task set, for quick builds (default: all)',
    },
    { name: 'only-ids', kind: 'string', value: '<a,b>', help: 'ARC: only the tasks with these ids (comma-separated)' },
    { name: 'force', kind: 'bool', help: 'replace <out> if it exists (default: refuse a non-empty folder)' },
    { name: 'quiet', kind: 'bool', help: 'no progress bar' },
  ],
  examples: [
    'pnpm --filter @trm/core build-dataset --task sudoku --input ../shared/data/sudoku/train.csv --out data/sudoku-1k-aug-1000 --subsample 1000 --augment 1000',
    'pnpm --filter @trm/core build-dataset --task sudoku --input ../shared/data/sudoku --out data/sudoku-hard --subsample 1000 --augment 0',
    'pnpm --filter @trm/core build-dataset --task maze --input ../shared/data/maze-hard-like --out data/maze --augment 8',
    'pnpm --filter @trm/core build-dataset --task arc1 --input ../shared/data --out data/arc1-aug-1000',
    'pnpm --filter @trm/core build-dataset --task arc --input data/arc-simple --test-tasks data/simple-new --out data/simple-aug-7 --augment 7 --canvas 8',
  ],
};

export const BUILD_DATASET_USAGE = helpText(buildDatasetSpec);

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

/** Parses the command line; relative paths are resolved against `cwd` (pnpm's INIT_CWD, the caller's folder). */
export function parseBuildDatasetArgs(argv: readonly string[], cwd: string): BuildDatasetCommand {
  const { values: f, help } = parseFlags(argv, buildDatasetSpec, cwd);
  if (help) return { kind: 'help' };
  const task = f.task as DatasetTask;
  const given = (k: string) => f[k] !== undefined;
  const arc = task === 'arc1' || task === 'arc2' || task === 'arc';
  if (task !== 'arc' && given('test-tasks')) throw new UsageError('--test-tasks applies to --task arc only');
  if (arc && given('subsample')) throw new UsageError('--subsample applies to sudoku and maze, not ARC');
  if (!arc && given('limit')) throw new UsageError('--limit applies to ARC tasks only');
  if (!arc && given('only-ids')) throw new UsageError('--only-ids applies to ARC tasks only');
  if (!arc && given('canvas')) throw new UsageError('--canvas applies to ARC tasks only');
  const augment = f.augment as number | undefined;
  if (task === 'maze' && augment !== undefined && augment > 8)
    throw new UsageError(`--augment for maze is the number of dihedral transforms, 0..8 (got ${augment})`);
  const onlyIds = (f['only-ids'] as string | undefined)
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (onlyIds !== undefined && onlyIds.length === 0) throw new UsageError('--only-ids needs at least one task id');
  return {
    kind: 'build',
    task,
    input: f.input as string,
    out: f.out as string,
    augment,
    subsample: f.subsample as number | undefined,
    seed: f.seed as number,
    limit: f.limit as number | undefined,
    onlyIds,
    canvas: f.canvas as number | undefined,
    testTasks: f['test-tasks'] as string | undefined,
    force: f.force === true,
    quiet: f.quiet === true,
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
