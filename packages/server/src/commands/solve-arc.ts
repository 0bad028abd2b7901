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
  type ArcTask,
  type ArcTestCounts,
  arcCanvasSide,
  buildSubmission,
  type CliSpec,
  type CommandIo,
  DEFAULT_SEED,
  FlagError,
  type FlagValues,
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
import { Engine, ENGINE_DEFAULTS, type EngineOptions, GRAPH_CHOICES, type GraphChoice } from '../engine/engine.js';
import { EXECUTION_PROVIDER_CHOICES } from '../engine/providers.js';
import { MAX_STEPS_LIMIT } from '../engine/solve-request.js';
import type { ExecutionProviderChoice, ExecutionProviderName } from '../engine/types.js';

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
      name: 'graph',
      kind: 'enum',
      choices: GRAPH_CHOICES,
      default: 'auto',
      help: "the step graph that runs (the server's --graph): auto: on CUDA and WebGPU a float16 graph built from the weights, model.onnx on the CPU; file: always model.onnx; fp16: the built graph everywhere",
    },
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

/** The flags, checked and typed; the defaults that depend on the model or the engine's provider come later. */
interface SolveArcFlags {
  modelDir: string;
  tasksPath: string;
  out: string;
  solutionsPath: string | undefined;
  workDir: string;
  fresh: boolean;
  only: string[] | undefined;
  limit: number | undefined;
  chunk: number;
  seed: number;
  /** --max-steps; undefined: the model's halt_max_steps */
  maxSteps: number | undefined;
  haltThreshold: number;
  quiet: boolean;
  engine: Omit<EngineOptions, 'modelDir'>;
  /** undefined: the provider's default */
  augment: number | undefined;
  adapt: {
    off: boolean;
    steps: number | undefined;
    backend: AdaptBackend | undefined;
    batch: number | undefined;
    /** adapt's own flags from --adapt-args, --backend and --batch taken out */
    args: string[];
    command: string | undefined;
  };
}

function solveArcFlags(f: FlagValues, io: CommandIo): SolveArcFlags {
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
  const { backend, batch, rest } = adaptFlagsOf(splitCommandLine((f['adapt-args'] as string | undefined) ?? ''), f);
  return {
    modelDir,
    tasksPath,
    out,
    solutionsPath,
    workDir,
    fresh: f.fresh as boolean,
    only,
    limit: f.limit as number | undefined,
    chunk: f.chunk as number,
    seed: f.seed as number,
    maxSteps: f['max-steps'] as number | undefined,
    haltThreshold: f['halt-threshold'] as number,
    quiet: io.quiet || (f.quiet as boolean),
    engine: {
      executionProvider: f.ep as ExecutionProviderChoice,
      graph: f.graph as GraphChoice,
      maxBatch: f['max-batch'] as number,
      workers: f.workers as number,
    },
    augment: f.augment as number | undefined,
    adapt: {
      off: f['no-adapt'] as boolean,
      steps: f['adapt-steps'] as number | undefined,
      backend,
      batch,
      args: rest,
      command: f['adapt-cmd'] as string | undefined,
    },
  };
}

/** The model (its config, the tasks it knows, whether rows can be fitted) and the tasks of the run. */
interface RunInputs {
  config: ModelConfig;
  maxSteps: number;
  tasks: Map<string, ArcTask>;
  /** test inputs per task, for the submission */
  counts: ArcTestCounts;
  /** rows are fitted for the tasks the model does not know */
  adapt: boolean;
  known: Map<string, string[]> | null;
  modelFiles: string;
}

async function loadInputs(flags: SolveArcFlags, io: CommandIo): Promise<RunInputs> {
  const { modelDir } = flags;
  const config = await arcModelConfig(modelDir);
  const maxSteps = flags.maxSteps ?? config.halt_max_steps;
  if (maxSteps > MAX_STEPS_LIMIT) throw new FlagError(`--max-steps must be at most ${MAX_STEPS_LIMIT}`, '--max-steps');
  const loaded = await loadTasks(flags.tasksPath);
  const tasks = selectTasks(loaded.tasks, { only: flags.only, limit: flags.limit });
  const counts = testCountsOf(tasks);
  if (flags.solutionsPath === undefined && loaded.withOutputs > 0)
    io.err(
      `note: ${loaded.withOutputs} task(s) of --tasks carry their test outputs; pass --solutions to score the run`,
    );

  const hasTable = config.puzzle_emb_ndim > 0;
  const identifiers = hasTable && existsSync(join(modelDir, IDENTIFIERS_FILE)) ? readIdentifiers(modelDir) : null;
  const adapt = hasTable && !flags.adapt.off;
  if (adapt && identifiers === null)
    throw new FlagError(
      `--model ${modelDir} has no ${IDENTIFIERS_FILE}, so adaptation cannot tell its rows from new ones: pass --no-adapt`,
      '--model',
    );
  const known = identifiers ? modelVariantIndex(identifiers) : null;
  const modelFiles = await modelFingerprint(modelDir);
  return { config, maxSteps, tasks, counts, adapt, known, modelFiles };
}

