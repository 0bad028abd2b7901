// Training speed of the ONNX Runtime backend: optimiser steps of the real loop (OrtTrainingRun: sampler, carry,
// the training graph, host AdamATan2 + EMA + sign-SGD, halting) on random tokens of each task's shape, per preset
// and batch. Reports the median step time after warm-up steps, samples/s, model TFLOP/s by the matmul count of the
// official anchor script (official-train-anchor.py `flops`), and where a step's time goes: session.run (graph
// and host transfers), the optimiser on the host, other host work. A case that fails (out of memory, say) is
// reported with its reason and the next one runs. Prints a table and writes JSON (--json).
// --profile adds ONNX Runtime's profile of the training graph's timed runs: the op types that take its time. On the
// CUDA provider kernels are launched asynchronously, so a node's time is the host's; run with CUDA_LAUNCH_BLOCKING=1
// to make every launch wait for its kernel, so that each op type's time is its time on the GPU (the step is then
// slower by the launch latency, ~10 us per node).
//
//   node packages/trainer/dist/ort-train-speed.mjs --backend ort-cuda --cases sudoku-mlp:768,maze-att:64
//   pnpm --filter @trm/trainer exec tsx src/bench/ort-train-speed.ts --backend ort-cpu --cases sudoku-tiny-mlp:32
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type CliSpec,
  type CommandIo,
  getPreset,
  machineDescription,
  ORT_BACKENDS,
  type ModelConfig,
  type OpShare,
  type ProfileEvent,
  parseFlags,
  Rng,
  runCli,
  stateLen,
  summarizeProfile,
  swigluIntermediate,
  TASK_SHAPES,
  validateModelConfig,
} from '@trm/core';
import { selectBackend } from '../backend/backend.js';
import { fromMemory } from '../data/split.js';
import { OrtTrainingRun, shareRows } from '../ort/ort-training-run.js';
import type { OrtProvider } from '../ort/train-step.js';
import {
  DEFAULT_NO_GRAD_FORM,
  MULTI_STEP_FORMS,
  NO_GRAD_FORMS,
  type NoGradForm,
  TRAIN_OP_CHOICES,
  TRAIN_CARRIES,
  defaultCarry,
  TRAIN_OPS,
  TRAIN_PRECISIONS,
  type TrainCarry,
  type TrainOps,
  type TrainPrecision,
  type TrainStepsForm,
} from '@trm/graph';
import { OPTIMIZER_PLACES, type OptimizerPlace } from '../ort/optimizer-update.js';
import { listFlag } from './list-flag.js';

