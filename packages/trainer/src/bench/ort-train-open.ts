// How long a training run of the ONNX Runtime backend takes to open (building the training graph and creating its
// session) for several optimiser steps per graph run (`train --steps-per-run k`) in both layouts of that graph: one
// ONNX Loop whose body is a step, or k copies of the step. Nothing is trained. Prints a table.
//
//   node packages/trainer/dist/ort-train-open.mjs --backend ort-cpu --preset sudoku-mlp --k 1,2,4,8,16
//   pnpm --filter @trm/trainer exec tsx src/bench/ort-train-open.ts --preset sudoku-tiny-mlp --k 1,4
import {
  type CliSpec,
  type CommandIo,
  getPreset,
  machineDescription,
  ORT_BACKENDS,
  parseFlags,
  runCli,
  validateModelConfig,
} from '@trm/core';
import { MULTI_STEP_FORMS, TRAIN_PRECISIONS, type TrainPrecision } from '@trm/graph';
import { selectBackend } from '../backend/backend.js';
import { fromMemory } from '../data/split.js';
import { TrmModel } from '../model/model.js';
import { listFlag } from './list-flag.js';
import { OrtTrainingRun } from '../ort/ort-training-run.js';
import type { OrtProvider } from '../ort/train-step.js';

const spec: CliSpec = {
  usage: 'node packages/trainer/dist/ort-train-open.mjs',
  summary:
    'Seconds to open a training run of the ONNX Runtime backend (training graph built, session created) for k\n' +
    'optimiser steps per graph run, as one Loop and unrolled. Nothing is trained.',
  flags: [
    { name: 'backend', kind: 'enum', choices: ORT_BACKENDS, default: 'ort-cpu', help: 'ONNX Runtime backend' },
    { name: 'preset', kind: 'string', default: 'sudoku-mlp', value: '<name>', help: 'model of the training graph' },
    {
      name: 'batch',
      kind: 'int',
      min: 1,
      default: 8,
      value: '<n>',
      help: 'rows per run (the graph does not depend on it)',
    },
    { name: 'k', kind: 'string', default: '1,2,4,8,16', value: '<k,...>', help: 'steps per graph run' },
    {
      name: 'forms',
      kind: 'string',
      default: MULTI_STEP_FORMS.join(','),
      value: '<f,...>',
      help: `layouts of the k steps: ${MULTI_STEP_FORMS.join(', ')}`,
    },
    {
      name: 'max-unrolled',
      kind: 'int',
      min: 1,
      default: 4,
      value: '<k>',
      help: 'largest k opened unrolled (its opening grows fast with k)',
    },
    { name: 'precision', kind: 'enum', choices: TRAIN_PRECISIONS, default: 'fp16', help: 'arithmetic of the graph' },
    { name: 'threads', kind: 'int', min: 1, default: 2, value: '<n>', help: 'ort-cpu: threads of the session' },
  ],
  examples: ['node packages/trainer/dist/ort-train-open.mjs --backend ort-cpu --preset sudoku-mlp --k 1,2,4,8,16'],
};

async function main(argv: readonly string[], io: CommandIo): Promise<void> {
  const { values, help } = parseFlags(argv, spec);
  if (help) return;
  const backend = values.backend as string;
  const provider = backend.slice(4) as OrtProvider;
  const precision = values.precision as TrainPrecision;
  const ks = (values.k as string).split(',').map(Number);
  if (ks.some((k) => !Number.isInteger(k) || k < 1)) throw new Error(`--k takes positive integers (got ${values.k})`);
  const forms = listFlag(values.forms as string, MULTI_STEP_FORMS, 'forms');
  await selectBackend('cpu', () => {}); // the seeded initialisation is drawn by tfjs
  const p = getPreset(values.preset as string);
  const model = validateModelConfig({ ...p.model, batch_size: values.batch as number });
  const n = 2 * model.batch_size;
  const S = model.seq_len;
  const data = fromMemory({
    metadata: { seq_len: S, pad_id: 0, ignore_label_id: 0, blank_identifier_id: 0 },
    numExamples: n,
    inputs: new Uint8Array(n * S).fill(1),
    labels: new Uint8Array(n * S).fill(1),
    puzzleIdentifiers: new Int32Array(n),
    puzzleIndices: Int32Array.from({ length: n + 1 }, (_, i) => i),
    groupIndices: Int32Array.from({ length: n + 1 }, (_, i) => i),
  });
  const init = TrmModel.create(model, p.train.seed);
  const weights = await init.exportWeights();
  init.dispose();
  const rows: string[] = [];
  for (const stepsForm of forms)
    for (const k of ks) {
      if (stepsForm === 'unrolled' && k > (values['max-unrolled'] as number)) continue;
      if (k === 1 && stepsForm !== forms[0]) continue; // one step per run has a single layout
      const t0 = performance.now();
      const run = await OrtTrainingRun.create({
        model,
        train: p.train,
        totalSteps: 100,
        data,
        provider,
        threads: values.threads as number,
        precision,
        stepsPerRun: k,
        stepsForm,
        weights,
      });
      const seconds = (performance.now() - t0) / 1000;
      await run.dispose();
      rows.push(`| ${k} | ${k === 1 ? 'one step' : stepsForm} | ${seconds.toFixed(1)} |`);
      io.err(rows.at(-1)!);
    }
  io.out(`\nOpening a training run, ${backend}, ${values.preset}, ${precision} (${machineDescription()})`);
  io.out('| steps per run | layout | seconds to open |');
  io.out('|---|---|---|');
  for (const r of rows) io.out(r);
}

await runCli(spec, main);
