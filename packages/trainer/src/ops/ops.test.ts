// The wasm-friendly ops: same values and gradients as tfjs's own matMul, a gradient wall that lets comparison
// ops sit in a differentiated function, and a float one-hot.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../backend/backend.js';
import { linear, matmul } from './matmul.js';
import { withoutGradient } from './no-gradient.js';
import { oneHotFloat } from './one-hot.js';

// Before the describe blocks, which make tensors while the tests are collected.
await selectBackend('cpu', () => {});

async function close(a: tf.Tensor, b: tf.Tensor): Promise<void> {
  expect(a.shape).toEqual(b.shape);
  const [x, y] = [await a.data(), await b.data()];
  x.forEach((v, i) => {
    expect(v).toBeCloseTo(y[i]!, 5);
  });
}

describe('matmul and linear', () => {
  const a = tf.randomNormal([2, 3, 4, 5], 0, 1, 'float32', 1);
  const b = tf.randomNormal([2, 3, 5, 6], 0, 1, 'float32', 2);
  const x = tf.randomNormal([7, 5], 0, 1, 'float32', 3);
  const w = tf.randomNormal([6, 5], 0, 1, 'float32', 4);
  const dy4 = tf.randomNormal([2, 3, 4, 6], 0, 1, 'float32', 5);
  const dy2 = tf.randomNormal([7, 6], 0, 1, 'float32', 6);

  it('batched matmul has tfjs matMul values and gradients', async () => {
    await close(matmul(a, b), tf.matMul(a, b));
    const ours = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(matmul(p, q), dy4)))([a, b]);
    const theirs = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(tf.matMul(p, q), dy4)))([a, b]);
    await close(ours[0]!, theirs[0]!);
    await close(ours[1]!, theirs[1]!);
  });

  it('linear(x, W) is x W^T with the gradients of matMul(x, W, false, true)', async () => {
    await close(linear(x, w), tf.matMul(x, w, false, true));
    const ours = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(linear(p, q), dy2)))([x, w]);
    const theirs = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(tf.matMul(p, q, false, true), dy2)))([x, w]);
    await close(ours[0]!, theirs[0]!);
    await close(ours[1]!, theirs[1]!);
    expect(() => linear(x, tf.zeros([6, 4]))).toThrow(/input width 5 does not match weight \[6, 4\]/);
  });
});

describe('withoutGradient', () => {
  it('lets a comparison feed a differentiated value, contributing zero gradient', async () => {
    const flag = withoutGradient((t) => tf.cast(tf.greater(t, 0), 'float32'));
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(t, flag(t))))(tf.tensor1d([-2, 3]));
    expect(Array.from(await g.data())).toEqual([0, 1]);
  });
});

describe('oneHotFloat', () => {
  it('encodes indices as float32 rows, out-of-range as zeros', async () => {
    const t = oneHotFloat(tf.tensor1d([2, 0, -100], 'int32'), 3);
    expect(t.dtype).toBe('float32');
    expect(Array.from(await t.data())).toEqual([0, 0, 1, 1, 0, 0, 0, 0, 0]);
  });
});
