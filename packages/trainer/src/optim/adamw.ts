// AdamW as torch.optim.AdamW computes it (selectable instead of AdamATan2; the paper's text names AdamW):
//   p <- p (1 - lr wd);  m <- lerp(m, g, 1 - b1);  v <- b2 v + (1 - b2) g^2
//   p <- p - (lr / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps)
import * as tf from '@tensorflow/tfjs';
import { type AdamHyper, lerp } from './adam-atan2.js';
import { Moments } from './moments.js';
import type { DenseOptimizer, OptimizerState } from './optimizer.js';

export class AdamW implements DenseOptimizer {
  readonly name = 'adamw' as const;
  private readonly moments = new Moments();

  constructor(readonly hyper: AdamHyper & { eps?: number }) {}

  get step(): number {
    return this.moments.step;
  }

  apply(variables: ReadonlyMap<string, tf.Variable>, grads: Readonly<Record<string, tf.Tensor>>, lr: number): void {
    const { beta1, beta2, weightDecay } = this.hyper;
    const eps = this.hyper.eps ?? 1e-8;
    const t = ++this.moments.step;
    const stepSize = lr / (1 - beta1 ** t);
    const bc2Sqrt = Math.sqrt(1 - beta2 ** t);
    for (const [name, g] of Object.entries(grads)) {
      const p = variables.get(name);
      if (!p) throw new Error(`gradient for ${name}, which is not a variable of the model`);
      const { m, v } = this.moments.get(name, p);
      tf.tidy(() => {
        const m1 = lerp(m, g, 1 - beta1);
        const v1 = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2));
        const denom = tf.add(tf.div(tf.sqrt(v1), bc2Sqrt), eps);
        p.assign(tf.sub(tf.mul(p, 1 - lr * weightDecay), tf.mul(tf.div(m1, denom), stepSize)));
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