const spec: CliSpec = {
  usage: 'node packages/trainer/dist/ort-train-speed.mjs',
  summary:
    'Training speed of the ONNX Runtime backend: optimiser steps of the real loop on random tokens, per preset,\n' +
    'batch and precision; the median step time after warm-up, samples/s, TFLOP/s and where a step goes.',
  flags: [
    {
      name: 'backend',
      kind: 'enum',
      choices: ORT_BACKENDS,
      default: 'ort-cpu',
      value: '<name>',
      help: `ONNX Runtime backend: ${ORT_BACKENDS.join(', ')}`,
    },
    {
      name: 'cases',
      kind: 'string',
      default: 'sudoku-tiny-mlp:32,sudoku-mlp:4',
      value: '<list>',
      help: 'preset:batch[/micro],...: presets and batch sizes; /micro runs a batch in micro-batches of that many rows',
    },
    {
      name: 'precision',
      kind: 'string',
      default: 'fp32',
      value: '<p,...>',
      help: `training precisions, each case runs in every one: ${TRAIN_PRECISIONS.join(', ')}`,
    },
    {
      name: 'optimizer-on',
      kind: 'string',
      default: 'host',
      value: '<place,...>',
      help: `where the optimiser update runs, each case runs in every one: ${OPTIMIZER_PLACES.join(', ')} (the update graph on the training device)`,
    },
    {
      name: 'no-grad-form',
      kind: 'string',
      default: DEFAULT_NO_GRAD_FORM,
      value: '<f,...>',
      help: `op forms of the recursions outside the gradient, each case runs in every one: ${NO_GRAD_FORMS.join(', ')} (RMSNormalization and the SwiGLU as two products there)`,
    },
    {
      name: 'swiglu',
      kind: 'string',
      default: TRAIN_OPS.swiglu,
      value: '<f,...>',
      help: `SwiGLU form of the differentiated recursion, each case runs in every one: ${TRAIN_OP_CHOICES.swiglu.join(', ')} ([gate | up] as one product and a Split, or two products)`,
    },
    {
      name: 'mlp-t',
      kind: 'string',
      default: TRAIN_OPS.mlpT,
      value: '<f,...>',
      help: `MLP-mixer token-mix form of the differentiated recursion, each case runs in every one: ${TRAIN_OP_CHOICES.mlpT.join(', ')} (weights from the left, or over the transposed state as the reference)`,
    },
    {
      name: 'norm',
      kind: 'string',
      default: TRAIN_OPS.norm,
      value: '<f,...>',
      help: `RMSNorm form (last axis) of the differentiated recursion, each case runs in every one: ${TRAIN_OP_CHOICES.norm.join(', ')} (float32 ops, or SimplifiedLayerNormalization)`,
    },
    {
      name: 'silu',
      kind: 'string',
      default: TRAIN_OPS.silu,
      value: '<f,...>',
      help: `SiLU form of the differentiated recursion, each case runs in every one: ${TRAIN_OP_CHOICES.silu.join(', ')} (Sigmoid and Mul, or QuickGelu)`,
    },
    {
      name: 'pad',
      kind: 'string',
      default: TRAIN_OPS.mlpTPad ?? 'none',
      value: '<p,...>',
      help: `MLP-mixer token-mix products over the sequence padded to a multiple of 8 positions, each case runs in every one: ${TRAIN_OP_CHOICES.mlpTPad.join(', ')}`,
    },
    {
      name: 'outputs',
      kind: 'string',
      default: 'reused',
      value: '<o,...>',
      help: "output buffers of the graph runs, each case runs in every one: new (allocated by each run), reused (kept from step to step, the trainer's default)",
    },
    {
      name: 'carry',
      kind: 'string',
      default: 'auto',
      value: '<c,...>',
      help: `element type of the carry in and out of the graph, each case runs in every one: ${TRAIN_CARRIES.join(', ')} (fp16 with --precision fp16 only), auto (the trainer's default: fp16 in fp16, else fp32)`,
    },
    {
      name: 'profile',
      kind: 'bool',
      help: "ONNX Runtime's profile of the timed runs: the training graph's op types by time (CUDA: set CUDA_LAUNCH_BLOCKING=1 for GPU times)",
    },
    { name: 'top', kind: 'int', min: 1, default: 15, value: '<n>', help: 'op types listed per profiled case' },
    { name: 'steps', kind: 'int', min: 1, default: 10, value: '<n>', help: 'timed optimiser steps per case' },
    { name: 'warmup', kind: 'int', min: 0, default: 3, value: '<n>', help: 'untimed steps before them' },
    { name: 'gpus', kind: 'int', min: 1, default: 1, value: '<n>', help: 'devices the batch is split over' },
    {
      name: 'lanes',
      kind: 'int',
      min: 1,
      default: 1,
      value: '<n>',
      help: "sessions per device, run at once in worker threads (one's transfers overlap another's kernels)",
    },
    {
      name: 'steps-per-run',
      kind: 'int',
      min: 1,
      default: 1,
      value: '<k>',
      help: 'optimiser steps per graph run (the graph of k steps: --steps and --warmup then count runs of k steps)',
    },
    {
      name: 'steps-form',
      kind: 'string',
      default: 'loop',
      value: '<f>',
      help: 'with --steps-per-run above 1: the steps as one ONNX Loop (loop) or k copies of the step (unrolled)',
    },
    {
      name: 'optimizer-threads',
      kind: 'int',
      min: 1,
      default: Math.min(16, availableParallelism()),
      value: '<n>',
      help: "threads of the host optimiser (default: the trainer's, the cores up to 16)",
    },
    { name: 'json', kind: 'path', value: '<file>', help: 'also write the rows as JSON' },
  ],
  examples: [
    'node packages/trainer/dist/ort-train-speed.mjs --backend ort-cuda --cases sudoku-mlp:768,maze-att:64',
    'pnpm --filter @trm/trainer exec tsx src/bench/ort-train-speed.ts --backend ort-cpu --cases sudoku-tiny-mlp:32',
    'CUDA_LAUNCH_BLOCKING=1 node packages/trainer/dist/ort-train-speed.mjs --backend ort-cuda --precision fp16 --cases sudoku-mlp:768 --no-grad-form differentiable,inference --profile --steps 3',
  ],
};

