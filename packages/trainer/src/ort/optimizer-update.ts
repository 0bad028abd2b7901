// The optimiser update on the training graph's device: the optimiser graph of @trm/graph (AdamATan2 or AdamW, then
// the EMA) in an ONNX Runtime session of the same provider, over the flat state of the host optimiser. With
// onnxruntime-node the state crosses to the device and back every step (CUDA outputs come back to host memory), so
// this is worth it only where the device's arithmetic saves more than the transfers cost: `ort-train-speed
// --optimizer-on host,device` measures both.
import type { OptimizerName } from '@trm/core';
import {
  buildOptimizerGraph,
  OPTIMIZER_OUTPUTS,
  OPTIMIZER_SCALARS,
  OPTIMIZER_STATE,
  type OptimizerScalarName,
} from '@trm/graph';
import * as ort from 'onnxruntime-node';
import type { DeviceUpdate, FlatState, UpdateScalars } from '../optim/host-optim.js';
import { type OrtStepOptions, sessionOptions } from './train-step.js';

export type OptimizerPlace = 'host' | 'device';
export const OPTIMIZER_PLACES: readonly OptimizerPlace[] = ['host', 'device'];

/** Opens the update graph of `optimizer` (with the EMA when `ema`) on the provider of `o`. */
export async function deviceUpdate(optimizer: OptimizerName, ema: boolean, o: OrtStepOptions): Promise<DeviceUpdate> {
  const session = await ort.InferenceSession.create(buildOptimizerGraph(optimizer, ema), sessionOptions(o));
  const wanted = new Set(session.inputNames);
  return {
    async run(state: FlatState, s: UpdateScalars) {
      const n = state.p.length;
      const feeds: Record<string, ort.Tensor> = {};
      const vec = (name: string, data: Float32Array) => {
        feeds[name] = new ort.Tensor('float32', data, [n]);
      };
      vec(OPTIMIZER_STATE.p, state.p);
      vec(OPTIMIZER_STATE.m, state.m);
      vec(OPTIMIZER_STATE.v, state.v);
      vec(OPTIMIZER_STATE.g, state.g);
      if (ema) vec(OPTIMIZER_STATE.e, state.e);
      for (const name of OPTIMIZER_SCALARS)
        if (wanted.has(name))
          feeds[name] = new ort.Tensor('float32', Float32Array.of(s[name as OptimizerScalarName]), []);
      const out = await session.run(feeds);
      state.p.set(out[OPTIMIZER_OUTPUTS.p]!.data as Float32Array);
      state.m.set(out[OPTIMIZER_OUTPUTS.m]!.data as Float32Array);
      state.v.set(out[OPTIMIZER_OUTPUTS.v]!.data as Float32Array);
      if (ema) state.e.set(out[OPTIMIZER_OUTPUTS.e]!.data as Float32Array);
    },
    release: () => session.release(),
  };
}
