// `solve-arc`: solves a set of ARC tasks offline and writes an ARC Prize submission (and, with solutions, the
// score). Flags and the run live here; the solving itself is arc/solver.ts. The engine and the row fitter can be
// passed in (tests use the fake engine or a stand-in fitter).
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type ArcSubmission,
  arcCanvasSide,
  buildSubmission,
  type CliSpec,
  type CommandIo,
  DEFAULT_SEED,
  FlagError,
  IDENTIFIERS_FILE,
  loadSolutions,
  type ModelConfig,
  parseFlags,
  readIdentifiers,
  readModelConfig,
  requiredPath,
  testCountsOf,
  userCwd,
  writeFileAtomic,
  writeSubmission,
} from '@trm/core';
import { resolveAdaptCommand, splitCommandLine } from '../arc/adapt-command.js';
import { AdaptProcess, type RowFitter } from '../arc/adapt-rows.js';
import { type ScoreReport, scoreReport, scoreTable } from '../arc/score-report.js';
import { type SolveArcSummary, type SolverEngine, solveArcTasks } from '../arc/solver.js';
import { loadTasks, selectTasks } from '../arc/task-source.js';
import { modelVariantIndex } from '../arc/variants.js';
import { type RunSettings, type TaskRecord, WorkFolder } from '../arc/work-folder.js';
import { Engine, ENGINE_DEFAULTS, type EngineOptions } from '../engine/engine.js';
import { MAX_STEPS_LIMIT } from '../engine/solve-request.js';

const EPS = ['auto', 'cuda', 'webgpu', 'cpu'] as const;

export const solveArcSpec: CliSpec = {
  usage: 'pnpm --filter @trm/server solve-arc',
  summary:
    'Solves ARC tasks the way TRM does and writes an ARC Prize submission: every task is run as its augmented\n' +
    "variants (dihedral x colour permutation), each with a puzzle-embedding row (the model's own for tasks it was\n" +
    "trained on, else rows fitted now from the demonstration pairs by the trainer's adapt), the predictions are\n" +
    'mapped back and voted on (count, then mean halt probability), and the top two are the attempts. Resumable:\n' +
    'results go to a work folder as tasks finish, and a rerun of the same command continues where it stopped.',
  flags: [
    { name: 'model', kind: 'path', value: '<dir>', help: 'ARC model folder (config.json, model.onnx, weights)' },
    {
      name: 'tasks',
      kind: 'path',
      value: '<dir|file>',
      help: 'folder of task JSON files, or a Kaggle challenges file {taskId: task}',
    },
    { name: 'out', kind: 'path', value: '<file>', help: 'submission.json to write' },
    {
      name: 'solutions',
      kind: 'path',
      value: '<dir|file>',
      help: 'test outputs to score against: task files, or a Kaggle solutions file {taskId: [grid, ...]}',
    },
    {
      name: 'work',
      kind: 'path',
      value: '<dir>',
      help: 'work folder of per-task results (default: <out>.work beside --out)',
    },
    { name: 'fresh', kind: 'bool', help: 'discard the results in the work folder and start over' },
    {
      name: 'augment',
      kind: 'int',
      min: 0,
      value: '<n>',
      default: 1000,
      help: 'augmented variants per task besides the original',
    },
    {
      name: 'adapt-steps',
      kind: 'int',
      min: 1,
      value: '<n>',
      default: 500,
      help: 'optimiser steps of test-time adaptation per chunk',
    },
    { name: 'no-adapt', kind: 'bool', help: "no adaptation: unknown tasks run with the model's blank row" },
    {
      name: 'adapt-cmd',
      kind: 'string',
      value: '<command>',
      help: "the trainer's adapt command (default: its sources through tsx, else packages/trainer/dist/adapt.mjs)",
    },
    {
      name: 'adapt-args',
      kind: 'string',
      value: '<flags>',
      help: 'more flags for adapt, given with "=": --adapt-args="--batch 64 --backend wasm" (not --model/--data/--out/--steps/--seed)',
    },
    { name: 'chunk', kind: 'int', min: 1, value: '<n>', default: 8, help: 'tasks adapted and solved together' },
    { name: 'limit', kind: 'int', min: 1, value: '<n>', help: 'only the first n tasks (in id order)' },
    { name: 'only', kind: 'string', value: '<ids>', help: 'only these task ids, comma-separated' },
    {
      name: 'seed',
      kind: 'int',
      min: 0,
      value: '<n>',
      default: DEFAULT_SEED,
      help: 'seed of the variants and of adapt',
    },
    { name: 'ep', kind: 'enum', choices: EPS, default: 'auto', help: 'execution provider' },
    {
      name: 'max-batch',
      kind: 'int',
      min: 1,
      value: '<n>',
      default: ENGINE_DEFAULTS.maxBatch,
      help: 'puzzles per batch in each engine worker',
    },
    {
      name: 'workers',
      kind: 'int',
      min: 1,
      value: '<n>',
      default: ENGINE_DEFAULTS.workers,
      help: 'engine worker threads',
    },
    {
      name: 'max-steps',
      kind: 'int',
      min: 1,
      value: '<n>',
      help: "supervision steps per puzzle (default: the model's halt_max_steps)",
    },
    {
      name: 'halt-threshold',
      kind: 'number',
      value: '<p>',
      default: 1,
      help: 'stop a puzzle early once its halt probability exceeds p; 1 runs every step, as the reference evaluation',
    },
    { name: 'quiet', kind: 'bool', help: 'no progress bar (failures and adapt summaries are still logged)' },
  ],
  examples: [
    'pnpm --filter @trm/server solve-arc --model models/arc1 --tasks data/arc-agi-1/evaluation --out out/submission.json --solutions data/arc-agi-1/evaluation',
    'pnpm --filter @trm/server solve-arc --model models/arc1 --tasks arc-agi_test_challenges.json --out submission.json --augment 8 --limit 10',
  ],
};