/** Matmul FLOP of one training step per sample (forward of the whole recursion, 3x the part with gradient). */
export function trainFlopPerSample(c: ModelConfig): number {
  const D = c.hidden_size;
  const S = stateLen(c);
  const I = swigluIntermediate(D, c.expansion);
  let layer = 2 * S * (D * 2 * I + I * D);
  if (c.mlp_t) {
    const It = swigluIntermediate(S, c.expansion);
    layer += 2 * D * (S * 2 * It + It * S);
  } else layer += 2 * S * (D * 3 * D + D * D) + 4 * S * S * D;
  const call = c.L_layers * layer;
  const noGrad = (c.H_cycles - 1) * (c.L_cycles + 1);
  const grad = c.L_cycles + 1;
  const head = 2 * S * D * c.vocab_size + 2 * D * 2;
  return call * (noGrad + 3 * grad) + 3 * head;
}

/** The profile of a case's timed runs: per graph run, and the op types that take the time inside nodes. */
interface ProfileRow {
  runs: number;
  run_ms: number;
  nodes_per_run: number;
  node_ms: number;
  ops: OpShare[];
  /** op type and input shapes, by time (the first 40) */
  shapes: OpShare[];
  gpu: { kernels: number; ms: number } | null;
}

/** One combination of the swept flags: how a case is trained. */
type Variant = {
  precision: TrainPrecision;
  optimizerOn: OptimizerPlace;
  noGradForm: NoGradForm;
  trainOps: TrainOps;
  outputs: 'new' | 'reused';
  carry: TrainCarry;
};

/** Every combination of one value from each list, as objects keyed like `lists`. */
function product<T extends Record<string, unknown>>(lists: { [K in keyof T]: readonly T[K][] }): T[] {
  let out: Record<string, unknown>[] = [{}];
  for (const [key, values] of Object.entries(lists) as [string, readonly unknown[]][])
    out = out.flatMap((partial) => values.map((v) => ({ ...partial, [key]: v })));
  return out as T[];
}

/** A row's fields naming its variant (as in the JSON). */
function variantFields(v: Variant, stepsPerRun = 1) {
  return {
    precision: v.precision,
    // with several steps per run the update is part of the training graph
    optimizer_on: stepsPerRun > 1 ? ('graph' as const) : v.optimizerOn,
    no_grad_form: v.noGradForm,
    ops: v.trainOps,
    outputs: v.outputs,
    carry: v.carry,
  };
}

