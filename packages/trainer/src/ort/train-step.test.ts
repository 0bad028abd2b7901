// The generated training graph on ONNX Runtime's CPU provider against the tfjs trainer's forwardBackward on the
// same weights, batch and carry: every parameter gradient, the puzzle-row gradient, the loss parts, the halt
// logits and the new carry agree within a relative error of 1e-4 (float32), for both variants with a puzzle
// embedding, with some slots reset and some carrying state, and with the recursions outside the gradient in either
// op form (differentiable, or the inference forms: RMSNormalization, the SwiGLU as two products).
import * as tf from '@tensorflow/tfjs';
import { type ModelConfig, type NamedArrays, Rng, stateLen } from '@trm/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend/backend.js';
import type { Carry } from '../model/step.js';
import { resetCarry } from '../model/step.js';
import { microConfig, randomizedModel, randomTokens } from '../testing/random-model.js';
import { forwardBackward } from '../train/forward-backward.js';
import { OrtTrainStep } from './train-step.js';
import { buildTrainGraph, decodeModel, NO_GRAD_FORMS } from '@trm/graph';

beforeAll(async () => {
  await selectBackend('cpu', () => {});
});

const base: Partial<ModelConfig> = {
  hidden_size: 16,
  num_heads: 2,
  expansion: 2,
  L_layers: 2,
  H_cycles: 2,
  L_cycles: 2,
  seq_len: 6,
  vocab_size: 7,
  puzzle_emb_ndim: 24,
  puzzle_emb_len: 2,
  num_puzzle_identifiers: 5,
};

const VARIANTS: Record<string, Partial<ModelConfig>> = {
  'attention + RoPE': base,
  'MLP-mixer': { ...base, mlp_t: true, pos_encodings: 'none' },
  'softmax cross-entropy, H_cycles 3': { ...base, H_cycles: 3, loss_type: 'softmax_cross_entropy' },
};

/** max |a - b| / max |b| */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / Math.max(scale, 1e-30);
}

