// Losses and metrics against values computed by hand (in float64, from the formulas of TRM-SPEC §4).
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../backend/backend.js';
import { actLoss, actMetricSums, readMetrics } from './act-loss.js';
import { IGNORE_LABEL_ID, mapIgnoreLabels, stablemaxS, tokenCrossEntropy } from './cross-entropy.js';

// Before the describe blocks, which make tensors while the tests are collected.
await selectBackend('cpu', () => {});

// Two rows of two tokens, vocabulary 3; the second token of row 1 is ignored.
const LOGITS = [
  [
    [1, -1, 0],
    [3, 2, -2],
  ],
  [
    [0, 0, 5],
    [0.2, 0.1, 0.3],
  ],
];
const LABELS = [
  [1, 0],
  [2, IGNORE_LABEL_ID],
];

describe('stable-max', () => {
  it('s(x) is 1/(1-x) below 0 and x+1 above, with slope 1 at 0 and finite gradients', async () => {
    const x = tf.tensor1d([-3, -1, 0, 2, 1]);
    expect(Array.from(await stablemaxS(x).data())).toEqual([0.25, 0.5, 1, 3, 2]);
    const g = await tf
      .grad((t) => tf.sum(stablemaxS(t)))(x)
      .data();
    // d/dx 1/(1-x) = 1/(1-x)^2; d/dx (x+1) = 1, also at exactly 0 as in the reference's where(x < 0, ...)
    expect(Array.from(g)).toEqual([1 / 16, 0.25, 1, 1, 1]);
  });

  it('per-token cross-entropy: -log(s(x_label) / sum s(x)), 0 for the ignore label', async () => {
    const ce = await tokenCrossEntropy(
      tf.tensor3d(LOGITS),
      tf.tensor2d(LABELS, undefined, 'int32'),
      'stablemax_cross_entropy',
    ).data();
    // row 0 token 0: s = [2, 0.5, 1], -log(0.5 / 3.5) = log 7
    expect(ce[0]).toBeCloseTo(Math.log(7), 6);
    expect(ce[1]).toBeCloseTo(0.6061358035703154, 6); // s = [4, 3, 1/3]: log(22/12)
    expect(ce[2]).toBeCloseTo(0.2876820724517809, 6); // s = [1, 1, 6]: log(8/6)
    expect(Math.abs(ce[3]!)).toBe(0);
  });

  it('softmax cross-entropy is selectable', async () => {
    const ce = await tokenCrossEntropy(
      tf.tensor3d(LOGITS),
      tf.tensor2d(LABELS, undefined, 'int32'),
      'softmax_cross_entropy',
    ).data();
    expect(ce[0]).toBeCloseTo(2.4076059644443806, 6);
    expect(ce[1]).toBeCloseTo(0.318175429247454, 6);
    expect(ce[2]).toBeCloseTo(0.013385901721448918, 6);
    expect(Math.abs(ce[3]!)).toBe(0);
  });
});

describe('actLoss', () => {
  const inputs = () => ({
    logits: tf.tensor3d(LOGITS),
    labels: tf.tensor2d(LABELS, undefined, 'int32'),
    qHalt: tf.tensor1d([0.5, -1]),
  });

  it('sums per-sequence mean CE and adds half the summed halt BCE (stable-max)', async () => {
    const l = actLoss({ ...inputs(), lossType: 'stablemax_cross_entropy' });
    // row 0: mean(log 7, log 22/12); row 1: log 8/6 (one label). Row 0 is wrong (argmax 0 != 1), row 1 right.
    expect((await l.lmLoss.data())[0]).toBeCloseTo(1.5637050487645952, 5);
    // BCE(0.5, 0) + BCE(-1, 1) = log(1 + e^0.5) + log(1 + e)
    expect((await l.qHaltLoss.data())[0]).toBeCloseTo(2.2873386716983295, 5);
    expect((await l.total.data())[0]).toBeCloseTo(2.70737438461376, 5);
    expect(Array.from(await l.seqIsCorrect.data())).toEqual([0, 1]);
  });

  it('uses softmax cross-entropy when the config says so', async () => {
    const l = actLoss({ ...inputs(), lossType: 'softmax_cross_entropy' });
    expect((await l.total.data())[0]).toBeCloseTo(2.5199459344165307, 5);
  });

  it('has gradients for logits and q_halt only through the losses (targets are constants)', async () => {
    const { logits, labels, qHalt } = inputs();
    const [gl, gq] = tf.grads(
      (lg: tf.Tensor, q: tf.Tensor) =>
        actLoss({ logits: lg as tf.Tensor3D, labels, qHalt: q as tf.Tensor1D, lossType: 'stablemax_cross_entropy' })
          .total,
    )([logits, qHalt]);
    // d/dq 0.5 BCE(q, y) = 0.5 (sigmoid(q) - y)
    const sig = (x: number) => 1 / (1 + Math.exp(-x));
    const g = await gq!.data();
    expect(g[0]).toBeCloseTo(0.5 * sig(0.5), 6);
    expect(g[1]).toBeCloseTo(0.5 * (sig(-1) - 1), 6);
    // the ignored token gets no gradient
    expect(Array.from((await gl!.data()).slice(9, 12))).toEqual([0, 0, 0]);
  });

  it('maps the dataset ignore label (PAD = 0) to -100', () => {
    expect(Array.from(mapIgnoreLabels(Int32Array.from([0, 3, 0, 1]), 0))).toEqual([-100, 3, -100, 1]);
    expect(Array.from(mapIgnoreLabels(Int32Array.from([0, 3]), null))).toEqual([0, 3]);
  });
});

describe('actMetricSums', () => {
  // A third row without labels: it counts as correct for the loss but is not a valid row for the metrics.
  const logits = tf.tensor3d([
    ...LOGITS,
    [
      [1, 0, 0],
      [1, 0, 0],
    ],
  ]);
  const labels = tf.tensor2d([...LABELS, [IGNORE_LABEL_ID, IGNORE_LABEL_ID]], undefined, 'int32');
  const qHalt = tf.tensor1d([0.5, -1, 2]);
  const steps = tf.tensor1d([3, 5, 7]);
  const lmLoss = tf.scalar(1.5);
  const qHaltLoss = tf.scalar(2.5);

  it('counts the valid halted rows only', async () => {
    const all = await readMetrics(
      actMetricSums({ logits, labels, qHalt, steps, lmLoss, qHaltLoss, halted: tf.tensor1d([1, 1, 1], 'bool') }),
    );
    // row 0: 1 of 2 tokens right; row 1: 1 of 1; neither q_halt sign agrees with correctness
    expect(all).toEqual({
      count: 2,
      accuracy: 1.5,
      exact_accuracy: 1,
      q_halt_accuracy: 0,
      steps: 8,
      lm_loss: 1.5,
      q_halt_loss: 2.5,
    });
    const some = await readMetrics(
      actMetricSums({ logits, labels, qHalt, steps, lmLoss, qHaltLoss, halted: tf.tensor1d([0, 1, 1], 'bool') }),
    );
    expect(some).toMatchObject({ count: 1, accuracy: 1, exact_accuracy: 1, q_halt_accuracy: 0, steps: 5 });
  });
});
