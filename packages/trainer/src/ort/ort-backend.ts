// The trainer's choice between its two engines: TensorFlow.js backends (portable, the reference) and ONNX
// Runtime providers running the generated training graph. `auto` takes ONNX Runtime's CUDA provider when its
// libraries are installed next to onnxruntime-node (see the server's `cuda:install`), then the tfjs order.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { missingSharedLibraries } from '@trm/core';
import { BACKEND_NAMES, type BackendName } from '../backend/backend.js';
import type { OrtProvider } from './train-step.js';

export const ORT_BACKENDS = ['ort-cuda', 'ort-webgpu', 'ort-cpu'] as const;
export type OrtBackendName = (typeof ORT_BACKENDS)[number];
export type TrainBackendName = BackendName | OrtBackendName;
export const TRAIN_BACKEND_NAMES: readonly TrainBackendName[] = [...BACKEND_NAMES, ...ORT_BACKENDS];

export type TrainEngine = { kind: 'tfjs'; backend: BackendName } | { kind: 'ort'; provider: OrtProvider };

/** The libraries of ONNX Runtime's CUDA provider that must lie next to libonnxruntime.so.1. */
const CUDA_LIBRARIES = ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'];

/**
 * Missing CUDA provider libraries (empty when installed) and where they were looked for; when the provider is
 * there, the CUDA and cuDNN libraries it links that the dynamic loader would not find (asking ONNX Runtime to load
 * it without them prints a red error line before failing).
 */
export function cudaProviderMissing(): { dir: string; missing: string[] } {
  let dir: string;
  try {
    const require = createRequire(import.meta.url);
    const pkg = dirname(require.resolve('onnxruntime-node/package.json'));
    dir = join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return { dir: '(onnxruntime-node not found)', missing: CUDA_LIBRARIES };
  }
  const missing = CUDA_LIBRARIES.filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0) return { dir, missing };
  try {
    return { dir: 'the library path', missing: missingSharedLibraries(join(dir, CUDA_LIBRARIES[0]!)) };
  } catch {
    return { dir, missing: [] }; // not a readable ELF file: ONNX Runtime will say what is wrong with it
  }
}

/** Resolves --backend: an ort-* name, a tfjs name, or auto (ort-cuda when installed, else tfjs's auto order). */
export function chooseEngine(name: TrainBackendName, log: (line: string) => void): TrainEngine {
  if ((ORT_BACKENDS as readonly string[]).includes(name))
    return { kind: 'ort', provider: name.slice('ort-'.length) as OrtProvider };
  if (name === 'auto') {
    const cuda = cudaProviderMissing();
    if (cuda.missing.length === 0) return { kind: 'ort', provider: 'cuda' };
    log(`backend auto: not ort-cuda (${cuda.missing.join(', ')} missing in ${cuda.dir})`);
  }
  return { kind: 'tfjs', backend: name as BackendName };
}
