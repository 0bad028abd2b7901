// Training speed of the ONNX Runtime backend: optimiser steps of the real loop (OrtTrainingRun: sampler, carry,
// the training graph, host AdamATan2 + EMA + sign-SGD, halting) on random tokens of each task's shape, per preset
// and batch. Reports the median step time after warm-up steps, samples/s, model TFLOP/s by the matmul count of the
// official anchor script (official-train-anchor.py `flops`), and where a step's time goes: session.run (graph
// and host transfers), the optimiser on the host, other host work. A case that fails (out of memory, say) is
// reported with its reason and the next one runs. Prints a table and writes JSON (--json).
//
//   node packages/trainer/dist/ort-train-speed.mjs --backend ort-cuda --cases sudoku-mlp:768,maze-att:64
//   pnpm --filter @trm/trainer exec tsx src/bench/ort-train-speed.ts --backend ort-cpu --cases sudoku-tiny-mlp:32
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import {
  type CliSpec,
  type CommandIo,
  getPreset,
  machineDescription,
  ORT_BACKENDS,
  type ModelConfig,
  parseFlags,
  Rng,
  runCli,
  stateLen,
  swigluIntermediate,
  TASK_SHAPES,
  validateModelConfig,
} from '@trm/core';
import { selectBackend } from '../backend/backend.js';
import { fromMemory } from '../data/split.js';
import { OrtTrainingRun } from '../ort/ort-training-run.js';
import type { OrtProvider } from '../ort/train-step.js';
import { TRAIN_PRECISIONS, type TrainPrecision } from '@trm/graph';
import { OPTIMIZER_PLACES, type OptimizerPlace } from '../ort/optimizer-update.js';

/** A comma-separated flag value, each item one of `allowed`. */
function listFlag<T extends string>(value: string, allowed: readonly T[], flag: string): T[] {
  const items = value.split(',') as T[];
  for (const item of items)
    if (!allowed.includes(item)) throw new Error(`--${flag}: ${item} is not one of ${allowed.join(', ')}`);
  return items;
}

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
    { name: 'steps', kind: 'int', min: 1, default: 10, value: '<n>', help: 'timed optimiser steps per case' },
    { name: 'warmup', kind: 'int', min: 0, default: 3, value: '<n>', help: 'untimed steps before them' },
    { name: 'gpus', kind: 'int', min: 1, default: 1, value: '<n>', help: 'devices the batch is split over' },
    { name: 'json', kind: 'path', value: '<file>', help: 'also write the rows as JSON' },
  ],
  examples: [
    'node packages/trainer/dist/ort-train-speed.mjs --backend ort-cuda --cases sudoku-mlp:768,maze-att:64',
    'pnpm --filter @trm/trainer exec tsx src/bench/ort-train-speed.ts --backend ort-cpu --cases sudoku-tiny-mlp:32',
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

interface Row {
  preset: string;
  batch: number;
  precision: TrainPrecision;
  optimizer_on: OptimizerPlace;
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
  precision: TrainPrecision,
  optimizerOn: OptimizerPlace,
  timing: { steps: number; warmup: number },
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
  const run = await OrtTrainingRun.create({
    model,
    train: p.train,
    totalSteps: 100_000,
    data,
    provider,
    devices,
    microBatch,
    precision,
    optimizerOn,
    optimizerThreads: Math.min(8, availableParallelism()),
  });
  try {
    const times: number[] = [];
    const parts = { run: [] as number[], optimizer: [] as number[], host: [] as number[] };
    for (let i = 0; i < warmup + steps; i++) {
      const t0 = performance.now();
      await run.trainStep();
      const dt = (performance.now() - t0) / 1000;
      if (i < warmup) continue;
      times.push(dt);
      parts.run.push(run.lastTiming.run);
      parts.optimizer.push(run.lastTiming.optimizer);
      parts.host.push(run.lastTiming.host);
      process.stderr.write(`  ${preset} batch ${batch}: step ${i + 1 - warmup}/${steps} ${dt.toFixed(3)} s\n`);
    }
    const step = median(times);
    return {
      preset,
      batch,
      precision,
      optimizer_on: optimizerOn,
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
    await run.dispose();
  }
}

async function main(argv: readonly string[], io: CommandIo): Promise<void> {
  const { values, help } = parseFlags(argv, spec);
  if (help) return;
  const backend = values.backend as string;
  const gpus = values.gpus as number;
  const timing = { steps: values.steps as number, warmup: values.warmup as number };
  const provider = backend.slice(4) as OrtProvider;
  await selectBackend('cpu', () => {}); // the seeded initialisation is drawn by tfjs
  const precisions = listFlag(values.precision as string, TRAIN_PRECISIONS, 'precision');
  const places = listFlag(values['optimizer-on'] as string, OPTIMIZER_PLACES, 'optimizer-on');
  const variants = precisions.flatMap((precision) => places.map((optimizerOn) => ({ precision, optimizerOn })));
  const rows: Row[] = [];
  for (const c of (values.cases as string).split(','))
    for (const { precision, optimizerOn } of variants) {
      // preset:batch or preset:batch/micro-batch
      const [preset, spec] = c.split(':') as [string, string];
      const [b, micro] = spec.split('/');
      const microBatch = micro ? Number(micro) : undefined;
      try {
        rows.push(await runCase(preset, Number(b), provider, gpus, microBatch, precision, optimizerOn, timing));
      } catch (e) {
        const why = e instanceof Error ? e.message.split('\n')[0]! : String(e);
        rows.push({
          preset,
          batch: Number(b),
          precision,
          optimizer_on: optimizerOn,
          micro_batch: microBatch,
          ok: false,
          error: why.slice(0, 300),
        });
      }
      const r = rows.at(-1)!;
      const label = `${r.preset} ${r.batch} ${r.precision} optimizer on ${r.optimizer_on}`;
      io.err(r.ok ? `${label}: ${r.samples_per_s!.toFixed(1)} samples/s` : `${label}: ${r.error}`);
    }
  const f = (x: number | undefined, d = 1) => (x === undefined ? '' : x.toFixed(d));
  io.out(`\nONNX Runtime training speed, ${backend}${gpus > 1 ? ` x${gpus}` : ''} (${machineDescription()})`);
  io.out(
    '| preset | batch | precision | optimizer on | step s | samples/s | TFLOP/s | session.run s | optimizer s | other host s |',
  );
  io.out('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows)
    io.out(
      r.ok
        ? `| ${r.preset} | ${r.batch}${r.micro_batch ? ` (${r.micro_batch} per run)` : ''} | ${r.precision} | ${r.optimizer_on} | ${f(r.step_s, 3)} | ${f(r.samples_per_s)} | ${f(r.tflop_per_s)} | ${f(r.run_s, 3)} | ${f(r.optimizer_s, 3)} | ${f(r.host_s, 3)} |`
        : `| ${r.preset} | ${r.batch}${r.micro_batch ? ` (${r.micro_batch} per run)` : ''} | ${r.precision} | ${r.optimizer_on} | failed: ${r.error} | | | | | |`,
    );
  if (values.json)
    writeFileSync(
      values.json as string,
      JSON.stringify({ backend, gpus, machine: machineDescription(), rows }, null, 1),
    );
}

await runCli(spec, main);
