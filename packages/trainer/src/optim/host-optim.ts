// The dense optimisers and the EMA on float32 arrays in host memory, for the ONNX Runtime backend: its gradients
// arrive in host memory (onnxruntime-node returns CUDA outputs there), so the weights are updated where they
// already are. Same formulas and saved state (exp_avg.<param>, exp_avg_sq.<param>, step; the EMA shadow by
// parameter name) as the tfjs optimisers (adam-atan2.ts, adamw.ts, ema.ts), so a checkpoint moves between the
// backends. Parameters, moments and shadow live in one flat shared buffer each; with threads > 1 the update of a
// step is split by ranges over worker threads (the update of 5M parameters with atan2 takes ~250 ms on one core).
import { Worker } from 'node:worker_threads';
import type { OptimizerName } from '@trm/core';
import type { NamedArrays } from '../model/model.js';
import type { AdamHyper } from './adam-atan2.js';
import type { OptimizerState } from './optimizer.js';

/** Scalars of one update, the same for every element. */
export interface UpdateScalars {
  /** 0: AdamATan2, 1: AdamW */
  kind: number;
  lr: number;
  wdAlpha: number;
  a1: number;
  a2: number;
  beta2: number;
  bc1Reciprocal: number;
  bc2Sqrt: number;
  stepSize: number;
  eps: number;
  /** EMA rate, or -1 for no EMA */
  emaRate: number;
}

/**
 * The update of elements [from, to): the optimiser (AdamATan2 as the adam-atan2 kernel, or AdamW), then the EMA.
 * Self-contained (no references outside its body): worker threads run its source text.
 */
