// The names of what runs a TRM model, defined once for every package: ONNX Runtime's execution providers (the
// server's --ep, the trainer's ort-* backends) and the trainer's --backend choices, which the server's solve-arc
// hands on to `adapt` (--adapt-backend) without importing the trainer. What each one does, and how `auto` picks, is
// the business of the module that runs it (the server's engine/providers.ts, the trainer's backend choice).

/** ONNX Runtime's execution providers that the server and the trainer run on, in the order `auto` tries them. */
export const EXECUTION_PROVIDERS = ['cuda', 'webgpu', 'cpu'] as const;
export type ExecutionProviderName = (typeof EXECUTION_PROVIDERS)[number];

/** The trainer's TensorFlow.js backends; `auto` takes the fastest one that works here. */
export const TFJS_BACKENDS = ['auto', 'cpu', 'wasm', 'webgpu', 'tensorflow'] as const;
export type TfjsBackendName = (typeof TFJS_BACKENDS)[number];

/** The trainer's ONNX Runtime backends: its generated graphs on one execution provider. */
export type OrtBackendName = `ort-${ExecutionProviderName}`;
export const ORT_BACKENDS: readonly OrtBackendName[] = EXECUTION_PROVIDERS.map((ep) => `ort-${ep}` as const);

/** The trainer's --backend choices (train, eval, adapt). */
export type TrainBackendName = TfjsBackendName | OrtBackendName;
export const TRAIN_BACKENDS: readonly TrainBackendName[] = [...TFJS_BACKENDS, ...ORT_BACKENDS];
