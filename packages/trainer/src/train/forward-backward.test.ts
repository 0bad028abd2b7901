// Gradients of one training step (tfjs, float32, analytic) against central differences of the float64 reference
// loss, with the reference's truncation: the state after the first H_cycles - 1 recursions is held fixed, and only
// the input embedding, the last recursion and the heads are differentiated. Covers token and puzzle embeddings,
// attention or mlp_t weights, the channel MLP, lm_head and q_head, in both variants.
import * as tf from '@tensorflow/tfjs';
import { type ModelConfig, Rng } from '@trm/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend/backend.js';
import { initialCarry, supervisionStep } from '../model/step.js';
import {
  type RefParams,
  refHeads,
  refInputEmbeddings,
  refLoss,
  refRecurseWithoutGrad,
  refRecursion,
  toRefParams,
} from '../testing/trm-reference.js';
import { microConfig, randomizedModel, randomTokens } from '../testing/random-model.js';
import { forwardBackward } from './forward-backward.js';

beforeAll(async () => {
  await selectBackend('cpu', () => {});
});

const base: Partial<ModelConfig> = {
  hidden_size: 8,
  num_heads: 2,
  L_layers: 2,
  H_cycles: 2,
  L_cycles: 2,
  seq_len: 4,
  puzzle_emb_ndim: 8,
  puzzle_emb_len: 1,
  num_puzzle_identifiers: 3,
};

const VARIANTS: Record<string, { over: Partial<ModelConfig>; mixer: string[] }> = {
  'attention + RoPE': {
    over: base,
    mixer: ['L_level.layers.0.self_attn.qkv_proj.weight', 'L_level.layers.1.self_attn.o_proj.weight'],
  },
  mlp_t: {
    over: { ...base, mlp_t: true, pos_encodings: 'none' },
    mixer: ['L_level.layers.0.mlp_t.gate_up_proj.weight', 'L_level.layers.1.mlp_t.down_proj.weight'],
  },
};

const CHECKED = [
  'embed_tokens.embedding_weight',
  'L_level.layers.0.mlp.gate_up_proj.weight',
  'L_level.layers.1.mlp.down_proj.weight',
  'lm_head.weight',
  'q_head.weight',
  'q_head.bias',
];

