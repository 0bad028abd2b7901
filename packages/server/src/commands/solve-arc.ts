// `solve-arc`: solves a set of ARC tasks offline and writes an ARC Prize submission (and, with solutions, the
// score). Flags and the run live here; the solving itself is arc/solver.ts, the defaults that depend on the
// engine's provider arc/run-defaults.ts, the work estimate printed before the run arc/work-estimate.ts. The
// engine, the row fitter and the engine measurement can be passed in (tests use the fake engine, a stand-in
// fitter, a fixed rate).
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
import {
  ADAPT_BACKENDS,
  type AdaptBackend,
  adaptBatch,
  adaptRowLimit,
  argValue,
  CPU_ADAPT_CELLS,
  SOLVE_ARC_DEFAULTS,
} from '../arc/run-defaults.js';
import { type ScoreReport, scoreReport, scoreTable } from '../arc/score-report.js';
import { type SolveArcSummary, type SolverEngine, solveArcTasks } from '../arc/solver.js';
import { loadTasks, selectTasks } from '../arc/task-source.js';
import { modelVariantIndex } from '../arc/variants.js';
import { describeWork, estimateWork, measureEngine } from '../arc/work-estimate.js';
import { type RunSettings, type TaskRecord, taskFingerprint, WorkFolder } from '../arc/work-folder.js';
import { Engine, ENGINE_DEFAULTS, type EngineOptions } from '../engine/engine.js';
import { EXECUTION_PROVIDER_CHOICES } from '../engine/providers.js';
import { MAX_STEPS_LIMIT } from '../engine/solve-request.js';
import type { ExecutionProviderChoice } from '../engine/types.js';

export const solveArcSpec: CliSpec = {
  usage: 'pnpm --filter @trm/server solve-arc',
  summary:
    'Solves ARC tasks the way TRM does and writes an ARC Prize submission: every task is run as its augmented\n' +
    "variants (dihedral x colour permutation), each with a puzzle-embedding row (the model's own for tasks it was\n" +
    "trained on, else rows fitted now from the demonstration pairs by the trainer's adapt), the predictions are\n" +
    'mapped back and voted on (count, then mean halt probability), and the top two are the attempts. Resumable:\n' +
    'results go to a work folder as tasks finish, and a rerun of the same command continues where it stopped.\n' +
    'Before the run it prints the work (training sequences, puzzles x steps) and a time estimate; the defaults of\n' +
    'augmentation and adaptation follow the engine provider (GPU: the reference, CPU: small). Exits 1 when a task\n' +
    'failed (no answer, as opposed to a wrong one); its entry in the submission is then [[0]].',
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
      help: `augmented variants per task besides the original (default by the engine's provider: ${SOLVE_ARC_DEFAULTS.cuda.augment} on cuda and webgpu, as the reference; ${SOLVE_ARC_DEFAULTS.cpu.augment} on cpu)`,
    },
    {
      name: 'adapt-steps',
      kind: 'int',
      min: 1,
      value: '<n>',
      help: `optimiser steps of test-time adaptation per chunk (default: ${SOLVE_ARC_DEFAULTS.cuda.adaptSteps} on cuda and webgpu; ${SOLVE_ARC_DEFAULTS.cpu.adaptSteps} on cpu)`,
    },
    {
      name: 'adapt-backend',
      kind: 'enum',
      choices: ADAPT_BACKENDS,
      help: `adapt's --backend (default by the engine's provider: ${SOLVE_ARC_DEFAULTS.cuda.adaptBackend} on cuda, ${SOLVE_ARC_DEFAULTS.webgpu.adaptBackend} on webgpu, ${SOLVE_ARC_DEFAULTS.cpu.adaptBackend} on cpu)`,
    },
    {
      name: 'adapt-batch',
      kind: 'int',
      min: 1,
      value: '<n>',
      help: `rows per adaptation step (default: the model's batch_size, at most the chunk's demonstration pairs; on the CPU backends ort-cpu, wasm and cpu at most ${CPU_ADAPT_CELLS} canvas cells, i.e. 4 rows of a 30x30 canvas, and on wasm and cpu what their heap holds)`,
    },
    { name: 'no-adapt', kind: 'bool', help: "no adaptation: unknown tasks run with the model's blank row" },
    {
      name: 'adapt-cmd',
      kind: 'string',
      value: '<command>',
      help: "the trainer's adapt command (default: its sources through tsx, else its trm-adapt bundle from pnpm build)",
    },
    {
      name: 'adapt-args',
      kind: 'string',
      value: '<flags>',
      help: 'more flags for adapt, given with "=": --adapt-args="--lr 0.05 --warmup 10" (not --model/--data/--out/--steps/--seed; --batch and --backend here act as --adapt-batch and --adapt-backend)',
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
    { name: 'ep', kind: 'enum', choices: EXECUTION_PROVIDER_CHOICES, default: 'auto', help: 'execution provider' },
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
    'pnpm --filter @trm/server solve-arc --model models/arc1-small --tasks ../shared/data/arc-agi-1/evaluation --solutions ../shared/data/arc-agi-1/evaluation --out out/arc1-eval.json --limit 2',
    'pnpm --filter @trm/server solve-arc --model models/arc1-small --tasks ../shared/data/arc-agi-1/evaluation --out out/arc1-blank.json --augment 0 --no-adapt',
    'pnpm --filter @trm/core generate --task arc-simple --count 14 --sizes 3..6 --seed 2 --out data/simple-new',
    'pnpm --filter @trm/server solve-arc --model models/arc-simple-mini --tasks data/simple-new --solutions data/simple-new --out out/simple.json --augment 7 --adapt-steps 200 --adapt-args="--lr 0.05"',
  ],
};

