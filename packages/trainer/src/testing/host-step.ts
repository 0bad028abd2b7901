// One supervision step with plain arrays in and out, for tests outside the trainer that compare against it (the
// exporter's parity tests): no tf.Tensor crosses the boundary, so callers need no TensorFlow.js of their own.
import * as tf from '@tensorflow/tfjs';
import { stateLen } from '@trm/core';
import type { TrmModel } from '../model/model.js';
import { type Carry, initialCarry, resetCarry, supervisionStep } from '../model/step.js';

export interface HostStepInputs {
  /** B rows of seq_len token ids */
  tokens: ArrayLike<number>[];
  /** B puzzle-embedding rows (when the model has a puzzle embedding) */
  puzzleRows?: Float32Array[];
  /** rows that start from H_init / L_init before the step */
  reset: boolean[];
}

export interface HostStepOutputs {
  /** [B, L, D] */
  zH: Float32Array;
  zL: Float32Array;
  /** [B, seq_len, vocab] */
  logits: Float32Array;
  /** [B] */
  qHalt: Float32Array;
}

/** One step from `state` (null = every row fresh) on the current tfjs backend; the state is [B, L, D] each. */
export async function hostSupervisionStep(
  model: TrmModel,
  state: { zH: Float32Array; zL: Float32Array } | null,
  inputs: HostStepInputs,
): Promise<HostStepOutputs> {
  const c = model.config;
  const B = inputs.tokens.length;
  const shape: [number, number, number] = [B, stateLen(c), c.hidden_size];
  const carry: Carry = tf.tidy(() => {
    const start = state
      ? { zH: tf.tensor3d(state.zH, shape), zL: tf.tensor3d(state.zL, shape) }
      : initialCarry(model, B);
    return resetCarry(model, start, inputs.reset);
  });
  const tokens = tf.tensor2d(
    inputs.tokens.flatMap((r) => Array.from(r)),
    [B, c.seq_len],
    'int32',
  );
  const rows = inputs.puzzleRows
    ? tf.tensor2d(
        inputs.puzzleRows.flatMap((r) => Array.from(r)),
        [B, c.puzzle_emb_ndim],
      )
    : null;
  const out = supervisionStep(model, carry, { tokens, puzzleRows: rows });
  try {
    return {
      zH: (await out.carry.zH.data()) as Float32Array,
      zL: (await out.carry.zL.data()) as Float32Array,
      logits: (await out.logits.data()) as Float32Array,
      qHalt: (await out.qHalt.data()) as Float32Array,
    };
  } finally {
    tf.dispose([
      carry.zH,
      carry.zL,
      tokens,
      ...(rows ? [rows] : []),
      out.carry.zH,
      out.carry.zL,
      out.logits,
      out.qHalt,
      out.qContinue,
    ]);
  }
}