describe('ORT training graph = tfjs forwardBackward (CPU, float32)', () => {
  const cases = [
    ...Object.entries(VARIANTS).flatMap(([label, over]) =>
      NO_GRAD_FORMS.map(
        (form) => [`${label}, recursions outside the gradient in the ${form} form`, over, form, {}] as const,
      ),
    ),
    // the other op forms of the differentiated part (TRAIN_OP_CHOICES)
    ...(['differentiable', 'inference'] as const).map(
      (form) =>
        [
          `MLP-mixer, SwiGLU as two products, token mix over the transposed state, ${form} form outside the gradient`,
          VARIANTS['MLP-mixer']!,
          form,
          { swiglu: 'split', mlpT: 'transpose' },
        ] as const,
    ),
    ...Object.entries(VARIANTS)
      .slice(0, 2)
      .map(
        ([label, over]) =>
          [
            `${label}, SimplifiedLayerNormalization and QuickGelu in the differentiated part (norm stats, silu op)`,
            over,
            'inference',
            { swiglu: 'split', norm: 'stats', silu: 'op' },
          ] as const,
      ),
    [
      'MLP-mixer with 9 positions, its token-mix products padded to 16 (mlpTPad align8)',
      { ...VARIANTS['MLP-mixer']!, seq_len: 7 },
      'differentiable',
      { mlpTPad: 'align8' },
    ] as const,
    [
      'MLP-mixer over the transposed state with norm stats and silu op (every norm one op)',
      VARIANTS['MLP-mixer']!,
      'inference',
      { swiglu: 'split', mlpT: 'transpose', norm: 'stats', silu: 'op' },
    ] as const,
  ];
  for (const [label, over, noGradForm, trainOps] of cases) {
    it(label, async () => {
      const config = microConfig(over);
      const B = 5;
      const S = config.seq_len;
      const L = stateLen(config);
      const D = config.hidden_size;
      const E = config.puzzle_emb_ndim;
      const rng = new Rng(11);
      const model = await randomizedModel(config, 3);
      const weights: NamedArrays = await model.exportWeights();
      const tokens = randomTokens(rng, B * S, config.vocab_size);
      const labels = Int32Array.from(randomTokens(rng, B * S, config.vocab_size), (v, i) => (i % 5 === 2 ? -100 : v));
      // Row 4 has no supervised token at all.
      for (let s = 0; s < S; s++) labels[4 * S + s] = -100;
      const ids = Int32Array.from({ length: B }, (_, i) => i % config.num_puzzle_identifiers);
      const rows = model.puzzleTable!.gather(ids);
      const reset = Uint8Array.from([1, 0, 1, 0, 0]);
      const zH = Float32Array.from({ length: B * L * D }, () => rng.normal());
      const zL = Float32Array.from({ length: B * L * D }, () => rng.normal());

      const ortStep = await OrtTrainStep.create(config, weights, {
        provider: 'cpu',
        threads: 1,
        noGradForm,
        trainOps,
      });
      const params: NamedArrays = {};
      for (const p of ortStep.params) params[p] = weights[p]!;
      const feeds = { tokens, labels, puzzleRows: rows, reset, zH, zL, lossScale: 1 / B, params };
      // Row 3's labels become the model's own prediction (from a first tfjs pass), so that it is "correct".
      const carry0: Carry = resetCarry(
        model,
        { zH: tf.tensor3d(zH, [B, L, D]), zL: tf.tensor3d(zL, [B, L, D]) },
        Array.from(reset, Boolean),
      );
      const tTokens = tf.tensor2d(tokens, [B, S], 'int32');
      const tRows = tf.tensor2d(rows, [B, E]);
      const probe = forwardBackward(
        model,
        carry0,
        { tokens: tTokens, labels: tf.tensor2d(labels, [B, S], 'int32'), puzzleRows: tRows },
        { lossScale: 1 / B },
      );
      const predicted = (await tf.argMax(probe.logits, -1).data()) as Int32Array;
      for (let s = 0; s < S; s++) labels[3 * S + s] = predicted[3 * S + s]!;

      const fb = forwardBackward(
        model,
        carry0,
        { tokens: tTokens, labels: tf.tensor2d(labels, [B, S], 'int32'), puzzleRows: tRows },
        { lossScale: 1 / B },
      );
      const r = await ortStep.run(feeds);
      await ortStep.release();

      const seq = (await fb.loss.seqIsCorrect.data()) as Float32Array;
      expect(Array.from(r.rowCorrect)).toEqual(Array.from(seq));
      expect(r.rowCorrect[3]).toBe(1);
      expect(r.rowCorrect[4]).toBe(1); // no supervised token: counts as correct, as in the reference
      expect(relativeError([r.lmLoss], await fb.loss.lmLoss.data())).toBeLessThanOrEqual(1e-5);
      expect(relativeError([r.qHaltLoss], await fb.loss.qHaltLoss.data())).toBeLessThanOrEqual(1e-5);
      expect(relativeError(r.qHalt, await fb.qHalt.data())).toBeLessThanOrEqual(1e-5);
      expect(relativeError(r.zH, await fb.carry.zH.data())).toBeLessThanOrEqual(1e-5);
      expect(relativeError(r.zL, await fb.carry.zL.data())).toBeLessThanOrEqual(1e-5);
      const names = Object.keys(fb.grads);
      expect(names.sort()).toEqual([...ortStep.params].sort());
      for (const name of names) {
        const err = relativeError(r.grads[name]!, await fb.grads[name]!.data());
        expect(err, name).toBeLessThanOrEqual(1e-4);
      }
      expect(relativeError(r.puzzleGrad!, await fb.puzzleGrad!.data())).toBeLessThanOrEqual(1e-4);
      // Sanity: the loss was not trivially zero and the gradients are not all zero.
      expect(r.lmLoss).toBeGreaterThan(0);
      expect(r.grads['lm_head.weight']!.some((v) => v !== 0)).toBe(true);
    });
  }
});

