// AdamATan2 as the reference's CUDA kernel computes it (adam-atan2, csrc/adam_atan2.cu; TRM-SPEC §5.2): the step
// counter is incremented first, then per element
//   p <- p (1 - lr wd);  m <- lerp(m, g, 1 - b1);  v <- lerp(v, g^2, 1 - b2)
//   p <- p - lr atan2(m / (1 - b1^t), sqrt(v) / sqrt(1 - b2^t))
// No epsilon: atan2 bounds each update by lr pi/2. Weight decay is decoupled and applies to every parameter.
import * as tf from '@tensorflow/tfjs';
import { Moments } from './moments.js';
import type { DenseOptimizer, OptimizerState } from './optimizer.js';

export interface AdamHyper {
  beta1: number;
  beta2: number;
  weightDecay: number;
}

/** lerp(a, b, t) written as the kernel's fma(t, b, fma(-t, a, a)): (a - t a) + t b. */
export function lerp(a: tf.Tensor, b: tf.Tensor, t: number): tf.Tensor {
  return tf.add(tf.sub(a, tf.mul(a, t)), tf.mul(b, t));
}

export class AdamAtan2 implements DenseOptimizer {
  readonly name = 'adam_atan2' as const;
  private readonly moments = new Moments();

  constructor(readonly hyper: AdamHyper) {}

  get step(): number {
    return this.moments.step;
  }

  apply(variables: ReadonlyMap<string, tf.Variable>, grads: Readonly<Record<string, tf.Tensor>>, lr: number): void {
    const { beta1, beta2, weightDecay } = this.hyper;
    const t = ++this.moments.step;
    // Scalars in double precision as the kernel's host code, then used in float32.
    const bc1Reciprocal = 1 / (1 - beta1 ** t);
    const bc2Sqrt = Math.sqrt(1 - beta2 ** t);
    const wdAlpha = 1 - lr * weightDecay;
    for (const [name, g] of Object.entries(grads)) {
      const p = variables.get(name);
      if (!p) throw new Error(`gradient for ${name}, which is not a variable of the model`);
      const { m, v } = this.moments.get(name, p);
      tf.tidy(() => {
        const m1 = lerp(m, g, 1 - beta1);
        const v1 = lerp(v, tf.square(g), 1 - beta2);
        const update = tf.atan2(tf.mul(m1, bc1Reciprocal), tf.div(tf.sqrt(v1), bc2Sqrt));
        p.assign(tf.sub(tf.mul(p, wdAlpha), tf.mul(update, lr)));
        m.assign(m1);
        v.assign(v1);
      });
    }
  }

  exportState(): Promise<OptimizerState> {
    return this.moments.export(this.name);
  }

  importState(state: OptimizerState): void {
    this.moments.import(this.name, state);
  }

  dispose(): void {
    this.moments.dispose();
  }
}
