// Times one supervision step of a preset on one backend: the forward without gradients (evaluation), the training
// forward+backward (forwardBackward), and one AdamATan2 update. Prints a table and one JSON line.
//   pnpm --filter @trm/trainer bench:step [--preset sudoku-tiny] [--batch 64] [--backend wasm] [--iters 3]
import * as tf from '@tensorflow/tfjs';
import { type CliSpec, type CommandIo, getPreset, PRESET_NAMES, parseFlags, Rng, runCli } from '@trm/core';
import { type BackendName, selectBackend, TFJS_BACKEND_FLAG } from '../backend/backend.js';
import { TrmModel } from '../model/model.js';
import { initialCarry, supervisionStep } from '../model/step.js';
import { AdamAtan2 } from '../optim/adam-atan2.js';
import { forwardBackward } from '../train/forward-backward.js';

const spec: CliSpec = {
  usage: 'pnpm --filter @trm/trainer bench:step',
  summary:
    'Times one supervision step of a preset on one tfjs backend: the forward without gradients, the training\n' +
    'forward+backward, and one AdamATan2 update (median of --iters after a warm-up). Prints a table and one JSON line.',
  flags: [
    {
      name: 'preset',
      kind: 'enum',
      choices: PRESET_NAMES,
      default: 'sudoku-tiny',
      value: '<name>',
      help: 'model preset',
    },
    { name: 'batch', kind: 'int', min: 1, default: 64, value: '<n>', help: 'rows per step' },
    TFJS_BACKEND_FLAG,
    { name: 'iters', kind: 'int', min: 1, default: 3, value: '<n>', help: 'timed runs of each part' },
  ],
  examples: [
    'pnpm --filter @trm/trainer bench:step --backend wasm',
    'pnpm --filter @trm/trainer bench:step --preset sudoku-mlp --batch 16 --backend cpu',
  ],
};

async function benchStep(argv: readonly string[], io: CommandIo): Promise<void> {
  const { values, help } = parseFlags(argv, spec);
  if (help) return;
  const preset = getPreset(values.preset as string);
  const B = values.batch as number;
  const iters = values.iters as number;
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
  io.out(`| preset | backend | batch | forward (ms) | forward+backward (ms) | AdamATan2 (ms) |`);
  io.out(`|---|---|---|---|---|---|`);
  io.out(
    `| ${result.preset} | ${result.backend} | ${B} | ${result.forward_ms.toFixed(0)} | ${result.forward_backward_ms.toFixed(0)} | ${result.adam_atan2_ms.toFixed(1)} |`,
  );
  io.out(JSON.stringify(result));
}

await runCli(spec, benchStep);
