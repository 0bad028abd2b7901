// What every dense optimiser here offers the training loop: apply one update from named gradients at a given
// learning rate, and save/restore its whole state as plain float32 arrays (checkpoints, --resume).
import type * as tf from '@tensorflow/tfjs';
import type { OptimizerName } from '@trm/core';
import type { NamedArrays } from '../model/model.js';

export interface OptimizerState {
  name: OptimizerName;
  /** updates applied so far (the t of the bias corrections) */
  step: number;
  /** moment tensors named `exp_avg.<param>` and `exp_avg_sq.<param>` */
  tensors: NamedArrays;
}

export interface DenseOptimizer {
  readonly name: OptimizerName;
  readonly step: number;
  /** One update of every variable that has a gradient in `grads`, at learning rate `lr`. */
  apply(variables: ReadonlyMap<string, tf.Variable>, grads: Readonly<Record<string, tf.Tensor>>, lr: number): void;
  exportState(): Promise<OptimizerState>;
  importState(state: OptimizerState): void;
  dispose(): void;
}