describe('forwardBackward gradients match central differences of the float64 reference', () => {
  for (const [label, { over, mixer }] of Object.entries(VARIANTS)) {
    it(label, async () => {
      const config = microConfig(over);
      const B = 3;
      const S = config.seq_len;
      const model = await randomizedModel(config, 3);
      const rng = new Rng(21);
      const ids = [0, 2, 2]; // a repeated id: its rows' gradients are separate here, summed by sign-SGD
      const tokens = randomTokens(rng, B * S, config.vocab_size);
      const labels = randomTokens(rng, B * S, config.vocab_size);
      labels[1] = -100;
      for (let s = 0; s < S; s++) labels[2 * S + s] = -100; // a row with no label: counted as correct
      const tokT = tf.tensor2d(tokens, [B, S], 'int32');
      const labT = tf.tensor2d(labels, [B, S], 'int32');
      const rowsT = model.puzzleTable!.gatherTensor(ids);

      // A non-trivial starting state: one step on from the initial carry.
      const init = initialCarry(model, B);
      const warm = supervisionStep(model, init, { tokens: tokT, puzzleRows: rowsT });
      const fb = forwardBackward(
        model,
        warm.carry,
        { tokens: tokT, labels: labT, puzzleRows: rowsT },
        { lossScale: 1 / B },
      );

      // Every trained parameter gets a gradient; the buffers do not.
      expect(Object.keys(fb.grads).sort()).toEqual([...model.trainableNames].sort());
      expect(fb.grads.H_init).toBeUndefined();

      const p0 = toRefParams(await model.exportWeights());
      const rows0 = Float64Array.from(await rowsT.data());
      const state0 = {
        zH: Float64Array.from(await warm.carry.zH.data()),
        zL: Float64Array.from(await warm.carry.zL.data()),
      };
      const x0 = refInputEmbeddings(config, p0, { batchSize: B, tokens, puzzleRows: rows0 });
      const start = refRecurseWithoutGrad(config, p0, x0, state0, B);
      const lossOf = (p: RefParams, rows: Float64Array) => {
        const x = refInputEmbeddings(config, p, { batchSize: B, tokens, puzzleRows: rows });
        const s = refRecursion(config, p, x, start, B);
        const h = refHeads(config, p, s.zH, B);
        return refLoss(h.logits, labels, h.qHalt, B, config.vocab_size, config.loss_type).total / B;
      };
      const refTotal = lossOf(p0, rows0) * B;
      expect(Math.abs((await fb.loss.total.data())[0]! - refTotal)).toBeLessThan(1e-5 * Math.abs(refTotal));

      const h = 1e-5;
      let worst = 0;
      const check = (name: string, analytic: Float32Array, perturb: (i: number, d: number) => number) => {
        const order = [...analytic.keys()].sort((a, b) => Math.abs(analytic[b]!) - Math.abs(analytic[a]!));
        const scale = Math.abs(analytic[order[0]!]!);
        expect(scale, `${name} has a non-zero gradient`).toBeGreaterThan(1e-6);
        const picks = [...order.slice(0, 3), ...rng.sample(analytic.length, Math.min(3, analytic.length))];
        for (const i of picks) {
          const numeric = (perturb(i, h) - perturb(i, -h)) / (2 * h);
          const err =
            Math.abs(analytic[i]! - numeric) / Math.max(Math.abs(numeric), Math.abs(analytic[i]!), 1e-2 * scale);
          worst = Math.max(worst, err);
          expect(err, `${name}[${i}]: analytic ${analytic[i]} numeric ${numeric}`).toBeLessThan(1e-3);
        }
      };
      for (const name of [...CHECKED, ...mixer]) {
        const analytic = (await fb.grads[name]!.data()) as Float32Array;
        check(name, analytic, (i, d) => {
          const p = { ...p0, [name]: { shape: p0[name]!.shape, data: p0[name]!.data.slice() } };
          p[name]!.data[i]! += d;
          return lossOf(p, rows0);
        });
      }
      check('puzzle rows', (await fb.puzzleGrad!.data()) as Float32Array, (i, d) => {
        const rows = rows0.slice();
        rows[i]! += d;
        return lossOf(p0, rows);
      });
      expect(worst).toBeLessThan(1e-3);

      tf.dispose([tokT, labT, rowsT, init.zH, init.zL, warm.carry.zH, warm.carry.zL, warm.logits, warm.qHalt]);
      tf.dispose([warm.qContinue, fb.carry.zH, fb.carry.zL, fb.logits, fb.qHalt, fb.qContinue, fb.puzzleGrad!]);
      tf.dispose([...Object.values(fb.grads), ...Object.values(fb.loss)]);
      model.dispose();
    });
  }

  it('leaves no tensors behind but what it returns', async () => {
    const config = microConfig({ ...base });
    const model = await randomizedModel(config, 4);
    const B = 2;
    const carry = initialCarry(model, B);
    const tokens = tf.tensor2d(new Int32Array(B * config.seq_len).fill(3), [B, config.seq_len], 'int32');
    const labels = tf.tensor2d(new Int32Array(B * config.seq_len).fill(2), [B, config.seq_len], 'int32');
    const rows = model.puzzleTable!.gatherTensor([1, 1]);
    const before = tf.memory().numTensors;
    const fb = forwardBackward(model, carry, { tokens, labels, puzzleRows: rows }, { lossScale: 0.5 });
    const returned = 5 + 4 + Object.keys(fb.grads).length + 1;
    expect(tf.memory().numTensors - before).toBe(returned);
    tf.dispose([fb.carry.zH, fb.carry.zL, fb.logits, fb.qHalt, fb.qContinue, fb.puzzleGrad!]);
    tf.dispose([...Object.values(fb.grads), ...Object.values(fb.loss), carry.zH, carry.zL, tokens, labels, rows]);
    model.dispose();
  });
});
