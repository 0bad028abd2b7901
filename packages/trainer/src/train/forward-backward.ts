// Forward and backward of one supervision step for training, with the reference's gradient truncation
// (TRM-SPEC §2): the first H_cycles - 1 recursions run outside the gradient tape, the input embedding and the last
// recursion run on it, and the gradient reaches every trained parameter and the batch's puzzle-embedding rows.
import * as tf from '@tensorflow/tfjs';
import { type ActLoss, actLoss } from '../loss/act-loss.js';
import type { TrmModel } from '../model/model.js';
import type { TrmNet } from '../model/net.js';
import {
  type Carry,
  inputEmbeddings,
  latentRecursion,
  outputHeads,
  recurseWithoutGrad,
  type StepOutputs,
} from '../model/step.js';

export interface TrainBatch {
  /** int32 [B, seq_len] */
  tokens: tf.Tensor2D;
  /** int32 [B, seq_len], -100 where ignored (see mapIgnoreLabels) */
  labels: tf.Tensor2D;
  /** [B, puzzle_emb_ndim] rows gathered from the puzzle table; required when the model has one */
  puzzleRows?: tf.Tensor2D | null;
}

export interface ForwardBackwardOptions {
  /** The reference differentiates loss / global_batch_size: pass 1 / global_batch_size. */
  lossScale: number;
}

export interface ForwardBackwardResult extends StepOutputs {
  /** the loss parts, summed over the batch and not scaled */
  loss: ActLoss;
  /** d(lossScale * loss.total) / d param, by reference name, for every parameter that got a gradient */
  grads: Record<string, tf.Tensor>;
  /** d(lossScale * loss.total) / d puzzleRows [B, E], for the sparse sign-SGD of the puzzle table */
  puzzleGrad: tf.Tensor2D | null;
}

/**
 * One supervision step with gradients, for a model whose carry has already been reset where needed.
 * `carry` and `batch` are not disposed; everything returned belongs to the caller.
 */
export function forwardBackward(
  model: TrmModel,
  carry: Carry,
  batch: TrainBatch,
  opts: ForwardBackwardOptions,
): ForwardBackwardResult {
  const net: TrmNet = model;
  const rows = net.prefixLen > 0 ? (batch.puzzleRows ?? null) : null;
  const inputs = { tokens: batch.tokens, puzzleRows: rows };
  const x0 = tf.tidy(() => inputEmbeddings(net, inputs));
  const start = recurseWithoutGrad(net, x0, carry);
  x0.dispose();

  const names = model.trainableNames;
  const xs: tf.Tensor[] = [...model.trainableVariables(), ...(rows ? [rows] : [])];
  let kept: Omit<ForwardBackwardResult, 'grads' | 'puzzleGrad'> | undefined;
  const { value, grads } = tf.valueAndGrads(() => {
    const x = inputEmbeddings(net, inputs);
    const state = latentRecursion(net, x, start);
    const heads = outputHeads(net, state.zH);
    const loss = actLoss({
      logits: heads.logits,
      labels: batch.labels,
      qHalt: heads.qHalt,
      lossType: net.config.loss_type,
    });
    // valueAndGrads disposes what its function created except the returned loss: keep what the caller gets.
    for (const t of [state.zH, state.zL, heads.logits, heads.qHalt, heads.qContinue, ...Object.values(loss)])
      tf.keep(t);
    kept = { carry: state, ...heads, loss };
    return tf.mul(loss.total, opts.lossScale) as tf.Scalar;
  })(xs);
  value.dispose();
  tf.dispose([start.zH, start.zL]);

  const named: Record<string, tf.Tensor> = {};
  names.forEach((n, i) => {
    named[n] = grads[i]!;
  });
  return { ...kept!, grads: named, puzzleGrad: rows ? (grads[names.length] as tf.Tensor2D) : null };
}
