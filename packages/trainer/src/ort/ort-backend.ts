// The trainer's choice between its two engines: TensorFlow.js backends (portable, the reference) and ONNX
// Runtime providers running the generated training graph. `auto` takes ONNX Runtime's CUDA provider when its
// libraries are installed next to onnxruntime-node (see the server's `cuda:install`), then the tfjs order.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import {
  cudaProviderStatus,
  cudaUnavailable,
  ORT_BACKENDS,
  onnxruntimeBinDir,
  TRAIN_BACKENDS,
  type TrainBackendName,
} from '@trm/core';
import type { BackendName } from '../backend/backend.js';
import type { OrtProvider } from './train-step.js';

export type { TrainBackendName };
/** --backend of train, eval and adapt: core's list, the TensorFlow.js backends and then the ONNX Runtime ones. */
export const TRAIN_BACKEND_NAMES: readonly TrainBackendName[] = TRAIN_BACKENDS;

export type TrainEngine = { kind: 'tfjs'; backend: BackendName } | { kind: 'ort'; provider: OrtProvider };

/** Why ONNX Runtime's CUDA provider cannot load here (core's file check), or null when it may. */
export function cudaProviderUnavailable(): string | null {
  let packageDir: string;
  try {
    packageDir = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  } catch {
    return 'onnxruntime-node is not installed';
  }
  return cudaUnavailable(cudaProviderStatus(onnxruntimeBinDir(packageDir)));
}

/** Resolves --backend: an ort-* name, a tfjs name, or auto (ort-cuda when installed, else tfjs's auto order). */
export function chooseEngine(name: TrainBackendName, log: (line: string) => void): TrainEngine {
  if ((ORT_BACKENDS as readonly string[]).includes(name))
    return { kind: 'ort', provider: name.slice('ort-'.length) as OrtProvider };
  if (name === 'auto') {
    const why = cudaProviderUnavailable();
    if (!why) return { kind: 'ort', provider: 'cuda' };
    log(`backend auto: not ort-cuda (${why})`);
  }
  return { kind: 'tfjs', backend: name as BackendName };
}
