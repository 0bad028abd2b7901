// First and second moment buffers of the Adam family, one pair per parameter, created lazily at the first update
// (as PyTorch does) and saved/restored as plain arrays.
import * as tf from '@tensorflow/tfjs';
import type { OptimizerName } from '@trm/core';
import type { NamedArrays } from '../model/model.js';
import type { OptimizerState } from './optimizer.js';

function zerosVariable(shape: number[]): tf.Variable {
  const z = tf.zeros(shape);
  const v = tf.variable(z, false);
  z.dispose();
  return v;
}

export class Moments {
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  step = 0;

  /** The moment variables of `name`, zero-filled like `like` on first use. */
  get(name: string, like: tf.Tensor): { m: tf.Variable; v: tf.Variable } {
    let m = this.m.get(name);
    let v = this.v.get(name);
    if (!m || !v) {
      m = zerosVariable(like.shape);
      v = zerosVariable(like.shape);
      this.m.set(name, m);
      this.v.set(name, v);
    }
    return { m, v };
  }

  async export(name: OptimizerName): Promise<OptimizerState> {
    const tensors: NamedArrays = {};
    for (const [k, t] of this.m)
      tensors[`exp_avg.${k}`] = { shape: t.shape.slice(), data: (await t.data()) as Float32Array };
    for (const [k, t] of this.v)
      tensors[`exp_avg_sq.${k}`] = { shape: t.shape.slice(), data: (await t.data()) as Float32Array };
    return { name, step: this.step, tensors };
  }

  import(expected: OptimizerName, state: OptimizerState): void {
    if (state.name !== expected) throw new Error(`optimizer state is for ${state.name}, expected ${expected}`);
    if (!Number.isInteger(state.step) || state.step < 0)
      throw new Error(`optimizer state step must be a non-negative integer (got ${state.step})`);
    this.dispose();
    for (const [key, arr] of Object.entries(state.tensors)) {
      const dot = key.indexOf('.');
      const kind = key.slice(0, dot);
      const name = key.slice(dot + 1);
      const target = kind === 'exp_avg' ? this.m : kind === 'exp_avg_sq' ? this.v : null;
      if (!target) throw new Error(`optimizer state tensor ${key} must start with exp_avg. or exp_avg_sq.`);
      const t = tf.tensor(arr.data, arr.shape, 'float32');
      target.set(name, tf.variable(t, false));
      t.dispose();
    }
    this.step = state.step;
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
    this.m.clear();
    this.v.clear();
  }
}