export interface SolveArcDeps {
  /** starts the engine (default: the ONNX Runtime engine) */
  startEngine?: (options: EngineOptions) => Promise<SolverEngine>;
  /** fits rows for unknown tasks (default: the adapt child process) */
  fitter?: RowFitter;
  /** called after each task's result is written to the work folder */
  onTask?: (record: TaskRecord) => void;
}

export interface SolveArcResult {
  out: string;
  work: string;
  summary: SolveArcSummary;
  submission: ArcSubmission | null;
  score: ScoreReport | null;
  scorePath: string | null;
}

/** `<out>` without its .json ending, the stem of the files written beside the submission. */
function stem(out: string): string {
  return out.replace(/\.json$/i, '');
}

/** What identifies the model's files cheaply: config.json's hash and the other files' sizes and times. */
async function modelFingerprint(dir: string): Promise<string> {
  const h = createHash('sha256').update(await readFile(join(dir, 'config.json')));
  for (const name of ['weights.safetensors', 'puzzle_emb.safetensors', 'model.onnx', IDENTIFIERS_FILE]) {
    const p = join(dir, name);
    if (existsSync(p)) {
      const s = statSync(p);
      h.update(`${name}:${s.size}:${Math.round(s.mtimeMs)}`);
    }
  }
  return h.digest('hex').slice(0, 16);
}

async function arcModelConfig(dir: string): Promise<ModelConfig> {
  let config: ModelConfig;
  try {
    config = await readModelConfig(dir);
  } catch (err) {
    throw new FlagError(`--model: ${(err as Error).message}`, '--model');
  }
  if (config.task !== 'arc')
    throw new FlagError(`--model ${dir} is a ${config.task} model, expected an ARC model (task "arc")`, '--model');
  return config;
}

