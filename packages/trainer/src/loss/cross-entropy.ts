// Token losses of TRM-SPEC §4: stable-max cross-entropy (the reference default) and softmax cross-entropy, both
// per token with the ignore label -100 giving 0. Float32 here; the reference computes stable-max in float64 from
// bf16 logits, which no tfjs GPU backend offers.
import * as tf from '@tensorflow/tfjs';
import { withoutGradient } from '../ops/no-gradient.js';
import { oneHotFloat } from '../ops/one-hot.js';

/** The label that contributes no loss (the reference's IGNORE_LABEL_ID); data loaders map PAD labels to it. */
export const IGNORE_LABEL_ID = -100;

/** Maps the dataset's ignore label (metadata `ignore_label_id`, PAD = 0 for every task) to -100, as the loader does. */
export function mapIgnoreLabels(labels: Int32Array, ignoreLabelId: number | null): Int32Array {
  if (ignoreLabelId === null) return labels.slice();
  return labels.map((l) => (l === ignoreLabelId ? IGNORE_LABEL_ID : l));
}

const isNegative = withoutGradient((x) => tf.less(x, 0));

/**
 * s(x) = 1/(1 - x) for x < 0, x + 1 otherwise (continuous with a continuous derivative at 0). The negative branch
 * is written 1/(1 + relu(-x)) so that its unselected values stay finite and give no NaN in the gradient. The
 * reference's + 1e-30 in the denominator cannot change a float32 sum with a term >= 1, so it is left out.
 */
export function stablemaxS(x: tf.Tensor): tf.Tensor {
  return tf.where(isNegative(x), tf.div(1, tf.add(1, tf.relu(tf.neg(x)))), tf.add(x, 1));
}

/** log(s(x) / sum s(x)) over the last axis. */
export function logStablemax(x: tf.Tensor): tf.Tensor {
  const s = stablemaxS(x);
  return tf.sub(tf.log(s), tf.log(tf.sum(s, -1, true)));
}

/** Per-token cross-entropy [B, S] from logits [B, S, V] and int32 labels [B, S]; 0 where the label is -100. */
export function tokenCrossEntropy(
  logits: tf.Tensor3D,
  labels: tf.Tensor2D,
  lossType: 'stablemax_cross_entropy' | 'softmax_cross_entropy',
): tf.Tensor2D {
  const V = logits.shape[2];
  const logp = lossType === 'stablemax_cross_entropy' ? logStablemax(logits) : tf.logSoftmax(logits);
  // An ignored label (-100) one-hot encodes to a zero row, so it picks no log-probability.
  const pick = oneHotFloat(labels, V);
  return tf.neg(tf.sum(tf.mul(logp, pick), -1)) as tf.Tensor2D;
}

/** BCE-with-logits per element in the stable form max(x, 0) - x y + log(1 + exp(-|x|)). */
export function bceWithLogits(x: tf.Tensor, target: tf.Tensor): tf.Tensor {
  return tf.add(tf.sub(tf.relu(x), tf.mul(x, target)), tf.log(tf.add(1, tf.exp(tf.neg(tf.abs(x))))));
}
