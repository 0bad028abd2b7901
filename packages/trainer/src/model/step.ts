// One supervision step of TRM (TRM-SPEC §1.3, §1.7, §2): input embedding, the recursion over (z_H, z_L), the
// heads, and the carry with its reset. The recursion is split so that training can run the first H_cycles - 1
// full recursions outside the gradient tape (the reference runs them under no_grad) and only the last one on it.
import * as tf from '@tensorflow/tfjs';
import { linear, matmul } from '../ops/matmul.js';
import { oneHotFloat } from '../ops/one-hot.js';
import { reasoningModule } from './layers.js';
import { param, type TrmNet } from './net.js';

/** The recurrent state, each [B, L, D] with L = P + seq_len (z_H is the paper's y, z_L its z). */
// A type alias rather than an interface, so that tf.tidy accepts it as a TensorContainer.
export type Carry = {
  zH: tf.Tensor3D;
  zL: tf.Tensor3D;
};

export interface StepInputs {
  /** int32 token ids [B, seq_len] */
  tokens: tf.Tensor2D;
  /** the puzzle-embedding rows of the batch [B, puzzle_emb_ndim]; required when puzzle_emb_ndim > 0 */
  puzzleRows?: tf.Tensor2D | null;
}

export interface StepOutputs {
  carry: Carry;
  /** [B, seq_len, vocab]: lm_head(z_H) with the puzzle prefix dropped */
  logits: tf.Tensor3D;
  /** [B]: q_head(z_H[:, 0])[..., 0] */
  qHalt: tf.Tensor1D;
  /** [B]: q_head(z_H[:, 0])[..., 1] (unused by the loss when no_ACT_continue) */
  qContinue: tf.Tensor1D;
}

// biome-ignore lint/suspicious/noApproximativeNumericConstant: the reference's literal, which is not exactly 1/sqrt(2)
const LEARNED_POS_SCALE = 0.707106781;

/** x = sqrt(D) * concat([puzzle prefix (rows zero-padded to P*D), token embeddings]) along the sequence. */
export function inputEmbeddings(net: TrmNet, inputs: StepInputs): tf.Tensor3D {
  const c = net.config;
  const D = c.hidden_size;
  const [B, S] = inputs.tokens.shape;
  if (S !== c.seq_len) throw new Error(`tokens must be [B, ${c.seq_len}] (got [${inputs.tokens.shape.join(', ')}])`);
  // One-hot times the table instead of a gather: the gather's gradient needs UnsortedSegmentSum, absent on wasm.
  const oneHot = oneHotFloat(inputs.tokens.reshape([B * S]), c.vocab_size);
  let x = matmul(oneHot, param(net, 'embed_tokens.embedding_weight')).reshape([B, S, D]);
  const P = net.prefixLen;
  if (P > 0) {
    const rows = inputs.puzzleRows;
    if (!rows || rows.shape[0] !== B || rows.shape[1] !== c.puzzle_emb_ndim)
      throw new Error(
        `puzzleRows must be [${B}, ${c.puzzle_emb_ndim}] (got ${rows ? `[${rows.shape.join(', ')}]` : 'none'})`,
      );
    const pad = P * D - c.puzzle_emb_ndim;
    const prefix = (
      pad > 0
        ? tf.pad(rows, [
            [0, 0],
            [0, pad],
          ])
        : rows
    ).reshape([B, P, D]);
    x = tf.concat([prefix, x], 1);
  }
  if (c.pos_encodings === 'learned') x = tf.mul(LEARNED_POS_SCALE, tf.add(x, param(net, 'embed_pos.embedding_weight')));
  return tf.mul(x, Math.sqrt(D)) as tf.Tensor3D;
}

/** One full recursion: n updates z_L = L_level(z_L, z_H + x), then z_H = L_level(z_H, z_L). */
export function latentRecursion(net: TrmNet, x: tf.Tensor3D, carry: Carry): Carry {
  let { zH, zL } = carry;
  for (let i = 0; i < net.config.L_cycles; i++) zL = reasoningModule(net, zL, tf.add(zH, x)) as tf.Tensor3D;
  zH = reasoningModule(net, zH, zL) as tf.Tensor3D;
  return { zH, zL };
}

