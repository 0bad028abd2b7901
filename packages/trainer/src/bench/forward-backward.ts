// Times one supervision step of a preset on one backend: the forward without gradients (evaluation), the training
// forward+backward (forwardBackward), and one AdamATan2 update. Prints a table and one JSON line.
//   pnpm --filter @trm/trainer bench:step [--preset sudoku-tiny] [--batch 64] [--backend wasm] [--iters 3]
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { getPreset, Rng } from '@trm/core';
import { type BackendName, selectBackend } from '../backend/backend.js';
import { TrmModel } from '../model/model.js';
import { initialCarry, supervisionStep } from '../model/step.js';
import { AdamAtan2 } from '../optim/adam-atan2.js';
import { forwardBackward } from '../train/forward-backward.js';

const { values } = parseArgs({
  options: {
    preset: { type: 'string', default: 'sudoku-tiny' },
    batch: { type: 'string', default: '64' },
    backend: { type: 'string', default: 'wasm' },
    iters: { type: 'string', default: '3' },
  },
});
const preset = getPreset(values.preset!);
const B = Number(values.batch);
const iters = Number(values.iters);
const choice = await selectBackend(values.backend as BackendName);
const config = preset.model;
const model = TrmModel.create(config, 0);
const rng = new Rng(0);
const S = config.seq_len;
const tokens = tf.tensor2d(
  Int32Array.from({ length: B * S }, () => rng.int(1, config.vocab_size - 1)),
  [B, S],
  'int32',
);
const labels = tf.tensor2d(
  Int32Array.from({ length: B * S }, () => rng.int(1, config.vocab_size - 1)),
  [B, S],
  'int32',
);
const rows = model.puzzleTable ? model.puzzleTable.gatherTensor(new Int32Array(B)) : null;
const carry = initialCarry(model, B);
const opt = new AdamAtan2({ beta1: 0.9, beta2: 0.95, weightDecay: 0.1 });

async function time(fn: () => Promise<void>): Promise<number[]> {
  await fn(); // warm-up: kernel setup, first allocations
  const out: number[] = [];
  for (let i = 0; i < iters; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

const forward = await time(async () => {
  const o = supervisionStep(model, carry, { tokens, puzzleRows: rows });
  await o.qHalt.data();
  tf.dispose([o.carry.zH, o.carry.zL, o.logits, o.qHalt, o.qContinue]);
});
const train = await time(async () => {
  const fb = forwardBackward(model, carry, { tokens, labels, puzzleRows: rows }, { lossScale: 1 / B });
  await Promise.all(Object.values(fb.grads).map((g) => g.data()));
  tf.dispose([fb.carry.zH, fb.carry.zL, fb.logits, fb.qHalt, fb.qContinue, ...Object.values(fb.loss)]);
  tf.dispose([...Object.values(fb.grads), ...(fb.puzzleGrad ? [fb.puzzleGrad] : [])]);
});
const grads = Object.fromEntries(model.trainableNames.map((n) => [n, tf.onesLike(model.variables.get(n)!)]));
const update = await time(async () => {
  opt.apply(model.variables, grads, 1e-4);
  await model.variables.get('lm_head.weight')!.data();
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const result = {
  preset: preset.name,
  backend: choice.backend,
  batch: B,
  iters,
  forward_ms: median(forward),
  forward_backward_ms: median(train),
  adam_atan2_ms: median(update),
  tensors_live: tf.memory().numTensors,
};
console.log(`| preset | backend | batch | forward (ms) | forward+backward (ms) | AdamATan2 (ms) |`);
console.log(`|---|---|---|---|---|---|`);
console.log(
  `| ${result.preset} | ${result.backend} | ${B} | ${result.forward_ms.toFixed(0)} | ${result.forward_backward_ms.toFixed(0)} | ${result.adam_atan2_ms.toFixed(1)} |`,
);
console.log(JSON.stringify(result));
