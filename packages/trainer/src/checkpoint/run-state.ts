// The state of a training run besides its model folder, as the run exports it and train-state.* stores it: the
// JSON part (step, data cursor, RNG states, slot steps) and the arrays (live weights, EMA, moments, carry). Every
// training loop (tfjs, ONNX Runtime) produces and accepts exactly these.
import type { NamedArrays, RngState } from '@trm/core';
import type { HostBatch } from '../data/batch.js';
import type { SamplerCursor } from '../data/train-sampler.js';

/** Everything besides the weights that a resumed run needs, as JSON. */
export interface RunStateJson {
  step: number;
  sampler: SamplerCursor;
  exploreRng: RngState;
  slots: { steps: number[]; halted: number[] };
  optimizer: { name: string; step: number } | null;
  hasCarry: boolean;
  /** the dynamic loss scale of a float16 run */
  lossScale?: { scale: number; goodSteps: number };
}

/** The run's arrays: live (non-EMA) weights, EMA shadow, moments, carry state and data. */
export interface RunStateArrays {
  params: NamedArrays;
  ema: NamedArrays | null;
  optimizer: NamedArrays;
  carry: { zH: NamedArrays[string]; zL: NamedArrays[string]; data: HostBatch } | null;
}
