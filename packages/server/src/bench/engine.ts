// Throughput and latency of the inference engine (continuous batching over ONNX Runtime) against the batch size
// and the number of concurrent clients, on one execution provider. A preset's model gets random weights (the
// step costs the same) unless --model names a model folder. Every client sends its next puzzle as soon as the
// last one is answered. Two halting regimes: `fixed` runs every puzzle for --steps steps (threshold 1), `early`
// uses the halt threshold at which a random-weight model stops after half of --steps on average (calibrated
// first, reported), or --threshold's with a trained model (--model) on real puzzles (--puzzles, a sudoku CSV: then
// the table also gives the share of exact answers). Prints a table and writes bench/results/engine-<preset>-<ep>-<time>.json at the repo root.
//
//   pnpm --filter @trm/server bench:engine --preset sudoku-tiny --ep cpu --batch 1,8,32 --concurrency 1,8,32
//   node packages/server/dist/engine.mjs --preset sudoku-mlp --ep cuda --batch 1,16,64,256 --concurrency 1,64,256
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  type CliSpec,
  type CommandIo,
  FlagError,
  machineDescription,
  type ModelConfig,
  parseFlags,
  encodeSudoku,
  parseSudokuString,
  Rng,
  runCli,
} from '@trm/core';
import { MULTI_STEP_FORMS, type MultiStepForm } from '@trm/graph';
import {
  benchModel,
  benchRoot,
  graphFlag,
  integerList,
  modelFlags,
  quantile,
  writeBenchRecord,
} from './bench-support.js';
import { Engine, type EngineOptions, type GraphChoice } from '../engine/engine.js';
import { deviceList, EXECUTION_PROVIDER_CHOICES, workerCount } from '../engine/providers.js';
import { MAX_STEPS_LIMIT } from '../engine/solve-request.js';
import type { ExecutionProviderChoice, SolveRequest } from '../engine/types.js';

const spec: CliSpec = {
  usage: 'pnpm --filter @trm/server bench:engine',
  summary:
    'Measures the inference engine: puzzles/s and latency p50/p99 for each batch size x number of concurrent\n' +
    'clients x halting regime, on one execution provider. Writes the results as JSON under bench/results/.',
  flags: [
    ...modelFlags('bench'),
    { name: 'ep', kind: 'enum', choices: EXECUTION_PROVIDER_CHOICES, default: 'auto', help: 'execution provider' },
    graphFlag(),
    { name: 'batch', kind: 'string', value: '<n,n,...>', default: '1,8,32', help: 'engine batch sizes (maxBatch)' },
    {
      name: 'concurrency',
      kind: 'string',
      value: '<n,n,...>',
      default: '1,8,32',
      help: 'clients, each with one puzzle in flight',
    },
    {
      name: 'requests',
      kind: 'int',
      min: 1,
      value: '<n>',
      default: 64,
      help: 'puzzles per case (at least 2 per client)',
    },
    {
      name: 'steps',
      kind: 'int',
      min: 1,
      value: '<n>',
      default: MAX_STEPS_LIMIT,
      help: `maxSteps of every puzzle (1..${MAX_STEPS_LIMIT})`,
    },
    {
      name: 'halting',
      kind: 'enum',
      choices: ['fixed', 'early', 'both'],
      default: 'both',
      help: 'fixed: threshold 1 (all steps); early: calibrated threshold (or --threshold)',
    },
    {
      name: 'threshold',
      kind: 'number',
      min: 0,
      value: '<p>',
      help: "early halting's threshold instead of the calibrated one (a trained model's own: 0.5)",
    },
    {
      name: 'puzzles',
      kind: 'path',
      value: '<csv>',
      help:
        'sudoku puzzles to solve instead of random tokens: a CSV of source,question,answer[,rating] rows (the shared\n' +
        'data and `generate`); the table then gives the share of exact answers',
    },
    {
      name: 'workers',
      kind: 'string',
      value: '<n|auto>',
      help: 'inference worker threads, or auto: from the free GPU memory (default: one per --devices entry, else 1)',
    },
    {
      name: 'devices',
      kind: 'string',
      value: '<0,1,...>',
      help: "CUDA devices to spread the workers over, round robin (the server's --devices)",
    },
    {
      name: 'threads',
      kind: 'int',
      min: 1,
      value: '<n>',
      help: 'CPU provider threads per worker (default: all cores)',
    },
    { name: 'state-on-host', kind: 'bool', help: 'keep the state on the host even where it could stay on the GPU' },
    {
      name: 'steps-per-run',
      kind: 'string',
      value: '<k,k,...>',
      default: '1',
      help: 'supervision steps per session.run, each with every batch size',
    },
    {
      name: 'steps-form',
      kind: 'string',
      value: '<loop,unrolled>',
      default: 'loop',
      help: 'how a graph of k > 1 steps per run is made: an ONNX Loop, or the step unrolled k times (both: a row each)',
    },
    {
      name: 'steps-when-queued',
      kind: 'int',
      min: 1,
      value: '<q>',
      help: 'with k > q steps per run: runs take at most q steps while puzzles wait for a row (the form column says q)',
    },
    { name: 'out', kind: 'path', value: '<file>', help: 'JSON output (default bench/results/engine-...json)' },
  ],
  examples: [
    'pnpm --filter @trm/server bench:engine --preset sudoku-tiny --ep cpu --batch 1,8,32 --concurrency 1,8,32',
    'node packages/server/dist/engine.mjs --preset sudoku-mlp --ep cuda --batch 1,64,256 --concurrency 1,64,256',
  ],
};

