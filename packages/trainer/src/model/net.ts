// What a forward pass needs: the model config, the parameter tensors by reference name, and the constant tables.
// TrmModel (params.ts) is one; tests and EMA evaluation build others with different parameter tensors.
import type * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '@trm/core';

/** Tensors keyed by the reference's checkpoint names (`L_level.layers.0.mlp.down_proj.weight`, ...). */
export type ParamSet = Readonly<Record<string, tf.Tensor>>;

export interface TrmNet {
  readonly config: ModelConfig;
  readonly params: ParamSet;
  /** Puzzle-prefix length P (0 without a puzzle embedding). */
  readonly prefixLen: number;
  /** RoPE cos/sin, each [L, head_dim]; null unless pos_encodings = 'rope'. */
  readonly rope: { cos: tf.Tensor2D; sin: tf.Tensor2D } | null;
}

/** The tensor `name` of a net; a missing name is a programming error worth a clear message. */
export function param(net: TrmNet, name: string): tf.Tensor {
  const t = net.params[name];
  if (!t) throw new Error(`parameter ${name} is missing from the net (has ${Object.keys(net.params).length} tensors)`);
  return t;
}