function updateRange(
  p: Float32Array,
  m: Float32Array,
  v: Float32Array,
  g: Float32Array,
  e: Float32Array,
  from: number,
  to: number,
  s: UpdateScalars,
): void {
  const emaA = 1 - s.emaRate;
  for (let i = from; i < to; i++) {
    const gi = g[i];
    const mi = m[i] - m[i] * s.a1 + gi * s.a1;
    m[i] = mi;
    let pi: number;
    if (s.kind === 0) {
      const vi = v[i] - v[i] * s.a2 + gi * gi * s.a2;
      v[i] = vi;
      pi = p[i] * s.wdAlpha - s.lr * Math.atan2(mi * s.bc1Reciprocal, Math.sqrt(vi) / s.bc2Sqrt);
    } else {
      const vi = v[i] * s.beta2 + gi * gi * s.a2;
      v[i] = vi;
      pi = p[i] * s.wdAlpha - (mi / (Math.sqrt(vi) / s.bc2Sqrt + s.eps)) * s.stepSize;
    }
    p[i] = pi;
    if (s.emaRate >= 0) e[i] = Math.fround(pi) * emaA + e[i] * s.emaRate;
  }
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const updateRange = ${updateRange.toString()};
const [p, m, v, g, e] = workerData.buffers.map((b) => new Float32Array(b));
parentPort.on('message', ({ from, to, scalars }) => {
  updateRange(p, m, v, g, e, from, to, scalars);
  parentPort.postMessage(0);
});
`;

export interface HostOptimizerOptions {
  /** null: parameters are not updated (test-time adaptation trains only puzzle rows) */
  optimizer: OptimizerName | null;
  hyper: AdamHyper & { eps?: number };
  /** EMA rate (0.999), or null for no EMA */
  emaRate: number | null;
  /** worker threads for the update (1 = on the calling thread) */
  threads?: number;
  /**
   * Runs the update elsewhere (the optimiser graph on the training device, ort/optimizer-update.ts) instead of on
   * the host: it reads p, m, v, g, e and writes the new p, m, v, e into them. The arrays are then plain (not
   * shared) and no worker thread is started.
   */
  device?: DeviceUpdate;
  /**
   * The state in plain arrays that something else updates (the training graph of several steps per run reads and
   * writes them through `flatState` and `updated`); no worker thread is started.
   */
  external?: boolean;
}

/** The flat state of every parameter, one array each: parameters, moments, gradients, EMA shadow. */
export interface FlatState {
  p: Float32Array;
  m: Float32Array;
  v: Float32Array;
  g: Float32Array;
  e: Float32Array;
}

export interface DeviceUpdate {
  run(state: FlatState, scalars: UpdateScalars): Promise<void>;
  release(): Promise<void>;
}

export class HostOptimizer {
  /**
   * The live parameters (feed them to the graph): views into a plain buffer that mirrors the shared one after each
   * update, since onnxruntime-node takes no SharedArrayBuffer-backed input. With a device update the state is plain
   * already, and the views are into it.
   */
  readonly params: NamedArrays = {};
  private readonly mirror: Float32Array;
  private readonly flat: FlatState;
  private readonly offsets = new Map<string, number>();
  private readonly workers: Worker[] = [];
  private t = 0;

  constructor(
    initial: NamedArrays,
    readonly o: HostOptimizerOptions,
  ) {
    let total = 0;
    for (const [name, t] of Object.entries(initial)) {
      this.offsets.set(name, total);
      total += t.data.length;
    }
    const plain = o.device !== undefined || o.external === true;
    const shared = () => (plain ? new Float32Array(total) : new Float32Array(new SharedArrayBuffer(4 * total)));
    this.flat = { p: shared(), m: shared(), v: shared(), g: shared(), e: shared() };
    this.mirror = plain ? this.flat.p : new Float32Array(total);
    for (const [name, t] of Object.entries(initial)) {
      const at = this.offsets.get(name)!;
      this.flat.p.set(t.data, at);
      this.params[name] = { shape: t.shape.slice(), data: this.mirror.subarray(at, at + t.data.length) };
    }
    this.syncMirror();
    this.flat.e.set(this.flat.p);
    const threads = o.optimizer && !plain ? (o.threads ?? 1) : 1;
    const buffers = [this.flat.p, this.flat.m, this.flat.v, this.flat.g, this.flat.e].map((a) => a.buffer);
    for (let i = 1; i < threads; i++) {
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { buffers } });
      w.unref();
      this.workers.push(w);
    }
  }

  /** Copies the shared parameters into the plain buffer the graph reads (nothing to do when they are one). */
  private syncMirror(): void {
    if (this.mirror !== this.flat.p) this.mirror.set(this.flat.p);
  }

  get step(): number {
    return this.t;
  }

  /** The flat arrays, for an `external` optimiser to read and write (parameters in the order of `params`). */
  flatState(): FlatState {
    if (!this.o.external) throw new Error('flatState is for an optimiser updated externally');
    return this.flat;
  }

  /** Records `n` updates applied externally (their bias corrections count them). */
  updated(n: number): void {
    if (!this.o.external) throw new Error('updated is for an optimiser updated externally');
    this.t += n;
  }

  /** A copy of the EMA shadow by parameter name, or null without EMA. */
  get shadow(): NamedArrays | null {
    if (this.o.emaRate === null) return null;
    const out: NamedArrays = {};
    for (const [name, t] of Object.entries(this.params)) {
      const at = this.offsets.get(name)!;
      out[name] = { shape: t.shape.slice(), data: this.flat.e.slice(at, at + t.data.length) };
    }
    return out;
  }

  get name(): OptimizerName | null {
    return this.o.optimizer;
  }

  /** One update from the gradients of every parameter (then the EMA), at learning rate `lr`. */
  async apply(grads: Readonly<Record<string, Float32Array>>, lr: number): Promise<void> {
    const kind = this.o.optimizer;
    if (!kind) return;
    for (const [name, gr] of Object.entries(grads)) {
      const at = this.offsets.get(name);
      if (at === undefined) throw new Error(`gradient for ${name}, which is not a parameter`);
      if (gr.length !== this.params[name]!.data.length)
        throw new Error(`gradient of ${name} has ${gr.length} values, the parameter ${this.params[name]!.data.length}`);
      this.flat.g.set(gr, at);
    }
    if (Object.keys(grads).length !== this.offsets.size)
      throw new Error(`gradients for ${Object.keys(grads).length} of ${this.offsets.size} parameters`);
    const { beta1, beta2, weightDecay } = this.o.hyper;
    const t = ++this.t;
    const s: UpdateScalars = {
      kind: kind === 'adam_atan2' ? 0 : 1,
      lr,
      wdAlpha: 1 - lr * weightDecay,
      a1: 1 - beta1,
      a2: 1 - beta2,
      beta2,
      bc1Reciprocal: 1 / (1 - beta1 ** t),
      bc2Sqrt: Math.sqrt(1 - beta2 ** t),
      stepSize: lr / (1 - beta1 ** t),
      eps: this.o.hyper.eps ?? 1e-8,
      emaRate: this.o.emaRate ?? -1,
    };
    if (this.o.device) {
      await this.o.device.run(this.flat, s);
      this.syncMirror();
      return;
    }
    const n = this.flat.p.length;
    const parts = this.workers.length + 1;
    const bound = (i: number) => Math.floor((n * i) / parts);
    const done = this.workers.map(
      (w, i) =>
        new Promise<void>((resolve, reject) => {
          // One listener pair per update, both removed whichever fires (no listeners pile up over the steps).
          const onError = (e: Error) => {
            w.off('message', onMessage);
            reject(e);
          };
          const onMessage = () => {
            w.off('error', onError);
            resolve();
          };
          w.once('message', onMessage);
          w.once('error', onError);
          w.postMessage({ from: bound(i + 1), to: bound(i + 2), scalars: s });
        }),
    );
    const { p, m, v, g, e } = this.flat;
    updateRange(p, m, v, g, e, 0, bound(1), s);
    await Promise.all(done);
    this.syncMirror();
  }

  /** The moments by exp_avg.<param> / exp_avg_sq.<param> with the parameters' shapes (a checkpoint's layout). */
  exportState(): OptimizerState | null {
    if (!this.o.optimizer) return null;
    const tensors: NamedArrays = {};
    for (const [name, t] of Object.entries(this.params)) {
      const at = this.offsets.get(name)!;
      const len = t.data.length;
      tensors[`exp_avg.${name}`] = { shape: t.shape.slice(), data: this.flat.m.slice(at, at + len) };
      tensors[`exp_avg_sq.${name}`] = { shape: t.shape.slice(), data: this.flat.v.slice(at, at + len) };
    }
    return { name: this.o.optimizer, step: this.t, tensors };
  }

  /** Restores moments saved by either backend. */
  importState(state: OptimizerState): void {
    if (state.name !== this.o.optimizer)
      throw new Error(`optimizer state is for ${state.name}, expected ${this.o.optimizer}`);
    if (!Number.isInteger(state.step) || state.step < 0)
      throw new Error(`optimizer state step must be a non-negative integer (got ${state.step})`);
    this.flat.m.fill(0);
    this.flat.v.fill(0);
    for (const [key, arr] of Object.entries(state.tensors)) {
      const dot = key.indexOf('.');
      const kind = key.slice(0, dot);
      const name = key.slice(dot + 1);
      const target = kind === 'exp_avg' ? this.flat.m : kind === 'exp_avg_sq' ? this.flat.v : null;
      if (!target) throw new Error(`optimizer state tensor ${key} must start with exp_avg. or exp_avg_sq.`);
      const at = this.offsets.get(name);
      if (at === undefined) throw new Error(`optimizer state has ${key}, but the model has no parameter ${name}`);
      if (arr.data.length !== this.params[name]!.data.length)
        throw new Error(
          `optimizer state ${key} has ${arr.data.length} values, the parameter ${this.params[name]!.data.length}`,
        );
      target.set(arr.data, at);
    }
    this.t = state.step;
  }

  /** Sets the live parameters (and, when given, the EMA shadow) from saved arrays. */
  importParams(params: NamedArrays, shadow: NamedArrays | null): void {
    const put = (target: Float32Array, from: NamedArrays, what: string) => {
      for (const [name, arr] of Object.entries(from)) {
        const at = this.offsets.get(name);
        if (at === undefined) throw new Error(`the saved ${what} has ${name}, which this model does not have`);
        const len = this.params[name]!.data.length;
        if (arr.data.length !== len)
          throw new Error(`the saved ${what} ${name} has ${arr.data.length} values, the model ${len}`);
        target.set(arr.data, at);
      }
    };
    put(this.flat.p, params, 'parameter');
    this.syncMirror();
    if (shadow) put(this.flat.e, shadow, 'EMA shadow');
  }

  async dispose(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.workers.length = 0;
    await this.o.device?.release();
  }
}
