// The `generate` command: argument parsing and the run, kept apart from the process wiring in cli/generate.ts
// so that tests can call both directly.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatDuration, Progress } from '../util/progress.js';
import { Rng } from '../util/random.js';
import { type PuzzleCsvRecord, writePuzzleCsv } from './csv.js';
import { UsageError } from '../command/run-command.js';
import { generateMaze, mazeSource, resolveMazeOptions } from './maze.js';
import { generateSudoku, MIN_SUDOKU_GIVENS, sudokuSource } from './sudoku.js';

export const GENERATE_USAGE = `Usage: pnpm --filter @trm/core generate --task sudoku|maze --count N --out <file.csv> [options]

Generates puzzles with their solutions as a CSV in the layout of the shared data (source,question,answer,rating).
The file is written to a temporary name and moved into place only when complete.

Options:
  --task sudoku|maze   what to generate (required)
  --count N            number of puzzles (required)
  --out FILE           output CSV (required; relative to the folder you run pnpm from)
  --seed N             random seed (default 0); the same seed and options give the same file
  --givens N | A..B    sudoku: givens per puzzle, exact or drawn uniformly from A..B (default 30..79; >= ${MIN_SUDOKU_GIVENS})
  --min-path N         maze: keep mazes whose shortest path is longer than N steps (default 110, as Maze-Hard;
                       about 1 draw in 77,000 passes at 110, so expect ~2 s per maze; 30 takes ~1 ms,
                       60 ~5 ms, 80 ~70 ms per maze)
  --side N             maze: grid side (default 30)
  --walls A..B         maze: wall count range (default 30%..50% of the cells)
  --quiet              no progress bar
  --help               this text

Examples:
  pnpm --filter @trm/core generate --task sudoku --count 10000 --givens 25..40 --out sudoku-easy.csv --seed 1
  pnpm --filter @trm/core generate --task maze --count 1000 --min-path 40 --out maze-easy.csv --seed 1
`;

export type GenerateCommand =
  | { kind: 'help' }
  | {
      kind: 'generate';
      task: 'sudoku' | 'maze';
      count: number;
      out: string;
      seed: number;
      givens: readonly [number, number];
      minPathLength: number;
      side: number;
      walls?: readonly [number, number];
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
  if (task !== 'sudoku' && task !== 'maze') {
    throw new UsageError(`--task must be sudoku or maze (got ${JSON.stringify(task ?? '')})`);
  }
  const count = integer('count', str('count'), Number.NaN, 1);
  if (Number.isNaN(count)) throw new UsageError('--count is required');
  const out = str('out');
  if (!out) throw new UsageError('--out is required (the CSV file to write)');
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
    quiet: values.quiet === true,
  };
}

export interface GenerateSummary {
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