/** Augmentation and adaptation of the run: the flags, else the defaults of the engine's provider. */
interface RunChoices {
  augment: number;
  adaptSteps: number;
  adaptBackend: AdaptBackend;
  /** the most rows per adaptation step; a chunk with fewer demonstration pairs takes them all */
  adaptRows: number;
}

function runChoices(flags: SolveArcFlags, config: ModelConfig, provider: ExecutionProviderName): RunChoices {
  const defaults = SOLVE_ARC_DEFAULTS[provider];
  const adaptBackend = flags.adapt.backend ?? defaults.adaptBackend;
  return {
    augment: flags.augment ?? defaults.augment,
    adaptSteps: flags.adapt.steps ?? defaults.adaptSteps,
    adaptBackend,
    adaptRows: flags.adapt.batch ?? Math.min(config.batch_size, adaptRowLimit(config, adaptBackend) ?? Infinity),
  };
}

/** The fitter of rows for unknown tasks: the one passed in, else the trainer's adapt as a child process. */
function rowFitter(
  flags: SolveArcFlags,
  inputs: RunInputs,
  c: RunChoices,
  io: CommandIo,
  deps: SolveArcDeps,
): RowFitter | null {
  if (!inputs.adapt) return null;
  return (
    deps.fitter ??
    new AdaptProcess({
      command: resolveAdaptCommand(flags.adapt.command, userCwd()),
      modelDir: flags.modelDir,
      steps: c.adaptSteps,
      seed: flags.seed,
      extraArgs: flags.adapt.args,
      puzzleEmbDim: inputs.config.puzzle_emb_ndim,
      backend: c.adaptBackend,
      batchSize: c.adaptRows,
      rowLimit: null,
      canvas: arcCanvasSide(inputs.config.seq_len),
      log: io.err,
    })
  );
}

/** What the per-task results depend on; a rerun with other values must not mix its results with these. */
function runSettings(flags: SolveArcFlags, inputs: RunInputs, c: RunChoices): RunSettings {
  const adapt = inputs.adapt;
  return {
    model: flags.modelDir,
    modelFiles: inputs.modelFiles,
    augment: c.augment,
    seed: flags.seed,
    adaptSteps: adapt ? c.adaptSteps : null,
    adaptArgs: adapt ? flags.adapt.args.join(' ') : null,
    adaptBackend: adapt ? c.adaptBackend : null,
    adaptBatch: adapt ? c.adaptRows : null,
    maxSteps: inputs.maxSteps,
    haltThreshold: flags.haltThreshold,
  };
}

/** The lines before the run: the engine, the run's shape, and the work still to do with a time estimate. */
async function announceRun(
  engine: SolverEngine,
  work: WorkFolder,
  flags: SolveArcFlags,
  inputs: RunInputs,
  c: RunChoices,
  io: CommandIo,
  deps: SolveArcDeps,
): Promise<void> {
  const i = engine.info;
  const { tasks, adapt } = inputs;
  const notes = i.providerNotes.length > 0 ? ` (${i.providerNotes.join('; ')})` : '';
  io.err(`solve-arc: engine ${i.dtype} on ${i.executionProvider}${notes}`);
  const pending = new Map([...tasks].filter(([id, t]) => !work.solved(id, taskFingerprint(t))));
  io.err(
    `solve-arc: ${tasks.size} task(s)${pending.size < tasks.size ? `, ${pending.size} to go` : ''}, ${c.augment} augmented variants each, ` +
      `${adapt ? `adaptation ${c.adaptSteps} steps of at most ${c.adaptRows} rows per chunk of ${flags.chunk} on ${c.adaptBackend}` : 'no adaptation'}` +
      `${flags.augment === undefined || (adapt && flags.adapt.steps === undefined) ? ` (defaults for ${i.executionProvider})` : ''}; ` +
      `${i.workers} engine worker(s) x batch ${i.maxBatch}; work folder ${flags.workDir}`,
  );
  if (pending.size === 0) return;
  const estimate = estimateWork({
    tasks: pending,
    known: inputs.known,
    augment: c.augment,
    chunkSize: flags.chunk,
    adapt: adapt ? { steps: c.adaptSteps, batch: (pairs) => adaptBatch(c.adaptRows, pairs, null) } : null,
    maxSteps: inputs.maxSteps,
  });
  const measure =
    deps.measure ??
    ((e: SolverEngine) =>
      measureEngine(e, arcCanvasSide(inputs.config.seq_len), Math.min(16, Math.max(1, e.stats().totalSlots))));
  io.err(describeWork(estimate, await measure(engine)));
}

/**
 * Starts the engine (the defaults of augmentation and adaptation depend on its provider), opens the work folder and
 * solves the tasks; the engine is drained and the work folder closed however the run ends.
 */