interface CaseResult {
  batch: number;
  /** supervision steps per run */
  stepsPerRun: number;
  /** how the graph of several steps per run was made (k > 1) */
  stepsForm: string;
  concurrency: number;
  halting: 'fixed' | 'early';
  threshold: number;
  puzzles: number;
  meanSteps: number;
  seconds: number;
  puzzlesPerSecond: number;
  /** supervision steps of all puzzles per second */
  puzzleStepsPerSecond: number;
  latencyMs: { p50: number; p99: number; mean: number };
  queueMs: { p50: number };
  /** mean rows in use while the case ran */
  meanActiveRows: number;
  /** share of answers equal to the solution (--puzzles), else null */
  exact: number | null;
}

interface BenchPuzzle {
  tokens: Uint8Array;
  /** the solution's tokens, when known */
  solution?: Uint8Array;
}

/** --puzzles: a sudoku CSV (source,question,answer[,rating], header first), at most `n` rows. */
function csvPuzzles(file: string, config: ModelConfig, n: number): BenchPuzzle[] {
  if (config.task !== 'sudoku')
    throw new FlagError(`--puzzles reads sudoku CSVs; the model's task is ${config.task}`, '--puzzles');
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new FlagError(`--puzzles: ${file} has no puzzle rows`, '--puzzles');
  return lines.slice(0, n).map((line, i) => {
    const [, question, answer] = line.split(',');
    const at = `${file} row ${i + 2}`;
    return {
      tokens: encodeSudoku(parseSudokuString(question ?? '', `question of ${at}`)),
      solution: encodeSudoku(parseSudokuString(answer ?? '', `answer of ${at}`)),
    };
  });
}

function puzzles(config: ModelConfig, n: number, seed: number): BenchPuzzle[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => ({
    tokens: Uint8Array.from({ length: config.seq_len }, () => rng.int(1, config.vocab_size - 1)),
  }));
}

const sameTokens = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/** The threshold at which the puzzles' mean steps come closest to half of maxSteps (from full traces). */
function calibrate(traces: number[][], maxSteps: number): { threshold: number; meanSteps: number } {
  const stepsAt = (t: number) =>
    traces.reduce((n, probs) => {
      const i = probs.findIndex((p) => p > t);
      return n + (i < 0 ? maxSteps : i + 1);
    }, 0) / traces.length;
  const candidates = [...new Set(traces.flat())].sort((a, b) => a - b);
  let best = { threshold: 1, meanSteps: maxSteps };
  for (const c of candidates) {
    const m = stepsAt(c);
    if (Math.abs(m - maxSteps / 2) < Math.abs(best.meanSteps - maxSteps / 2)) best = { threshold: c, meanSteps: m };
  }
  return best;
}

async function runCase(
  engine: Engine,
  inputs: BenchPuzzle[],
  o: { concurrency: number; requests: number; steps: number; threshold: number },
): Promise<Omit<CaseResult, 'batch' | 'stepsPerRun' | 'stepsForm' | 'concurrency' | 'halting' | 'threshold'>> {
  const latencies: number[] = [];
  const queue: number[] = [];
  let steps = 0;
  let next = 0;
  let activeSum = 0;
  let samples = 0;
  let exact = 0;
  let known = 0;
  const sampler = setInterval(() => {
    activeSum += engine.stats().activeSlots;
    samples++;
  }, 5);
  const t0 = performance.now();
  const client = async () => {
    while (next < o.requests) {
      const input = inputs[next++ % inputs.length]!;
      const request: SolveRequest = {
        tokens: input.tokens,
        maxSteps: o.steps,
        haltThreshold: o.threshold,
        trace: false,
      };
      const s = performance.now();
      const r = await engine.solve(request);
      latencies.push(performance.now() - s);
      if (input.solution) {
        known++;
        if (sameTokens(r.tokens, input.solution)) exact++;
      }
      queue.push(r.timing.queueMs);
      steps += r.steps;
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, client));
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  latencies.sort((a, b) => a - b);
  queue.sort((a, b) => a - b);
  return {
    puzzles: latencies.length,
    meanSteps: steps / latencies.length,
    seconds,
    puzzlesPerSecond: latencies.length / seconds,
    puzzleStepsPerSecond: steps / seconds,
    latencyMs: {
      p50: quantile(latencies, 0.5),
      p99: quantile(latencies, 0.99),
      mean: latencies.reduce((a, b) => a + b, 0) / latencies.length,
    },
    queueMs: { p50: quantile(queue, 0.5) },
    meanActiveRows: samples > 0 ? activeSum / samples : 0,
    exact: known > 0 ? exact / known : null,
  };
}

