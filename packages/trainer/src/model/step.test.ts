// The tfjs supervision step against the independent float64 reference: logits, q_halt, q_continue and both
// states to 1e-5, over chained steps with a partial reset, for the attention+RoPE, MLP-mixer and learned-position
// variants. Each step starts both sides from the reference's previous state (rounded to float32): the recursion
// amplifies rounding, so free-running chains drift apart by 5-8x per step in the mlp_t configs here (the float64
// reference moves as much under float32-sized weight noise), which would hide what this test checks. Measured
// worst differences: 8.5e-7 (attention), 4.9e-6 (mlp_t), 8.7e-7 (learned positions).
import * as tf from '@tensorflow/tfjs';
import { type ModelConfig, Rng } from '@trm/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend/backend.js';
import { type RefState, refEmptyState, refReset, refStep, toRefParams } from '../testing/trm-reference.js';
import { microConfig, randomizedModel, randomTokens } from '../testing/random-model.js';
import { type Carry, initialCarry, resetCarry, supervisionStep } from './step.js';

beforeAll(async () => {
  await selectBackend('cpu', () => {});
});

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const VARIANTS: Record<string, Partial<ModelConfig>> = {
  'attention + RoPE (D=16, P=2 with padding)': {
    hidden_size: 16,
    num_heads: 2,
    L_layers: 2,
    H_cycles: 2,
    L_cycles: 2,
    seq_len: 6,
    puzzle_emb_ndim: 16,
    puzzle_emb_len: 2,
    num_puzzle_identifiers: 3,
  },
  'mlp_t, no positions (D=24, P=1)': {
    hidden_size: 24,
    num_heads: 2,
    L_layers: 2,
    H_cycles: 2,
    L_cycles: 1,
    seq_len: 7,
    mlp_t: true,
    pos_encodings: 'none',
    puzzle_emb_ndim: 24,
    puzzle_emb_len: 1,
    num_puzzle_identifiers: 2,
  },
  'learned positions, 4 heads, no puzzle embedding (D=32)': {
    hidden_size: 32,
    num_heads: 4,
    L_layers: 1,
    H_cycles: 2,
    L_cycles: 2,
    seq_len: 5,
    pos_encodings: 'learned',
    puzzle_emb_ndim: 0,
    puzzle_emb_len: 0,
  },
};

describe('supervisionStep matches the float64 reference', () => {
  for (const [label, over] of Object.entries(VARIANTS)) {
    it(label, async () => {
      const config = microConfig(over);
      const B = 3;
      const model = await randomizedModel(config, 7);
      const ref = toRefParams(await model.exportWeights());
      const rng = new Rng(11);
      const table = model.puzzleTable;

      let carry: Carry = initialCarry(model, B);
      let refState: RefState = refReset(config, ref, refEmptyState(config, B), [true, true, true]);
      expect(maxAbsDiff(await carry.zH.data(), refState.zH)).toBe(0);
      expect(maxAbsDiff(await carry.zL.data(), refState.zL)).toBe(0);
      const shape = carry.zH.shape;

      const resets = [null, null, [false, true, false]] as const;
      let worst = 0;
      for (const reset of resets) {
        if (reset) {
          const next = resetCarry(model, carry, [...reset]);
          tf.dispose([carry.zH, carry.zL]);
          carry = next;
          refState = refReset(config, ref, refState, [...reset]);
        }
        const tokens = randomTokens(rng, B * config.seq_len, config.vocab_size);
        const ids = Int32Array.from({ length: B }, () => rng.int(0, config.num_puzzle_identifiers - 1));
        const tokT = tf.tensor2d(tokens, [B, config.seq_len], 'int32');
        const rowsT = table ? table.gatherTensor(ids) : null;
        const out = supervisionStep(model, carry, { tokens: tokT, puzzleRows: rowsT });
        const r = refStep(config, ref, refState, {
          batchSize: B,
          tokens,
          puzzleRows: table ? Float64Array.from(table.gather(ids)) : null,
        });
        expect(out.logits.shape).toEqual([B, config.seq_len, config.vocab_size]);
        const diffs = {
          logits: maxAbsDiff(await out.logits.data(), r.logits),
          qHalt: maxAbsDiff(await out.qHalt.data(), r.qHalt),
          qContinue: maxAbsDiff(await out.qContinue.data(), r.qContinue),
          zH: maxAbsDiff(await out.carry.zH.data(), r.state.zH),
          zL: maxAbsDiff(await out.carry.zL.data(), r.state.zL),
        };
        for (const [k, d] of Object.entries(diffs)) {
          expect(d, k).toBeLessThan(1e-5);
          worst = Math.max(worst, d);
        }
        // The outputs are not trivially small: a wrong path would show.
        expect(Math.max(...(await out.qHalt.data()).map(Math.abs))).toBeGreaterThan(0.05);
        tf.dispose([carry.zH, carry.zL, out.carry.zH, out.carry.zL, tokT, out.logits, out.qHalt, out.qContinue]);
        if (rowsT) rowsT.dispose();
        refState = r.state;
        carry = {
          zH: tf.tensor3d(Float32Array.from(refState.zH), shape),
          zL: tf.tensor3d(Float32Array.from(refState.zL), shape),
        };
        refState = {
          zH: Float64Array.from(Float32Array.from(refState.zH)),
          zL: Float64Array.from(Float32Array.from(refState.zL)),
        };
      }
      expect(worst).toBeGreaterThan(0);
      tf.dispose([carry.zH, carry.zL]);
      model.dispose();
    });
  }

  it('does not leak tensors', async () => {
    const config = microConfig({ seq_len: 4 });
    const model = await randomizedModel(config, 1);
    const carry = initialCarry(model, 2);
    const tokens = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8], [2, 4], 'int32');
    const rows = model.puzzleTable!.gatherTensor([0, 0]);
    const before = tf.memory().numTensors;
    const out = supervisionStep(model, carry, { tokens, puzzleRows: rows });
    // exactly the 5 outputs are new
    expect(tf.memory().numTensors - before).toBe(5);
    tf.dispose([out.carry.zH, out.carry.zL, out.logits, out.qHalt, out.qContinue, tokens, rows, carry.zH, carry.zL]);
    model.dispose();
  });
});