async function solveOnEngine(
  flags: SolveArcFlags,
  inputs: RunInputs,
  io: CommandIo,
  deps: SolveArcDeps,
): Promise<{ summary: SolveArcSummary; settings: RunSettings }> {
  const start = deps.startEngine ?? ((o: EngineOptions) => Engine.start(o));
  const engine = await start({ modelDir: flags.modelDir, ...flags.engine });
  try {
    const c = runChoices(flags, inputs.config, engine.info.executionProvider);
    const fitter = rowFitter(flags, inputs, c, io, deps);
    const settings = runSettings(flags, inputs, c);
    const work = await WorkFolder.open(flags.workDir, settings, { fresh: flags.fresh });
    try {
      await announceRun(engine, work, flags, inputs, c, io, deps);
      const summary = await solveArcTasks({
        tasks: inputs.tasks,
        engine,
        work,
        plan: { augment: c.augment, seed: flags.seed, known: inputs.known },
        fitter,
        chunkSize: flags.chunk,
        maxSteps: inputs.maxSteps,
        haltThreshold: flags.haltThreshold,
        canvas: arcCanvasSide(inputs.config.seq_len),
        signal: io.signal,
        log: io.err,
        quiet: flags.quiet,
        onTask: deps.onTask,
      });
      return { summary, settings };
    } finally {
      await work.close();
    }
  } finally {
    await engine.drain();
  }
}

/** Writes the submission from the solved tasks' top candidates (failed ones get placeholders). */
async function writeRunSubmission(
  summary: SolveArcSummary,
  counts: ArcTestCounts,
  out: string,
  io: CommandIo,
): Promise<ArcSubmission> {
  const predictions = new Map(
    [...summary.records].flatMap(([id, r]) =>
      r.status === 'solved' ? [[id, r.tests.map((t) => t.candidates.map((c) => c.grid))] as const] : [],
    ),
  );
  const built = buildSubmission(counts, predictions);
  for (const w of built.warnings) io.err(`note: ${w}`);
  await writeSubmission(out, built.submission, counts);
  return built.submission;
}

/** Scores the submission against the solutions, writes `<out>.score.json` and prints the score table. */
async function writeRunScore(
  submission: ArcSubmission,
  summary: SolveArcSummary,
  settings: RunSettings,
  flags: SolveArcFlags,
  counts: ArcTestCounts,
  io: CommandIo,
): Promise<{ score: ScoreReport; scorePath: string }> {
  const { out, modelDir, tasksPath } = flags;
  const report = scoreReport(submission, await loadSolutions(flags.solutionsPath!), counts, summary.records);
  const scorePath = `${stem(out)}.score.json`;
  await writeFileAtomic(
    scorePath,
    `${JSON.stringify({ submission: out, model: modelDir, taskSource: tasksPath, settings, ...report }, null, 2)}\n`,
  );
  io.out(scoreTable(report));
  return { score: report, scorePath };
}

/** The run's last line: tasks solved, from earlier runs and failed, predictions, the submission and the score. */
function summaryLine(result: SolveArcResult, total: number): string {
  const { summary, failed } = result;
  return (
    `solve-arc: ${total} task(s): ${summary.solved.length} solved now, ${summary.skipped.length} from earlier runs, ` +
    `${failed.length} failed${failed.length > 0 ? ` (${failed.slice(0, 10).join(', ')}${failed.length > 10 ? ', ...' : ''}; reasons above and in ${result.work})` : ''}; ` +
    `${summary.predictions} predictions in ${summary.seconds.toFixed(1)} s; submission written to ${result.out}` +
    (result.score
      ? `; pass@2 ${(100 * result.score.score).toFixed(1)} % per task, ${(100 * result.score.outputScore).toFixed(1)} % per test output (${result.scorePath})`
      : '')
  );
}

export async function solveArcCommand(
  argv: readonly string[],
  io: CommandIo,
  deps: SolveArcDeps = {},
): Promise<SolveArcResult | null> {
  const { values: f, help } = parseFlags(argv, solveArcSpec);
  if (help) return null;
  const flags = solveArcFlags(f, io);
  const inputs = await loadInputs(flags, io);
  const { summary, settings } = await solveOnEngine(flags, inputs, io, deps);
  const failed = [...summary.records.values()].filter((r) => r.status === 'failed').map((r) => r.taskId);
  const result: SolveArcResult = {
    out: flags.out,
    work: flags.workDir,
    summary,
    submission: null,
    score: null,
    scorePath: null,
    failed,
    exitCode: failed.length > 0 ? 1 : 0,
  };
  if (summary.aborted) {
    io.err(
      `solve-arc: stopped; ${summary.records.size} of ${inputs.tasks.size} task(s) have results in ${flags.workDir}: run the same command again to continue`,
    );
    return result;
  }
  result.submission = await writeRunSubmission(summary, inputs.counts, flags.out, io);
  if (flags.solutionsPath !== undefined) {
    const { score, scorePath } = await writeRunScore(result.submission, summary, settings, flags, inputs.counts, io);
    result.score = score;
    result.scorePath = scorePath;
  }
  io.out(summaryLine(result, inputs.tasks.size));
  if (failed.length > 0) io.err(failureSummary(summary.records.values(), inputs.tasks.size, flags.out));
  return result;
}
