// Exponential moving average of the trained parameters (the reference's EMAHelper, TRM-SPEC §5.4):
// shadow <- (1 - rate) param + rate shadow after every optimiser step, over the trained parameters only (not
// H_init/L_init, not the puzzle table). Evaluation and the checkpoint use the shadow in place of the parameters.
import * as tf from '@tensorflow/tfjs';
import type { NamedArrays } from '../model/model.js';
import type { ParamSet } from '../model/net.js';

export class Ema {
  private readonly shadow = new Map<string, tf.Variable>();

  /** Starts the shadow as a copy of `params` (names of the trained parameters only). */
  constructor(
    params: ReadonlyMap<string, tf.Tensor> | ParamSet,
    readonly rate: number,
  ) {
    const entries = params instanceof Map ? [...params.entries()] : Object.entries(params);
    for (const [name, p] of entries) this.shadow.set(name, tf.variable(p, false));
  }

  update(params: ReadonlyMap<string, tf.Tensor>): void {
    for (const [name, s] of this.shadow) {
      const p = params.get(name);
      if (!p) throw new Error(`EMA tracks ${name}, which is missing from the parameters given`);
      tf.tidy(() => s.assign(tf.add(tf.mul(p, 1 - this.rate), tf.mul(s, this.rate))));
    }
  }

  /** The shadow tensors by parameter name (use with TrmModel.withParams to evaluate the EMA model). */
  params(): ParamSet {
    return Object.fromEntries(this.shadow);
  }

  async exportState(): Promise<NamedArrays> {
    const out: NamedArrays = {};
    for (const [k, t] of this.shadow) out[k] = { shape: t.shape.slice(), data: (await t.data()) as Float32Array };
    return out;
  }

  importState(state: NamedArrays): void {
    for (const [k, arr] of Object.entries(state)) {
      const s = this.shadow.get(k);
      if (!s) throw new Error(`EMA state has ${k}, which this EMA does not track`);
      if (arr.shape.length !== s.shape.length || arr.shape.some((d, i) => d !== s.shape[i]))
        throw new Error(`EMA state ${k} must have shape [${s.shape.join(', ')}] (got [${arr.shape.join(', ')}])`);
      const t = tf.tensor(arr.data, arr.shape, 'float32');
      s.assign(t);
      t.dispose();
    }
  }

  dispose(): void {
    for (const t of this.shadow.values()) t.dispose();
    this.shadow.clear();
  }
}
