// Random weights for any config, for tests and speed benchmarks of graphs that need no trained model. Linear
// weights are normal with std gain/sqrt(fan_in) (the reference's scale, times `gain`), H_init/L_init hold bfloat16
// values as in the reference, and the q_head and puzzle table are random so that they matter in comparisons.
import { bf16ToF32, checkpointTensors, f32ToBf16, type ModelConfig, type NamedArrays, Rng } from '@trm/core';

export interface RandomWeightOptions {
  seed?: number;
  /**
   * Multiplies the shared network's weights. At the reference's scale the recursion amplifies float32 rounding
   * (mlp_t about 5x per supervision step), so comparisons over 16 steps use 0.5.
   */
  gain?: number;
  /** puzzle-table rows to create (default: config.num_puzzle_identifiers) */
  puzzleRows?: number;
}

export function randomWeights(config: ModelConfig, options: RandomWeightOptions = {}): NamedArrays {
  const rng = new Rng(options.seed ?? 0);
  const gain = options.gain ?? 1;
  const out: NamedArrays = {};
  for (const spec of checkpointTensors(config)) {
    const shape =
      spec.name === 'puzzle_emb.weights' && options.puzzleRows !== undefined
        ? [options.puzzleRows, spec.shape[1]!]
        : spec.shape;
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const fanIn = shape.at(-1)!;
    let std = 1 / Math.sqrt(fanIn);
    if (spec.name.startsWith('L_level.')) std *= gain;
    if (spec.name === 'H_init' || spec.name === 'L_init' || spec.name === 'puzzle_emb.weights') std = 1;
    if (spec.name === 'q_head.bias') std = 0.5;
    for (let i = 0; i < n; i++) data[i] = rng.normal() * std;
    out[spec.name] = { shape, data: spec.dtype === 'bfloat16' ? bf16ToF32(f32ToBf16(data)) : data };
  }
  return out;
}
