// The dense optimisers and the EMA on plain float32 arrays in host memory, for the ONNX Runtime backend: its
// gradients arrive in host memory (onnxruntime-node returns CUDA outputs there), so updating the weights where
// they already are costs no transfer. Same formulas and state layout (exp_avg.<param>, exp_avg_sq.<param>, step)
// as the tfjs optimisers (adam-atan2.ts, adamw.ts, ema.ts), so a checkpoint moves between backends.
import type { OptimizerName } from '@trm/core';
import type { NamedArrays } from '../model/model.js';
import type { AdamHyper } from './adam-atan2.js';
import type { OptimizerState } from './optimizer.js';

export class HostAdam {
  private readonly m = new Map<string, Float32Array>();
  private readonly v = new Map<string, Float32Array>();
  private t = 0;

  constructor(
    readonly name: OptimizerName,
    readonly hyper: AdamHyper & { eps?: number },
  ) {}

  get step(): number {
    return this.t;
  }

  /** One update of every parameter that has a gradient, in place. */
  apply(params: NamedArrays, grads: Readonly<Record<string, Float32Array>>, lr: number): void {
    const { beta1, beta2, weightDecay } = this.hyper;
    const t = ++this.t;
    const wdAlpha = 1 - lr * weightDecay;
    const a1 = 1 - beta1;
    const a2 = 1 - beta2;
    for (const [name, g] of Object.entries(grads)) {
      const p = params[name]?.data;
      if (!p) throw new Error(`gradient for ${name}, which is not a parameter`);
      if (g.length !== p.length) throw new Error(`gradient of ${name} has ${g.length} values, the parameter ${p.length}`);
      let m = this.m.get(name);
      let v = this.v.get(name);
      if (!m || !v) {
        m = new Float32Array(p.length);
        v = new Float32Array(p.length);
        this.m.set(name, m);
        this.v.set(name, v);
      }
      if (this.name === 'adam_atan2') {
        // adam-atan2's kernel: no epsilon, the update bounded by lr pi / 2.
        const bc1Reciprocal = 1 / (1 - beta1 ** t);
        const bc2Sqrt = Math.sqrt(1 - beta2 ** t);
        for (let i = 0; i < p.length; i++) {
          const gi = g[i]!;
          const mi = m[i]! - m[i]! * a1 + gi * a1;
          const vi = v[i]! - v[i]! * a2 + gi * gi * a2;
          m[i] = mi;
          v[i] = vi;
          p[i] = p[i]! * wdAlpha - lr * Math.atan2(mi * bc1Reciprocal, Math.sqrt(vi) / bc2Sqrt);
        }
      } else {
        const eps = this.hyper.eps ?? 1e-8;
        const stepSize = lr / (1 - beta1 ** t);
        const bc2Sqrt = Math.sqrt(1 - beta2 ** t);
        for (let i = 0; i < p.length; i++) {
          const gi = g[i]!;
          const mi = m[i]! - m[i]! * a1 + gi * a1;
          const vi = v[i]! * beta2 + gi * gi * a2;
          m[i] = mi;
          v[i] = vi;
          p[i] = p[i]! * wdAlpha - (mi / (Math.sqrt(vi) / bc2Sqrt + eps)) * stepSize;
        }
      }
    }
  }

  exportState(): OptimizerState {
    const tensors: NamedArrays = {};
    for (const [k, a] of this.m) tensors[`exp_avg.${k}`] = { shape: [a.length], data: a.slice() };
    for (const [k, a] of this.v) tensors[`exp_avg_sq.${k}`] = { shape: [a.length], data: a.slice() };
    return { name: this.name, step: this.t, tensors };
  }

  /** Restores a state saved by either backend (shapes are taken from the parameters). */
  importState(state: OptimizerState, params: NamedArrays): void {
    if (state.name !== this.name) throw new Error(`optimizer state is for ${state.name}, expected ${this.name}`);
    if (!Number.isInteger(state.step) || state.step < 0)
      throw new Error(`optimizer state step must be a non-negative integer (got ${state.step})`);
    this.m.clear();
    this.v.clear();
    for (const [key, arr] of Object.entries(state.tensors)) {
      const dot = key.indexOf('.');
      const kind = key.slice(0, dot);
      const name = key.slice(dot + 1);
      const target = kind === 'exp_avg' ? this.m : kind === 'exp_avg_sq' ? this.v : null;
      if (!target) throw new Error(`optimizer state tensor ${key} must start with exp_avg. or exp_avg_sq.`);
      const p = params[name];
      if (!p) throw new Error(`optimizer state has ${key}, but the model has no parameter ${name}`);
      if (arr.data.length !== p.data.length)
        throw new Error(`optimizer state ${key} has ${arr.data.length} values, the parameter ${p.data.length}`);
      target.set(name, Float32Array.from(arr.data));
    }
    this.t = state.step;
  }

  /** The moments with the parameters' shapes (for a checkpoint). */
  exportShaped(params: NamedArrays): OptimizerState {
    const s = this.exportState();
    for (const [key, arr] of Object.entries(s.tensors)) {
      const name = key.slice(key.indexOf('.') + 1);
      arr.shape = params[name]!.shape.slice();
    }
    return s;
  }
}

/** shadow <- (1 - rate) param + rate shadow over the trained parameters (TRM-SPEC §5.4). */
export class HostEma {
  readonly shadow: NamedArrays = {};

  constructor(
    params: NamedArrays,
    readonly rate: number,
  ) {
    for (const [k, t] of Object.entries(params)) this.shadow[k] = { shape: t.shape.slice(), data: t.data.slice() };
  }

  update(params: NamedArrays): void {
    const a = 1 - this.rate;
    const r = this.rate;
    for (const [k, s] of Object.entries(this.shadow)) {
      const p = params[k]?.data;
      if (!p) throw new Error(`EMA tracks ${k}, which is missing from the parameters given`);
      const d = s.data;
      for (let i = 0; i < d.length; i++) d[i] = p[i]! * a + d[i]! * r;
    }
  }

  importState(state: NamedArrays): void {
    for (const [k, arr] of Object.entries(state)) {
      const s = this.shadow[k];
      if (!s) throw new Error(`EMA state has ${k}, which this EMA does not track`);
      if (arr.data.length !== s.data.length)
        throw new Error(`EMA state ${k} must have shape [${s.shape.join(', ')}] (got [${arr.shape.join(', ')}])`);
      s.data.set(arr.data);
    }
  }
}