export interface SolveArcDeps {
  /** starts the engine (default: the ONNX Runtime engine) */
  startEngine?: (options: EngineOptions) => Promise<SolverEngine>;
  /** fits rows for unknown tasks (default: the adapt child process) */
  fitter?: RowFitter;
  /** inference sequence-steps per second of the engine, for the time estimate (default: measureEngine) */
  measure?: (engine: SolverEngine) => Promise<number>;
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
  /** tasks of the run whose latest result is a failure (they have [[0]] placeholders in the submission) */
  failed: string[];
  /** the process's exit code: 1 when a task failed (crashed: no answer, as opposed to a wrong one), else 0 */
  exitCode: number;
}

/** The line that ends a run with failed tasks: how many, and their reasons grouped, most frequent first. */
export function failureSummary(records: Iterable<TaskRecord>, total: number, out: string): string {
  const reasons = new Map<string, number>();
  let n = 0;
  for (const r of records) {
    if (r.status !== 'failed') continue;
    n++;
    const why = (r.error ?? 'no reason recorded').replace(/\s*\n\s*/g, ' / ');
    reasons.set(why, (reasons.get(why) ?? 0) + 1);
  }
  const grouped = [...reasons]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([why, k]) => `${k} x ${why.length > 400 ? `${why.slice(0, 400)}...` : why}`);
  const more = reasons.size > 3 ? `; ${reasons.size - 3} other reason(s)` : '';
  return (
    `solve-arc: ${n} of ${total} task(s) failed (no answer, not a wrong one): ${grouped.join('; ')}${more}. ` +
    `Their entries in ${out} are [[0]] placeholders; run the same command again to retry them`
  );
}

/**
 * --adapt-backend and --adapt-batch, also when given inside --adapt-args as adapt's own --backend and --batch
 * (taken out of the extra arguments then); both places at once is refused.
 */