export async function solveArcCommand(
  argv: readonly string[],
  io: CommandIo,
  deps: SolveArcDeps = {},
): Promise<SolveArcResult | null> {
  const { values: f, help } = parseFlags(argv, solveArcSpec);
  if (help) return null;
  const modelDir = requiredPath(f, 'model', { exists: true });
  const tasksPath = requiredPath(f, 'tasks', { exists: true });
  const out = requiredPath(f, 'out');
  const solutionsPath = f.solutions as string | undefined;
  if (solutionsPath !== undefined && !existsSync(solutionsPath))
    throw new FlagError(`--solutions ${solutionsPath} does not exist`, '--solutions');
  const workDir = (f.work as string | undefined) ?? `${stem(out)}.work`;
  const only = (f.only as string | undefined)
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (only !== undefined && only.length === 0) throw new FlagError('--only needs at least one task id', '--only');
  const haltThreshold = f['halt-threshold'] as number;
  const augment = f.augment as number;
  const seed = f.seed as number;
  const quiet = io.quiet || (f.quiet as boolean);

  const config = await arcModelConfig(modelDir);
  const maxSteps = (f['max-steps'] as number | undefined) ?? config.halt_max_steps;
  if (maxSteps > MAX_STEPS_LIMIT) throw new FlagError(`--max-steps must be at most ${MAX_STEPS_LIMIT}`, '--max-steps');
  const loaded = await loadTasks(tasksPath);
  const tasks = selectTasks(loaded.tasks, { only, limit: f.limit as number | undefined });
  const counts = testCountsOf(tasks);
  if (solutionsPath === undefined && loaded.withOutputs > 0)
    io.err(
      `note: ${loaded.withOutputs} task(s) of --tasks carry their test outputs; pass --solutions to score the run`,
    );

  const hasTable = config.puzzle_emb_ndim > 0;
  const identifiers = hasTable && existsSync(join(modelDir, IDENTIFIERS_FILE)) ? readIdentifiers(modelDir) : null;
  const adapt = hasTable && !(f['no-adapt'] as boolean);
  if (adapt && identifiers === null)
    throw new FlagError(
      `--model ${modelDir} has no ${IDENTIFIERS_FILE}, so adaptation cannot tell its rows from new ones: pass --no-adapt`,
      '--model',
    );
  const adaptArgs = splitCommandLine((f['adapt-args'] as string | undefined) ?? '');
  let fitter: RowFitter | null = null;
  if (adapt)
    fitter =
      deps.fitter ??
      new AdaptProcess({
        command: resolveAdaptCommand(f['adapt-cmd'] as string | undefined, userCwd()),
        modelDir,
        steps: f['adapt-steps'] as number,
        seed,
        extraArgs: adaptArgs,
        puzzleEmbDim: config.puzzle_emb_ndim,
        batchSize: config.batch_size,
        canvas: arcCanvasSide(config.seq_len),
        log: io.err,
      });

  // What the per-task results depend on; a rerun with other values must not mix its results with these.
  const settings: RunSettings = {
    model: modelDir,
    modelFiles: await modelFingerprint(modelDir),
    augment,
    seed,
    adaptSteps: adapt ? (f['adapt-steps'] as number) : null,
    adaptArgs: adapt ? adaptArgs.join(' ') : null,
    maxSteps,
    haltThreshold,
  };
  const work = await WorkFolder.open(workDir, settings, { fresh: f.fresh as boolean });
  let summary: SolveArcSummary;
  try {
    const start = deps.startEngine ?? ((o: EngineOptions) => Engine.start(o));
    const engine = await start({
      modelDir,
      executionProvider: f.ep as (typeof EPS)[number],
      maxBatch: f['max-batch'] as number,
      workers: f.workers as number,
    });
    try {
      if (!quiet) {
        const i = engine.info;
        io.err(
          `solve-arc: ${tasks.size} task(s), ${augment} augmented variants each, ${adapt ? `adaptation ${f['adapt-steps']} steps per chunk of ${f.chunk}` : 'no adaptation'}; ` +
            `engine ${i.dtype} on ${i.executionProvider}, ${i.workers} worker(s) x batch ${i.maxBatch}; work folder ${workDir}`,
        );
      }
      summary = await solveArcTasks({
        tasks,
        engine,
        work,
        plan: { augment, seed, known: identifiers ? modelVariantIndex(identifiers) : null },
        fitter,
        chunkSize: f.chunk as number,
        maxSteps,
        haltThreshold,
        canvas: arcCanvasSide(config.seq_len),
        signal: io.signal,
        log: io.err,
        quiet,
        onTask: deps.onTask,
      });
    } finally {
      await engine.drain();
    }
  } finally {
    await work.close();
  }
  const result: SolveArcResult = { out, work: workDir, summary, submission: null, score: null, scorePath: null };
  if (summary.aborted) {
    io.err(
      `solve-arc: stopped; ${summary.records.size} of ${tasks.size} task(s) have results in ${workDir}: run the same command again to continue`,
    );
    return result;
  }

  const predictions = new Map(
    [...summary.records].flatMap(([id, r]) =>
      r.status === 'solved' ? [[id, r.tests.map((t) => t.candidates.map((c) => c.grid))] as const] : [],
    ),
  );
  const built = buildSubmission(counts, predictions);
  for (const w of built.warnings) io.err(`note: ${w}`);
  await writeSubmission(out, built.submission, counts);
  result.submission = built.submission;

  const failed = [...summary.records.values()].filter((r) => r.status === 'failed').map((r) => r.taskId);
  if (solutionsPath !== undefined) {
    const report = scoreReport(built.submission, await loadSolutions(solutionsPath), counts, summary.records);
    const scorePath = `${stem(out)}.score.json`;
    await writeFileAtomic(
      scorePath,
      `${JSON.stringify({ submission: out, model: modelDir, taskSource: tasksPath, settings, ...report }, null, 2)}\n`,
    );
    io.out(scoreTable(report));
    result.score = report;
    result.scorePath = scorePath;
  }
  io.out(
    `solve-arc: ${tasks.size} task(s): ${summary.solved.length} solved now, ${summary.skipped.length} from earlier runs, ` +
      `${failed.length} failed${failed.length > 0 ? ` (${failed.slice(0, 10).join(', ')}${failed.length > 10 ? ', ...' : ''}; reasons above and in ${workDir})` : ''}; ` +
      `${summary.predictions} predictions in ${summary.seconds.toFixed(1)} s; submission written to ${out}` +
      (result.score
        ? `; pass@2 ${(100 * result.score.score).toFixed(1)} % per task, ${(100 * result.score.outputScore).toFixed(1)} % per test output (${result.scorePath})`
        : ''),
  );
  return result;
}
