// The `generate` command: argument parsing and the run, kept apart from the process wiring in cli/generate.ts
// so that tests can call both directly. Sudoku and maze write a CSV; arc-simple writes a folder of ARC task files.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatDuration, Progress } from '../util/progress.js';
import { Rng } from '../util/random.js';
import { type PuzzleCsvRecord, writePuzzleCsv } from './csv.js';
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

export const GENERATE_USAGE = `Usage: pnpm --filter @trm/core generate --task sudoku|maze|arc-simple --count N --out <path> [options]

Generates puzzles with their solutions. sudoku and maze: a CSV in the layout of the shared data
(source,question,answer,rating). arc-simple: a folder of ARC task files <id>.json ({train: [{input, output}],
test: [{input, output}]}), 3-4 demonstration pairs and one test pair each, of the families
${ARC_SIMPLE_FAMILIES.join(', ')}
(rotate-90 = a quarter turn clockwise; rotate-90 and transpose use square grids; colour-map = a per-task
permutation of the task's colours; gravity-down = non-background cells fall to the bottom of their column).
Ids are simple-<family>-s<seed>-<n>. The output is written to a temporary name and moved into place only when complete.

Options:
  --task sudoku|maze|arc-simple   what to generate (required)
  --count N            number of puzzles (required); arc-simple: tasks in all, spread round-robin over the families
  --out PATH           output CSV, or for arc-simple a new or empty folder (required; relative to the folder you
                       run pnpm from)
  --seed N             random seed (default 0); the same seed and options give the same output
  --givens N | A..B    sudoku: givens per puzzle, exact or drawn uniformly from A..B (default 30..79; >= ${MIN_SUDOKU_GIVENS})
  --min-path N         maze: keep mazes whose shortest path is longer than N steps (default 110, as Maze-Hard;
                       about 1 draw in 77,000 passes at 110, so expect ~2 s per maze; 30 takes ~1 ms,
                       60 ~5 ms, 80 ~70 ms per maze)
  --side N             maze: grid side (default 30)
  --walls A..B         maze: wall count range (default 30%..50% of the cells)
  --sizes A..B         arc-simple: grid sides (default ${DEFAULT_ARC_SIMPLE_SIZES.join('..')}; 3..30)
  --demos A..B         arc-simple: demonstration pairs per task (default ${DEFAULT_ARC_SIMPLE_DEMOS.join('..')})
  --families a,b       arc-simple: families to draw from (default all)
  --quiet              no progress bar
  --help               this text

Examples:
  pnpm --filter @trm/core generate --task sudoku --count 10000 --givens 25..40 --out sudoku-easy.csv --seed 1
  pnpm --filter @trm/core generate --task maze --count 1000 --min-path 40 --out maze-easy.csv --seed 1
  pnpm --filter @trm/core generate --task arc-simple --count 70 --sizes 3..6 --out data/arc-simple --seed 1
`;

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

function integer(flag: string, value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min) {
    throw new UsageError(`--${flag} must be an integer >= ${min} (got ${JSON.stringify(value)})`);
  }
  return Number(value);
}

function range(flag: string, value: string | undefined, fallback: [number, number]): [number, number] {
  if (value === undefined) return fallback;
  const m = /^(\d+)(?:\.\.(\d+))?$/.exec(value);
  if (!m) throw new UsageError(`--${flag} must be N or A..B (got ${JSON.stringify(value)})`);
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (hi < lo) throw new UsageError(`--${flag} range ${value} is empty (A must not exceed B)`);
  return [lo, hi];
}

/** Parses the command line; a relative --out is resolved against `cwd` (pnpm's INIT_CWD). */
export function parseGenerateArgs(argv: readonly string[], cwd: string): GenerateCommand {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        task: { type: 'string' },
        count: { type: 'string' },
        out: { type: 'string' },
        seed: { type: 'string' },
        givens: { type: 'string' },
        'min-path': { type: 'string' },
        side: { type: 'string' },
        walls: { type: 'string' },
        sizes: { type: 'string' },
        demos: { type: 'string' },
        families: { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return { kind: 'help' };
  const str = (k: string) => values[k] as string | undefined;
  const task = str('task');
  if (task !== 'sudoku' && task !== 'maze' && task !== 'arc-simple') {
    throw new UsageError(`--task must be sudoku, maze or arc-simple (got ${JSON.stringify(task ?? '')})`);
  }
  const count = integer('count', str('count'), Number.NaN, 1);
  if (Number.isNaN(count)) throw new UsageError('--count is required');
  const out = str('out');
  if (!out) throw new UsageError(`--out is required (the ${task === 'arc-simple' ? 'folder' : 'CSV file'} to write)`);
  const arcFlags = ['sizes', 'demos', 'families'].filter((k) => str(k) !== undefined);
  if (task !== 'arc-simple' && arcFlags.length > 0)
    throw new UsageError(`--${arcFlags[0]} applies to --task arc-simple only`);
  const givens = range('givens', str('givens'), [30, 79]);
  if (givens[0] < MIN_SUDOKU_GIVENS || givens[1] > 81) {
    throw new UsageError(`--givens must lie in ${MIN_SUDOKU_GIVENS}..81 (got ${str('givens')})`);
  }
  const side = integer('side', str('side'), 30, 2);
  const walls = str('walls') === undefined ? undefined : range('walls', str('walls'), [0, 0]);
  const minPathLength = integer('min-path', str('min-path'), 110);
  try {
    resolveMazeOptions({ side, minPathLength, minWalls: walls?.[0], maxWalls: walls?.[1] });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  let arc: Pick<Extract<GenerateCommand, { kind: 'generate' }>, 'sizes' | 'demos' | 'families'> = {};
  if (task === 'arc-simple') {
    const families = str('families')
      ?.split(',')
      .map((f) => f.trim())
      .filter((f) => f.length > 0);
    for (const f of families ?? [])
      if (!ARC_SIMPLE_FAMILIES.includes(f as ArcSimpleFamily))
        throw new UsageError(
          `--families: unknown family ${JSON.stringify(f)} (expected ${ARC_SIMPLE_FAMILIES.join(', ')})`,
        );
    if (families?.length === 0) throw new UsageError('--families needs at least one family');
    try {
      arc = resolveArcSimpleOptions({
        sizes: range('sizes', str('sizes'), [...DEFAULT_ARC_SIMPLE_SIZES]),
        demos: range('demos', str('demos'), [...DEFAULT_ARC_SIMPLE_DEMOS]),
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
    count,
    out: resolve(cwd, out),
    seed: integer('seed', str('seed'), 0),
    givens,
    minPathLength,
    side,
    ...(walls ? { walls } : {}),
    ...arc,
    quiet: values.quiet === true,
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
