// The loss of one supervision step (the reference's ACTLossHead, TRM-SPEC §4) and its metrics.
// Loss = sum over rows of the per-sequence mean token CE + 0.5 * sum BCE(q_halt, whole sequence correct); the
// trainer differentiates loss / global_batch_size. Every row counts for the loss; metrics count halted rows only.
import * as tf from '@tensorflow/tfjs';
import type { LossType } from '@trm/core';
import { withoutGradient } from '../ops/no-gradient.js';
import { bceWithLogits, IGNORE_LABEL_ID, tokenCrossEntropy } from './cross-entropy.js';

export interface ActLossInputs {
  /** [B, S, V] */
  logits: tf.Tensor3D;
  /** int32 [B, S], -100 where ignored */
  labels: tf.Tensor2D;
  /** [B] */
  qHalt: tf.Tensor1D;
  lossType: LossType;
}

export interface ActLoss {
  /** lmLoss + 0.5 * qHaltLoss (sums over the batch, not divided by it) */
  total: tf.Scalar;
  lmLoss: tf.Scalar;
  qHaltLoss: tf.Scalar;
  /** [B] float 0/1: every supervised token's argmax equals its label (a row with no label counts as correct) */
  seqIsCorrect: tf.Tensor1D;
}

/** [B] number of supervised tokens per row. */
function labelCounts(labels: tf.Tensor2D): tf.Tensor1D {
  return tf.sum(tf.cast(tf.notEqual(labels, IGNORE_LABEL_ID), 'float32'), -1) as tf.Tensor1D;
}

/** [B, S] float 0/1: supervised and argmax == label (argmax over the whole vocabulary, first index on ties). */
function correctTokens(logits: tf.Tensor3D, labels: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const hit = tf.equal(tf.argMax(logits, -1), tf.cast(labels, 'int32'));
    return tf.cast(tf.logicalAnd(hit, tf.notEqual(labels, IGNORE_LABEL_ID)), 'float32') as tf.Tensor2D;
  });
}

export function actLoss({ logits, labels, qHalt, lossType }: ActLossInputs): ActLoss {
  const counts = labelCounts(labels);
  // Correctness is a target, not a path for gradients (and comparison ops have no gradient in tfjs).
  const seqIsCorrect = withoutGradient((l) =>
    tf.cast(tf.equal(tf.sum(correctTokens(l as tf.Tensor3D, labels), -1), counts), 'float32'),
  )(logits) as tf.Tensor1D;
  const ce = tokenCrossEntropy(logits, labels, lossType);
  const lmLoss = tf.sum(tf.div(tf.sum(ce, -1), tf.maximum(counts, 1))) as tf.Scalar;
  const qHaltLoss = tf.sum(bceWithLogits(qHalt, seqIsCorrect)) as tf.Scalar;
  const total = tf.add(lmLoss, tf.mul(0.5, qHaltLoss)) as tf.Scalar;
  return { total, lmLoss, qHaltLoss, seqIsCorrect };
}

export const METRIC_NAMES = [
  'count',
  'accuracy',
  'exact_accuracy',
  'q_halt_accuracy',
  'steps',
  'lm_loss',
  'q_halt_loss',
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];
export type ActMetrics = Record<MetricName, number>;

export interface ActMetricInputs {
  logits: tf.Tensor3D;
  labels: tf.Tensor2D;
  qHalt: tf.Tensor1D;
  /** [B] bool: rows that halted after this step (only they count) */
  halted: tf.Tensor1D;
  /** [B] supervision steps taken by each row, this one included */
  steps: tf.Tensor1D;
  /** the step's loss parts (summed over all rows) */
  lmLoss: tf.Scalar;
  qHaltLoss: tf.Scalar;
}

/**
 * The reference's training metrics as sums over the batch, in METRIC_NAMES order: count of valid halted rows,
 * per-row token accuracy, exact accuracy, q_halt accuracy ((q_halt >= 0) == correct), steps, and the two loss sums.
 * The caller divides the losses by the global batch size and the others by max(count, 1).
 */
export function actMetricSums(m: ActMetricInputs): tf.Tensor1D {
  return tf.tidy(() => {
    const counts = labelCounts(m.labels);
    const correct = correctTokens(m.logits, m.labels);
    const correctPerRow = tf.sum(correct, -1);
    const seqOk = tf.equal(correctPerRow, counts);
    const valid = tf.logicalAnd(tf.cast(m.halted, 'bool'), tf.greater(counts, 0));
    const v = tf.cast(valid, 'float32');
    const sumValid = (x: tf.Tensor) => tf.sum(tf.mul(v, tf.cast(x, 'float32')));
    return tf.stack([
      tf.sum(v),
      sumValid(tf.div(correctPerRow, tf.maximum(counts, 1))),
      sumValid(seqOk),
      sumValid(tf.equal(tf.greaterEqual(m.qHalt, 0), seqOk)),
      sumValid(m.steps),
      m.lmLoss,
      m.qHaltLoss,
    ]) as tf.Tensor1D;
  });
}

/** Reads a tensor from actMetricSums into named numbers (awaits the data: safe on webgpu) and disposes it. */
export async function readMetrics(sums: tf.Tensor1D): Promise<ActMetrics> {
  const values = await sums.data();
  sums.dispose();
  return Object.fromEntries(METRIC_NAMES.map((k, i) => [k, values[i]!])) as ActMetrics;
}
