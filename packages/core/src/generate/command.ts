// The `generate` command: argument parsing and the run, kept apart from the process wiring in cli/generate.ts
// so that tests can call both directly. Sudoku and maze write a CSV; arc-simple writes a folder of ARC task files.
import { formatDuration, Progress } from '../util/progress.js';
import { Rng } from '../util/random.js';
import { type PuzzleCsvRecord, writePuzzleCsv } from './csv.js';
import { type CliSpec, helpText, parseFlags } from '../command/flags.js';
import { UsageError } from '../command/run-command.js';
import { ARC_SIMPLE_FAMILIES, type ArcSimpleFamily } from './arc-families.js';
import { writeArcTaskFolder } from './arc-folder.js';
import {
  DEFAULT_ARC_SIMPLE_DEMOS,
  DEFAULT_ARC_SIMPLE_SIZES,
  type GeneratedArcTask,
  generateArcSimpleTasks,
  resolveArcSimpleOptions,
} from './arc-simple.js';
import { generateMaze, mazeSource, resolveMazeOptions } from './maze.js';
import { generateSudoku, MIN_SUDOKU_GIVENS, sudokuSource } from './sudoku.js';

export const generateSpec: CliSpec = {
  usage: 'pnpm --filter @trm/core generate',
  summary: `Generates puzzles with their solutions. sudoku and maze: a CSV in the layout of the shared data
(source,question,answer,rating). arc-simple: a folder of ARC task files <id>.json ({train: [{input, output}],
test: [{input, output}]}), 3-4 demonstration pairs and one test pair each, of the families
${ARC_SIMPLE_FAMILIES.join(', ')}
(rotate-90 = a quarter turn clockwise; rotate-90 and transpose use square grids; colour-map = a per-task
permutation of the task's colours; gravity-down = non-background cells fall to the bottom of their column).
Ids are simple-<family>-s<seed>-<n>. The output is written to a temporary name and moved into place only when complete.`,
  flags: [
    {
      name: 'task',
      kind: 'enum',
      choices: ['sudoku', 'maze', 'arc-simple'],
      required: true,
      value: 'sudoku|maze|arc-simple',
      help: 'what to generate',
    },
    {
      name: 'count',
      kind: 'int',
      min: 1,
      required: true,
      value: 'N',
      help: 'number of puzzles; arc-simple: tasks in all, spread round-robin over the families',
    },
    {
      name: 'out',
      kind: 'path',
      required: true,
      value: 'PATH',
      help: 'output CSV, or for arc-simple a new or empty folder (relative to the folder you run pnpm from)',
    },
    {
      name: 'seed',
      kind: 'int',
      min: 0,
      default: 0,
      value: 'N',
      help: 'random seed; the same seed and options give the same output',
    },
    {
      name: 'givens',
      kind: 'string',
      default: '30..79',
      value: 'N | A..B',
      help: `sudoku: givens per puzzle, exact or drawn uniformly from A..B (>= ${MIN_SUDOKU_GIVENS})`,
    },
    {
      name: 'min-path',
      kind: 'int',
      min: 0,
      default: 110,
      value: 'N',
      help:
        'maze: keep mazes whose shortest path is longer than N steps (110 as Maze-Hard: about 1 draw in ' +
        '77,000 passes at 110, so expect ~2 s per maze; 30 takes ~1 ms, 60 ~5 ms, 80 ~70 ms per maze)',
    },
    { name: 'side', kind: 'int', min: 2, default: 30, value: 'N', help: 'maze: grid side' },
    { name: 'walls', kind: 'string', value: 'A..B', help: 'maze: wall count range (default 30%..50% of the cells)' },
    {
      name: 'sizes',
      kind: 'string',
      value: 'A..B',
      help: `arc-simple: grid sides, within 3..30 (default ${DEFAULT_ARC_SIMPLE_SIZES.join('..')})`,
    },
    {
      name: 'demos',
      kind: 'string',
      value: 'A..B',
      help: `arc-simple: demonstration pairs per task (default ${DEFAULT_ARC_SIMPLE_DEMOS.join('..')})`,
    },
    { name: 'families', kind: 'string', value: 'a,b', help: 'arc-simple: families to draw from (default all)' },
    { name: 'quiet', kind: 'bool', help: 'no progress bar' },
  ],
  examples: [
    'pnpm --filter @trm/core generate --task sudoku --count 10000 --givens 25..40 --out sudoku-easy.csv --seed 1',
    'pnpm --filter @trm/core generate --task maze --count 1000 --min-path 40 --out maze-easy.csv --seed 1',
    'pnpm --filter @trm/core generate --task arc-simple --count 70 --sizes 3..6 --out data/arc-simple --seed 1',
  ],
};