/**
 * The first H_cycles - 1 recursions, each in its own tidy so that only the state survives. Call it outside any
 * gradient tape: the reference runs this part under torch.no_grad. Returns new tensors; `carry` is untouched.
 */
export function recurseWithoutGrad(net: TrmNet, x: tf.Tensor3D, carry: Carry): Carry {
  let state: Carry = { zH: tf.clone(carry.zH), zL: tf.clone(carry.zL) };
  for (let t = 0; t < net.config.H_cycles - 1; t++) {
    const prev = state;
    state = tf.tidy(() => latentRecursion(net, x, prev));
    tf.dispose([prev.zH, prev.zL]);
  }
  return state;
}

/** logits = lm_head(z_H)[:, P:], q = q_head(z_H[:, 0]). */
export function outputHeads(net: TrmNet, zH: tf.Tensor3D): Omit<StepOutputs, 'carry'> {
  const [B, L, D] = zH.shape;
  const P = net.prefixLen;
  const logits = linear(tf.slice(zH, [0, P, 0], [B, L - P, D]), param(net, 'lm_head.weight')) as tf.Tensor3D;
  const first = tf.slice(zH, [0, 0, 0], [B, 1, D]).reshape([B, D]);
  const q = tf.add(linear(first, param(net, 'q_head.weight')), param(net, 'q_head.bias'));
  const [qHalt, qContinue] = tf.split(q, 2, 1).map((t) => t.reshape([B])) as [tf.Tensor1D, tf.Tensor1D];
  return { logits, qHalt, qContinue };
}

/** The state of a fresh puzzle: H_init / L_init broadcast over [B, L, D]. */
export function initialCarry(net: TrmNet, batchSize: number): Carry {
  const D = net.config.hidden_size;
  const L = net.config.seq_len + net.prefixLen;
  return tf.tidy(() => ({
    zH: tf.tile(param(net, 'H_init').reshape([1, 1, D]), [batchSize, L, 1]) as tf.Tensor3D,
    zL: tf.tile(param(net, 'L_init').reshape([1, 1, D]), [batchSize, L, 1]) as tf.Tensor3D,
  }));
}

/** z <- H_init / L_init on the rows where reset is true. Returns new tensors; `carry` is untouched. */
export function resetCarry(net: TrmNet, carry: Carry, reset: tf.Tensor1D | readonly boolean[]): Carry {
  const B = carry.zH.shape[0];
  return tf.tidy(() => {
    let mask = reset instanceof tf.Tensor ? tf.cast(reset, 'bool') : tf.tensor1d(reset.map(Number), 'bool');
    if (mask.shape[0] !== B) throw new Error(`reset must have ${B} entries (got ${mask.shape[0]})`);
    const init = initialCarry(net, B);
    mask = mask.reshape([B, 1, 1]);
    return {
      zH: tf.where(mask, init.zH, carry.zH) as tf.Tensor3D,
      zL: tf.where(mask, init.zL, carry.zL) as tf.Tensor3D,
    };
  });
}

/**
 * One supervision step without gradients (evaluation, inference): H_cycles full recursions from `carry`, then the
 * heads. `carry` is not disposed. Resetting halted rows is the caller's business (resetCarry) as in the reference.
 */
export function supervisionStep(net: TrmNet, carry: Carry, inputs: StepInputs): StepOutputs {
  const x = tf.tidy(() => inputEmbeddings(net, inputs));
  const before = recurseWithoutGrad(net, x, carry);
  const after = tf.tidy(() => latentRecursion(net, x, before));
  tf.dispose([x, before.zH, before.zL]);
  const heads = tf.tidy(() => outputHeads(net, after.zH));
  return { carry: after, ...heads };
}