const fmt = (x: number, digits = 1) => x.toFixed(digits);

type Calibration = { threshold: number; meanSteps: number };

/** Warm-up and the halting calibration: 32 puzzles traced for all steps. */
async function calibrateEarlyHalting(engine: Engine, inputs: BenchPuzzle[], steps: number): Promise<Calibration> {
  const traced = await Promise.all(
    inputs.slice(0, 32).map(({ tokens }) => engine.solve({ tokens, maxSteps: steps, haltThreshold: 1, trace: true })),
  );
  return calibrate(
    traced.map((r) => r.trace!.map((t) => t.haltProbability)),
    steps,
  );
}

/** Warm-up of an engine with another batch size: one step of a full batch. */
async function warmUp(engine: Engine, inputs: BenchPuzzle[], batch: number): Promise<void> {
  await Promise.all(
    inputs.slice(0, batch).map(({ tokens }) => engine.solve({ tokens, maxSteps: 1, haltThreshold: 1, trace: false })),
  );
}

/** Every number of clients in every halting regime, on an engine of batch size `batch`. */
async function runCases(
  engine: Engine,
  batch: number,
  inputs: BenchPuzzle[],
  o: {
    concurrencies: number[];
    modes: readonly ('fixed' | 'early')[];
    requests: number;
    steps: number;
    earlyThreshold: number;
  },
  io: CommandIo,
): Promise<Omit<CaseResult, 'stepsForm'>[]> {
  const results: Omit<CaseResult, 'stepsForm'>[] = [];
  for (const concurrency of o.concurrencies)
    for (const halting of o.modes) {
      const threshold = halting === 'fixed' ? 1 : o.earlyThreshold;
      const n = Math.max(o.requests, 2 * concurrency);
      const r = await runCase(engine, inputs, { concurrency, requests: n, steps: o.steps, threshold });
      results.push({ batch, stepsPerRun: engine.info.stepsPerRun, concurrency, halting, threshold, ...r });
      io.err(
        `  batch ${batch}, ${concurrency} clients, ${halting}: ${fmt(r.puzzlesPerSecond)} puzzles/s, p50 ${fmt(r.latencyMs.p50)} ms, p99 ${fmt(r.latencyMs.p99)} ms`,
      );
    }
  return results;
}

/** The results as a markdown table, one row per batch size, number of clients and halting regime. */
function resultTable(results: readonly CaseResult[]): string[] {
  const head =
    '| batch | steps/run | form | clients | halting | mean steps | puzzles/s | puzzle-steps/s | p50 ms | p99 ms | queue p50 ms | rows in use | exact |';
  return [
    head,
    head.replace(/[^|]+/g, '---'),
    ...results.map(
      (r) =>
        `| ${r.batch} | ${r.stepsPerRun} | ${r.stepsForm} | ${r.concurrency} | ${r.halting} | ${fmt(r.meanSteps, 2)} | ${fmt(r.puzzlesPerSecond)} | ${fmt(r.puzzleStepsPerSecond, 0)} | ${fmt(r.latencyMs.p50)} | ${fmt(r.latencyMs.p99)} | ${fmt(r.queueMs.p50)} | ${fmt(r.meanActiveRows)} | ${r.exact === null ? '-' : `${fmt(100 * r.exact)} %`} |`,
    ),
  ];
}