export const GENERATE_USAGE = helpText(generateSpec);

export type GenerateCommand =
  | { kind: 'help' }
  | {
      kind: 'generate';
      task: 'sudoku' | 'maze' | 'arc-simple';
      count: number;
      out: string;
      seed: number;
      givens: readonly [number, number];
      minPathLength: number;
      side: number;
      walls?: readonly [number, number];
      /** arc-simple only: grid sides, demonstrations per task, families. */
      sizes?: readonly [number, number];
      demos?: readonly [number, number];
      families?: readonly ArcSimpleFamily[];
      quiet: boolean;
    };

function range(flag: string, value: string): [number, number] {
  const m = /^(\d+)(?:\.\.(\d+))?$/.exec(value);
  if (!m) throw new UsageError(`--${flag} must be N or A..B (got ${JSON.stringify(value)})`);
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (hi < lo) throw new UsageError(`--${flag} range ${value} is empty (A must not exceed B)`);
  return [lo, hi];
}

/** Parses the command line; a relative --out is resolved against `cwd` (pnpm's INIT_CWD). */
export function parseGenerateArgs(argv: readonly string[], cwd: string): GenerateCommand {
  const { values: f, help } = parseFlags(argv, generateSpec, cwd);
  if (help) return { kind: 'help' };
  const str = (k: string) => f[k] as string | undefined;
  const task = f.task as Extract<GenerateCommand, { kind: 'generate' }>['task'];
  const arcFlags = ['sizes', 'demos', 'families'].filter((k) => str(k) !== undefined);
  if (task !== 'arc-simple' && arcFlags.length > 0)
    throw new UsageError(`--${arcFlags[0]} applies to --task arc-simple only`);
  const givens = range('givens', f.givens as string);
  if (givens[0] < MIN_SUDOKU_GIVENS || givens[1] > 81) {
    throw new UsageError(`--givens must lie in ${MIN_SUDOKU_GIVENS}..81 (got ${str('givens')})`);
  }
  const side = f.side as number;
  const walls = str('walls') === undefined ? undefined : range('walls', str('walls')!);
  const minPathLength = f['min-path'] as number;
  try {
    resolveMazeOptions({ side, minPathLength, minWalls: walls?.[0], maxWalls: walls?.[1] });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  let arc: Pick<Extract<GenerateCommand, { kind: 'generate' }>, 'sizes' | 'demos' | 'families'> = {};
  if (task === 'arc-simple') {
    const families = str('families')
      ?.split(',')
      .map((name) => name.trim())
      .filter((name) => name.length > 0);
    for (const name of families ?? [])
      if (!ARC_SIMPLE_FAMILIES.includes(name as ArcSimpleFamily))
        throw new UsageError(
          `--families: unknown family ${JSON.stringify(name)} (expected ${ARC_SIMPLE_FAMILIES.join(', ')})`,
        );
    if (families?.length === 0) throw new UsageError('--families needs at least one family');
    try {
      arc = resolveArcSimpleOptions({
        sizes: str('sizes') === undefined ? [...DEFAULT_ARC_SIMPLE_SIZES] : range('sizes', str('sizes')!),
        demos: str('demos') === undefined ? [...DEFAULT_ARC_SIMPLE_DEMOS] : range('demos', str('demos')!),
        families: families as ArcSimpleFamily[] | undefined,
      });
    } catch (err) {
      if (err instanceof UsageError) throw err;
      throw new UsageError(`--${(err as Error).message}`);
    }
  }
  return {
    kind: 'generate',
    task,
    count: f.count as number,
    out: f.out as string,
    seed: f.seed as number,
    givens,
    minPathLength,
    side,
    ...(walls ? { walls } : {}),
    ...arc,
    quiet: f.quiet === true,
  };
}

export interface GenerateSummary {
  /** Puzzles written: CSV rows, or task files for arc-simple. */
  rows: number;
  seconds: number;
  /** Maze draws in all (maze only). */
  draws?: number;
}

/** Generates the puzzles and writes the CSV; stops (leaving no file) when `signal` aborts. */
export async function runGenerate(
  cmd: Extract<GenerateCommand, { kind: 'generate' }>,
  options: { signal?: AbortSignal; log?: (line: string) => void } = {},
): Promise<GenerateSummary> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (cmd.task === 'arc-simple') return runGenerateArc(cmd, options.signal, log);
  const rng = new Rng(cmd.seed);
  const progress = new Progress(`generate ${cmd.task}`, cmd.count, { unit: 'puzzles', silent: cmd.quiet });
  let draws = 0;
  let ratingSum = 0;
  let breath = performance.now();
  async function* rows(): AsyncGenerator<PuzzleCsvRecord> {
    for (let i = 0; i < cmd.count; i++) {
      // Generation is synchronous: give the event loop a turn now and then so that Ctrl-C is seen.
      if (performance.now() - breath > 100) {
        await new Promise((r) => setImmediate(r));
        breath = performance.now();
      }
      if (options.signal?.aborted) throw new Error('interrupted');
      if (cmd.task === 'sudoku') {
        const p = generateSudoku(rng, { givens: cmd.givens });
        ratingSum += p.rating;
        progress.tick(1, { 'mean guesses': ratingSum / (i + 1) });
        yield { source: sudokuSource(cmd.seed, p), question: p.question, answer: p.answer, rating: p.rating };
      } else {
        const m = generateMaze(rng, {
          side: cmd.side,
          minPathLength: cmd.minPathLength,
          minWalls: cmd.walls?.[0],
          maxWalls: cmd.walls?.[1],
        });
        draws += m.tries;
        ratingSum += m.pathLength;
        progress.tick(1, { draws, 'mean path': ratingSum / (i + 1) });
        // Like the shared data, `try` counts draws over the whole run, not per maze.
        yield { source: mazeSource(cmd.seed, m, draws), question: m.question, answer: m.answer, rating: m.pathLength };
      }
    }
  }
  const written = await writePuzzleCsv(cmd.out, rows());
  const seconds = progress.elapsed;
  const extra = cmd.task === 'maze' ? `, ${draws} draws` : '';
  progress.finish();
  log(
    `generate: wrote ${written} ${cmd.task} puzzles to ${cmd.out} in ${formatDuration(seconds)} ` +
      `(mean ${cmd.task === 'maze' ? 'path length' : 'guesses'} ${(ratingSum / written).toFixed(1)}${extra})`,
  );
  return cmd.task === 'maze' ? { rows: written, seconds, draws } : { rows: written, seconds };
}

/** arc-simple: writes the task folder; the summary counts tasks. */
async function runGenerateArc(
  cmd: Extract<GenerateCommand, { kind: 'generate' }>,
  signal: AbortSignal | undefined,
  log: (line: string) => void,
): Promise<GenerateSummary> {
  const progress = new Progress('generate arc-simple', cmd.count, { unit: 'tasks', silent: cmd.quiet });
  const perFamily = new Map<string, number>();
  async function* tasks(): AsyncGenerator<GeneratedArcTask> {
    for (const t of generateArcSimpleTasks(cmd.count, cmd.seed, cmd)) {
      await new Promise((r) => setImmediate(r)); // lets Ctrl-C be seen between tasks
      if (signal?.aborted) throw new Error('interrupted');
      perFamily.set(t.family, (perFamily.get(t.family) ?? 0) + 1);
      progress.tick(1);
      yield t;
    }
  }
  const written = await writeArcTaskFolder(cmd.out, tasks());
  const seconds = progress.elapsed;
  progress.finish();
  const families = [...perFamily].map(([f, n]) => `${f} ${n}`).join(', ');
  log(`generate: wrote ${written} arc-simple tasks to ${cmd.out} in ${formatDuration(seconds)} (${families})`);
  return { rows: written, seconds };
}