describe('ORT training graph in float16 (CPU)', () => {
  for (const [label, over] of Object.entries(VARIANTS).slice(0, 2)) {
    it(`${label}: gradients track float32 from float32 master weights and carry`, async () => {
      const config = microConfig(over);
      const B = 4;
      const S = config.seq_len;
      const L = stateLen(config);
      const D = config.hidden_size;
      const rng = new Rng(5);
      const model = await randomizedModel(config, 7);
      const weights: NamedArrays = await model.exportWeights();
      const tokens = randomTokens(rng, B * S, config.vocab_size);
      const labels = randomTokens(rng, B * S, config.vocab_size);
      const ids = Int32Array.from({ length: B }, (_, i) => i % config.num_puzzle_identifiers);
      const rows = model.puzzleTable!.gather(ids);
      const reset = Uint8Array.from([1, 0, 1, 0]);
      const zH = Float32Array.from({ length: B * L * D }, () => rng.normal());
      const zL = Float32Array.from({ length: B * L * D }, () => rng.normal());
      const steps = await Promise.all(
        (['fp32', 'fp16'] as const).map((precision) =>
          // the float32 carry of both (float16 is the default carry in fp16)
          OrtTrainStep.create(config, weights, { provider: 'cpu', threads: 1, precision, carry: 'fp32' }),
        ),
      );
      const params: NamedArrays = {};
      for (const p of steps[0]!.params) params[p] = weights[p]!;
      const scale = 1024;
      const feeds = { tokens, labels, puzzleRows: rows, reset, zH, zL, params };
      const full = await steps[0]!.run({ ...feeds, lossScale: 1 / B });
      const half = await steps[1]!.run({ ...feeds, lossScale: scale / B });
      for (const s of steps) await s.release();
      expect(steps[1]!.precision).toBe('fp16');
      expect(half.zH).toBeInstanceOf(Float32Array);
      // float16 has an 11-bit significand (relative rounding 4.9e-4); dozens of roundings deep through random
      // weights, errors of a few per cent remain (measured: up to 4.2e-2); a wrong gradient is off by O(1).
      expect(relativeError([half.lmLoss], [full.lmLoss])).toBeLessThanOrEqual(1e-2);
      expect(relativeError(half.zH, full.zH)).toBeLessThanOrEqual(6e-2);
      expect(relativeError(half.qHalt, full.qHalt)).toBeLessThanOrEqual(6e-2);
      for (const name of steps[0]!.params) {
        const unscaled = half.grads[name]!.map((v) => v / scale);
        expect(relativeError(unscaled, full.grads[name]!), name).toBeLessThanOrEqual(6e-2);
      }
      const rowsGrad = half.puzzleGrad!.map((v) => v / scale);
      expect(relativeError(rowsGrad, full.puzzleGrad!)).toBeLessThanOrEqual(6e-2);
      // Not trivially equal: float16 arithmetic did happen.
      expect(half.grads['lm_head.weight']).not.toEqual(full.grads['lm_head.weight']!.map((v) => v * scale));
    });
  }
});

describe('the op forms of the recursions outside the gradient', () => {
  const opCounts = (bytes: Uint8Array): Map<string, number> => {
    const m = decodeModel(bytes) as { graph: { node: { op_type: string }[] } };
    const counts = new Map<string, number>();
    for (const n of m.graph.node) counts.set(n.op_type, (counts.get(n.op_type) ?? 0) + 1);
    return counts;
  };
  // test-micro: H_cycles 2, L_cycles 2, 2 layers: the first recursion is 3 calls of the net, 6 layers
  for (const [label, over, perLayer] of [
    ['attention + RoPE', VARIANTS['attention + RoPE']!, 2],
    ['MLP-mixer (its token-axis norm stays decomposed)', VARIANTS['MLP-mixer']!, 1],
  ] as const) {
    it(`${label}: the inference form puts ${perLayer} RMSNormalization per layer there, the differentiable none`, async () => {
      const config = microConfig(over);
      const weights = await (await randomizedModel(config, 3)).exportWeights();
      const fused = opCounts(buildTrainGraph(config, weights, { noGradForm: 'inference' }).bytes);
      const plain = opCounts(buildTrainGraph(config, weights, { noGradForm: 'differentiable' }).bytes);
      const layers = (config.H_cycles - 1) * (config.L_cycles + 1) * config.L_layers;
      expect(fused.get('RMSNormalization')).toBe(perLayer * layers);
      expect(plain.get('RMSNormalization')).toBeUndefined();
      expect(fused.get('Sqrt')!).toBeLessThan(plain.get('Sqrt')!);
    });
  }

  it('norm stats and silu op put one SimplifiedLayerNormalization per norm and one QuickGelu per SwiGLU in every recursion', async () => {
    const config = microConfig(VARIANTS['attention + RoPE']!);
    const weights = await (await randomizedModel(config, 3)).exportWeights();
    const ops = opCounts(
      buildTrainGraph(config, weights, { noGradForm: 'inference', trainOps: { norm: 'stats', silu: 'op' } }).bytes,
    );
    const calls = config.H_cycles * (config.L_cycles + 1) * config.L_layers;
    // two norms and one SwiGLU per layer, in the recursions outside the gradient too
    expect(ops.get('SimplifiedLayerNormalization')).toBe(2 * calls);
    expect(ops.get('RMSNormalization')).toBeUndefined();
    expect(ops.get('QuickGelu')).toBe(calls);
    expect(ops.get('Sqrt')).toBeUndefined();
    expect(() => buildTrainGraph(config, weights, { trainOps: { norm: 'op' as 'stats' } })).toThrow(
      /trainOps.norm must be one of decomposed, stats \(got op\)/,
    );
  });
});