function adaptFlagsOf(
  args: readonly string[],
  f: Record<string, unknown>,
): { backend: AdaptBackend | undefined; batch: number | undefined; rest: string[] } {
  const rest = [...args];
  const take = (flag: string): string | undefined => {
    const value = argValue(rest, flag);
    if (value === undefined) return undefined;
    const at = rest.findIndex((a) => a === flag || a.startsWith(`${flag}=`));
    rest.splice(at, rest[at] === flag ? 2 : 1);
    return value;
  };
  const backendArg = take('--backend');
  const batchArg = take('--batch');
  for (const [name, arg, inArgs] of [
    ['adapt-backend', '--backend', backendArg],
    ['adapt-batch', '--batch', batchArg],
  ] as const)
    if (f[name] !== undefined && inArgs !== undefined)
      throw new FlagError(`--${name} and --adapt-args="${arg} ..." both set adapt's ${arg}: give one`, `--${name}`);
  const backend = (f['adapt-backend'] as string | undefined) ?? backendArg;
  if (backend !== undefined && !(ADAPT_BACKENDS as readonly string[]).includes(backend))
    throw new FlagError(
      `--adapt-args: --backend must be one of ${ADAPT_BACKENDS.join(', ')} (got "${backend}")`,
      '--adapt-args',
    );
  const batch = (f['adapt-batch'] as number | undefined) ?? (batchArg === undefined ? undefined : Number(batchArg));
  if (batch !== undefined && !(Number.isInteger(batch) && batch >= 1))
    throw new FlagError(`--adapt-args: --batch must be a positive integer (got "${batchArg}")`, '--adapt-args');
  return { backend: backend as AdaptBackend | undefined, batch, rest };
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
  const seed = f.seed as number;
  const quiet = io.quiet || (f.quiet as boolean);
  const {
    backend: argsBackend,
    batch: argsBatch,
    rest: adaptArgs,
  } = adaptFlagsOf(splitCommandLine((f['adapt-args'] as string | undefined) ?? ''), f);

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
  const known = identifiers ? modelVariantIndex(identifiers) : null;
  const modelFiles = await modelFingerprint(modelDir);

  // The engine first: the defaults of augmentation and adaptation depend on the provider it runs on.
  const start = deps.startEngine ?? ((o: EngineOptions) => Engine.start(o));
  const engine = await start({
    modelDir,
    executionProvider: f.ep as ExecutionProviderChoice,
    maxBatch: f['max-batch'] as number,
    workers: f.workers as number,
  });
  let summary: SolveArcSummary;
  let settings: RunSettings;
  try {
    const i = engine.info;
    const defaults = SOLVE_ARC_DEFAULTS[i.executionProvider];
    const augment = (f.augment as number | undefined) ?? defaults.augment;
    const adaptSteps = (f['adapt-steps'] as number | undefined) ?? defaults.adaptSteps;
    const adaptBackend = argsBackend ?? defaults.adaptBackend;
    // The most rows per adaptation step; a chunk with fewer demonstration pairs takes them all.
    const adaptRows = argsBatch ?? Math.min(config.batch_size, adaptRowLimit(config, adaptBackend) ?? Infinity);
    const fitter: RowFitter | null = !adapt
      ? null
      : (deps.fitter ??
        new AdaptProcess({
          command: resolveAdaptCommand(f['adapt-cmd'] as string | undefined, userCwd()),
          modelDir,
          steps: adaptSteps,
          seed,
          extraArgs: adaptArgs,
          puzzleEmbDim: config.puzzle_emb_ndim,
          backend: adaptBackend,
          batchSize: adaptRows,
          rowLimit: null,
          canvas: arcCanvasSide(config.seq_len),
          log: io.err,
        }));

    // What the per-task results depend on; a rerun with other values must not mix its results with these.
    settings = {
      model: modelDir,
      modelFiles,
      augment,
      seed,
      adaptSteps: adapt ? adaptSteps : null,
      adaptArgs: adapt ? adaptArgs.join(' ') : null,
      adaptBackend: adapt ? adaptBackend : null,
      adaptBatch: adapt ? adaptRows : null,
      maxSteps,
      haltThreshold,
    };
    const work = await WorkFolder.open(workDir, settings, { fresh: f.fresh as boolean });
    try {
      const notes = i.providerNotes.length > 0 ? ` (${i.providerNotes.join('; ')})` : '';
      io.err(`solve-arc: engine ${i.dtype} on ${i.executionProvider}${notes}`);
      const pending = new Map([...tasks].filter(([id, t]) => !work.solved(id, taskFingerprint(t))));
      io.err(
        `solve-arc: ${tasks.size} task(s)${pending.size < tasks.size ? `, ${pending.size} to go` : ''}, ${augment} augmented variants each, ` +
          `${adapt ? `adaptation ${adaptSteps} steps of at most ${adaptRows} rows per chunk of ${f.chunk} on ${adaptBackend}` : 'no adaptation'}` +
          `${f.augment === undefined || (adapt && f['adapt-steps'] === undefined) ? ` (defaults for ${i.executionProvider})` : ''}; ` +
          `${i.workers} engine worker(s) x batch ${i.maxBatch}; work folder ${workDir}`,
      );
      if (pending.size > 0) {
        const estimate = estimateWork({
          tasks: pending,
          known,
          augment,
          chunkSize: f.chunk as number,
          adapt: adapt ? { steps: adaptSteps, batch: (pairs) => adaptBatch(adaptRows, pairs, null) } : null,
          maxSteps,
        });
        const measure =
          deps.measure ??
          ((e: SolverEngine) =>
            measureEngine(e, arcCanvasSide(config.seq_len), Math.min(16, Math.max(1, e.stats().totalSlots))));
        io.err(describeWork(estimate, await measure(engine)));
      }
      summary = await solveArcTasks({
        tasks,
        engine,
        work,
        plan: { augment, seed, known },
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
      await work.close();
    }
  } finally {
    await engine.drain();
  }
  const failed = [...summary.records.values()].filter((r) => r.status === 'failed').map((r) => r.taskId);
  const result: SolveArcResult = {
    out,
    work: workDir,
    summary,
    submission: null,
    score: null,
    scorePath: null,
    failed,
    exitCode: failed.length > 0 ? 1 : 0,
  };
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
  if (failed.length > 0) io.err(failureSummary(summary.records.values(), tasks.size, out));
  return result;
}