async function benchEngine(argv: readonly string[], io: CommandIo): Promise<void> {
  const { values: f, help } = parseFlags(argv, spec);
  if (help) return;
  const batches = integerList('batch', f.batch as string);
  const concurrencies = integerList('concurrency', f.concurrency as string);
  const runSteps = integerList('steps-per-run', f['steps-per-run'] as string);
  const forms = (f['steps-form'] as string).split(',').map((x) => x.trim());
  for (const form of forms)
    if (!(MULTI_STEP_FORMS as readonly string[]).includes(form))
      throw new FlagError(
        `--steps-form must be a list of ${MULTI_STEP_FORMS.join(', ')} (got "${form}")`,
        '--steps-form',
      );
  // k = 1 is the step graph whatever the form: run it once
  const variants = runSteps.flatMap((k) =>
    k === 1 ? [{ k, form: 'loop' as MultiStepForm }] : forms.map((form) => ({ k, form: form as MultiStepForm })),
  );
  const steps = f.steps as number;
  if (steps > MAX_STEPS_LIMIT)
    throw new FlagError(`--steps must be in 1..${MAX_STEPS_LIMIT} (got ${steps})`, '--steps');
  const requests = f.requests as number;
  const modes = f.halting === 'both' ? (['fixed', 'early'] as const) : ([f.halting] as ['fixed'] | ['early']);
  const { modelDir, config, label, made } = await benchModel(f);
  const inputs = f.puzzles
    ? csvPuzzles(f.puzzles as string, config, Math.max(requests, 64))
    : puzzles(config, Math.max(requests, 64), 1);
  const given = f.threshold as number | undefined;
  const base: Omit<EngineOptions, 'maxBatch'> = {
    modelDir,
    executionProvider: f.ep as ExecutionProviderChoice,
    graph: f.graph as GraphChoice,
    workers: workerCount(f.workers as string | undefined),
    threads: f.threads as number | undefined,
    stateOnDevice: f['state-on-host'] !== true,
    devices: deviceList(f.devices as string | undefined),
    maxQueue: Math.max(1024, Math.max(...concurrencies)),
    queueTimeoutMs: 0, // clients keep their puzzles queued; a slow provider must not time them out
    maxWaitMs: 2,
  };
  const results: CaseResult[] = [];
  let provider = '';
  let dtype = '';
  let notes: string[] = [];
  let workers = 1;
  let calibration: Calibration | null = null;
  try {
    for (const { k: stepsPerRun, form: stepsForm } of variants)
      for (const batch of batches) {
        const q = f['steps-when-queued'] as number | undefined;
        const stepsWhenQueued = q !== undefined && q < stepsPerRun ? q : undefined;
        const engine = await Engine.start({ ...base, maxBatch: batch, stepsPerRun, stepsForm, stepsWhenQueued });
        try {
          provider = engine.info.executionProvider;
          dtype = engine.info.dtype;
          notes = engine.info.providerNotes;
          workers = engine.info.workers;
          if (calibration === null) {
            io.err(`bench:engine ${label} on ${provider} (${notes.join('; ')}), ${machineDescription()}`);
            if (given === undefined) calibration = await calibrateEarlyHalting(engine, inputs, steps);
            else {
              await warmUp(engine, inputs, batch);
              calibration = { threshold: given, meanSteps: Number.NaN };
            }
          } else await warmUp(engine, inputs, batch);
          const cases = { concurrencies, modes, requests, steps, earlyThreshold: calibration!.threshold };
          const form = stepsPerRun > 1 ? `${stepsForm}${stepsWhenQueued ? `, q${stepsWhenQueued}` : ''}` : '-';
          results.push(...(await runCases(engine, batch, inputs, cases, io)).map((r) => ({ ...r, stepsForm: form })));
        } finally {
          await engine.drain();
        }
      }
  } finally {
    if (made) rmSync(made.dir, { recursive: true, force: true });
  }

  io.out(
    `\nengine: ${label}, ${dtype} graph on ${provider}, ${workers} worker(s), --steps ${steps}, ${machineDescription()}`,
  );
  if (calibration && given !== undefined) io.out(`early halting: threshold ${given} (--threshold)`);
  else if (calibration)
    io.out(
      `early halting: threshold ${calibration.threshold.toPrecision(4)} (mean ${fmt(calibration.meanSteps, 2)} steps on the calibration puzzles)`,
    );
  if (f.puzzles) io.out(`puzzles: ${f.puzzles as string} (${inputs.length})`);
  for (const line of resultTable(results)) io.out(line);
  const out =
    (f.out as string | undefined) ??
    join(
      benchRoot(),
      'bench',
      'results',
      `engine-${f.model ? 'model' : (f.preset as string)}-${provider}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
    );
  writeBenchRecord(
    out,
    {
      bench: 'engine',
      date: new Date().toISOString(),
      machine: machineDescription(),
      model: label,
      config,
      executionProvider: provider,
      graphDtype: dtype,
      providerNotes: notes,
      workers,
      devices: f.devices ?? null,
      steps,
      calibration,
      command: `bench:engine ${argv.join(' ')}`,
      results,
    },
    io,
  );
}

await runCli(spec, benchEngine);