interface Row {
  preset: string;
  batch: number;
  precision: TrainPrecision;
  optimizer_on: OptimizerPlace | 'graph';
  no_grad_form: NoGradForm;
  /** the op forms of the differentiated part */
  ops: TrainOps;
  outputs: 'new' | 'reused';
  carry: TrainCarry;
  profile?: ProfileRow;
  micro_batch?: number;
  ok: boolean;
  error?: string;
  step_s?: number;
  samples_per_s?: number;
  tflop_per_s?: number;
  run_s?: number;
  optimizer_s?: number;
  host_s?: number;
  graph_mb?: number;
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;

async function runCase(
  preset: string,
  batch: number,
  provider: OrtProvider,
  devices: number,
  microBatch: number | undefined,
  v: Variant,
  timing: {
    steps: number;
    warmup: number;
    profile: boolean;
    lanes: number;
    optimizerThreads: number;
    stepsPerRun: number;
    stepsForm: TrainStepsForm;
  },
): Promise<Row> {
  const p = getPreset(preset);
  const shape = TASK_SHAPES[p.model.task];
  const model = validateModelConfig({ ...p.model, batch_size: batch });
  const rng = new Rng(1);
  const n = Math.max(batch * 4, 64);
  const S = model.seq_len;
  const inputs = Uint8Array.from({ length: n * S }, () => rng.int(1, shape.vocabSize - 1));
  const labels = Uint8Array.from({ length: n * S }, () => rng.int(1, shape.vocabSize - 1));
  const data = fromMemory({
    metadata: { seq_len: S, pad_id: 0, ignore_label_id: 0, blank_identifier_id: 0 },
    numExamples: n,
    inputs,
    labels,
    puzzleIdentifiers: new Int32Array(n),
    puzzleIndices: Int32Array.from({ length: n + 1 }, (_, i) => i),
    groupIndices: Int32Array.from({ length: n + 1 }, (_, i) => i),
  });
  const { steps, warmup } = timing;
  const profileDir = timing.profile ? mkdtempSync(join(tmpdir(), 'trm-train-profile-')) : null;
  try {
    const run = await OrtTrainingRun.create({
      model,
      train: p.train,
      totalSteps: 100_000,
      data,
      provider,
      devices,
      lanes: timing.lanes,
      microBatch,
      precision: v.precision,
      optimizerOn: v.optimizerOn,
      noGradForm: v.noGradForm,
      trainOps: v.trainOps,
      reuseOutputs: v.outputs === 'reused',
      carry: v.carry,
      profilePrefix: profileDir ? join(profileDir, 'train') : undefined,
      optimizerThreads: timing.optimizerThreads,
      stepsPerRun: timing.stepsPerRun,
      stepsForm: timing.stepsForm,
    });
    const times: number[] = [];
    const parts = { run: [] as number[], optimizer: [] as number[], host: [] as number[] };
    try {
      for (let i = 0; i < warmup + steps; i++) {
        const t0 = performance.now();
        const done = (await run.trainSteps(timing.stepsPerRun)).length;
        const dt = (performance.now() - t0) / 1000 / done;
        if (i < warmup) continue;
        times.push(dt);
        parts.run.push(run.lastTiming.run);
        parts.optimizer.push(run.lastTiming.optimizer);
        parts.host.push(run.lastTiming.host);
        process.stderr.write(`  ${preset} batch ${batch}: step ${i + 1 - warmup}/${steps} ${dt.toFixed(3)} s\n`);
      }
    } finally {
      await run.dispose(); // writes the profile, when one is on
    }
    // device 0's graph runs during the warm-up steps: its share of the batch, in micro-batches
    const [from, to] = shareRows(batch, devices * timing.lanes)[0]!;
    const warmupRuns = timing.stepsPerRun > 1 ? warmup : warmup * Math.ceil((to - from) / (microBatch ?? to - from));
    const step = median(times);
    return {
      preset,
      batch,
      ...variantFields(v, timing.stepsPerRun),
      profile: profileDir ? profileOf(profileDir, warmupRuns) : undefined,
      micro_batch: microBatch,
      ok: true,
      step_s: step,
      samples_per_s: batch / step,
      tflop_per_s: (trainFlopPerSample(model) * batch) / step / 1e12,
      run_s: median(parts.run),
      optimizer_s: median(parts.optimizer),
      host_s: median(parts.host),
    };
  } finally {
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  }
}

/** The summary of the first device's profile in `dir`, after its first `warmupRuns` graph runs. */
function profileOf(dir: string, warmupRuns: number): ProfileRow {
  const file = readdirSync(dir).find((n) => n.startsWith('train-d0') && n.endsWith('.json'));
  if (!file) throw new Error(`ONNX Runtime wrote no profile into ${dir}`);
  const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as ProfileEvent[];
  const p = summarizeProfile(events, warmupRuns);
  return {
    runs: p.runs,
    run_ms: p.runMs,
    nodes_per_run: p.nodesPerRun,
    node_ms: p.nodeMs,
    ops: p.byOp,
    shapes: p.byShape.slice(0, 40),
    gpu: p.gpu,
  };
}

/** The op forms of a row as `swiglu, mlp_t, norm, silu, pad` values. */
function opsLabel(o: TrainOps): string {
  return `${o.swiglu}, ${o.mlpT}, ${o.norm}, ${o.silu}, ${o.mlpTPad}`;
}

/** The lines of a profiled case: per graph run, then its op types by time. */
function profileLines(r: Row, top: number): string[] {
  const p = r.profile!;
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  return [
    '',
    `${r.preset} ${r.batch} ${r.precision}, no-gradient recursions ${r.no_grad_form}, ${opsLabel(r.ops)}: ${p.run_ms.toFixed(1)} ms per graph run ` +
      `(${p.runs} runs), ${p.nodes_per_run.toFixed(0)} nodes, ${p.node_ms.toFixed(1)} ms inside nodes` +
      (p.gpu ? `; GPU kernels ${p.gpu.kernels.toFixed(0)} per run, ${p.gpu.ms.toFixed(1)} ms` : ''),
    '| op | nodes/run | ms/run | share of node time |',
    '|---|---|---|---|',
    ...p.ops.slice(0, top).map((o) => `| ${o.name} | ${o.nodes.toFixed(0)} | ${o.ms.toFixed(2)} | ${pct(o.share)} |`),
    '',
    '| op and input shapes | nodes/run | ms/run | share of node time |',
    '|---|---|---|---|',
    ...p.shapes
      .slice(0, top)
      .map((o) => `| ${o.name} | ${o.nodes.toFixed(0)} | ${o.ms.toFixed(2)} | ${pct(o.share)} |`),
  ];
}

async function main(argv: readonly string[], io: CommandIo): Promise<void> {
  const { values, help } = parseFlags(argv, spec);
  if (help) return;
  const backend = values.backend as string;
  const gpus = values.gpus as number;
  const lanes = values.lanes as number;
  const optimizerThreads = values['optimizer-threads'] as number;
  const timing = {
    steps: values.steps as number,
    warmup: values.warmup as number,
    profile: values.profile === true,
    lanes,
    optimizerThreads,
    stepsPerRun: values['steps-per-run'] as number,
    stepsForm: listFlag(values['steps-form'] as string, MULTI_STEP_FORMS, 'steps-form')[0]!,
  };
  const provider = backend.slice(4) as OrtProvider;
  await selectBackend('cpu', () => {}); // the seeded initialisation is drawn by tfjs
  const opForms = product<TrainOps>({
    swiglu: listFlag(values.swiglu as string, TRAIN_OP_CHOICES.swiglu, 'swiglu'),
    mlpT: listFlag(values['mlp-t'] as string, TRAIN_OP_CHOICES.mlpT, 'mlp-t'),
    norm: listFlag(values.norm as string, TRAIN_OP_CHOICES.norm, 'norm'),
    silu: listFlag(values.silu as string, TRAIN_OP_CHOICES.silu, 'silu'),
    mlpTPad: listFlag(values.pad as string, TRAIN_OP_CHOICES.mlpTPad, 'pad'),
  });
  const variants = product<Omit<Variant, 'carry'> & { carry: TrainCarry | 'auto' }>({
    precision: listFlag(values.precision as string, TRAIN_PRECISIONS, 'precision'),
    optimizerOn: listFlag(values['optimizer-on'] as string, OPTIMIZER_PLACES, 'optimizer-on'),
    noGradForm: listFlag(values['no-grad-form'] as string, NO_GRAD_FORMS, 'no-grad-form'),
    trainOps: opForms,
    outputs: listFlag(values.outputs as string, ['new', 'reused'] as const, 'outputs'),
    carry: listFlag(values.carry as string, [...TRAIN_CARRIES, 'auto'] as const, 'carry'),
  }).map((v): Variant => ({ ...v, carry: v.carry === 'auto' ? defaultCarry(v.precision) : v.carry }));
  const rows: Row[] = [];
  for (const c of (values.cases as string).split(','))
    for (const v of variants) {
      // preset:batch or preset:batch/micro-batch
      const [preset, spec] = c.split(':') as [string, string];
      const [b, micro] = spec.split('/');
      const microBatch = micro ? Number(micro) : undefined;
      try {
        rows.push(await runCase(preset, Number(b), provider, gpus, microBatch, v, timing));
      } catch (e) {
        const why = e instanceof Error ? e.message.split('\n')[0]! : String(e);
        rows.push({
          preset,
          batch: Number(b),
          ...variantFields(v, timing.stepsPerRun),
          micro_batch: microBatch,
          ok: false,
          error: why.slice(0, 300),
        });
      }
      const r = rows.at(-1)!;
      const label = `${r.preset} ${r.batch} ${r.precision} optimizer on ${r.optimizer_on}, no-gradient recursions ${r.no_grad_form}, ${opsLabel(r.ops)}, ${r.outputs} outputs, ${r.carry} carry`;
      io.err(r.ok ? `${label}: ${r.samples_per_s!.toFixed(1)} samples/s` : `${label}: ${r.error}`);
    }
  const f = (x: number | undefined, d = 1) => (x === undefined ? '' : x.toFixed(d));
  io.out(
    `\nONNX Runtime training speed, ${backend}${gpus > 1 ? ` x${gpus}` : ''}${lanes > 1 ? `, ${lanes} sessions per device` : ''}${timing.stepsPerRun > 1 ? `, ${timing.stepsPerRun} steps per graph run (${timing.stepsForm})` : ''}, optimiser on ${optimizerThreads} thread(s) (${machineDescription()})`,
  );
  io.out(
    '| preset | batch | precision | optimizer on | no-grad ops | swiglu, mlp_t, norm, silu, pad | outputs, carry | step s | samples/s | TFLOP/s | session.run s | optimizer s | other host s |',
  );
  io.out('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const head = `| ${r.preset} | ${r.batch}${r.micro_batch ? ` (${r.micro_batch} per run)` : ''} | ${r.precision} | ${r.optimizer_on} | ${r.no_grad_form} | ${opsLabel(r.ops)} | ${r.outputs}, ${r.carry} |`;
    io.out(
      r.ok
        ? `${head} ${f(r.step_s, 3)} | ${f(r.samples_per_s)} | ${f(r.tflop_per_s)} | ${f(r.run_s, 3)} | ${f(r.optimizer_s, 3)} | ${f(r.host_s, 3)} |`
        : `${head} failed: ${r.error} | | | | | |`,
    );
  }
  for (const r of rows) if (r.profile) for (const line of profileLines(r, values.top as number)) io.out(line);
  if (values.json)
    writeFileSync(
      values.json as string,
      JSON.stringify(
        {
          backend,
          gpus,
          lanes,
          steps_per_run: timing.stepsPerRun,
          optimizer_threads: optimizerThreads,
          machine: machineDescription(),
          rows,
        },
        null,
        1,
      ),
    );
}

await runCli(spec, main);
