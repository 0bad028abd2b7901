// Public surface of @trm/exporter: the ONNX step graph of a TRM model (build, write, read its metadata), random
// weights for tests and speed runs, one step on ONNX Runtime, and official checkpoints in. Test support (the
// plain reference loop) is `@trm/exporter/testing`.
export * from './export/export-model.js';
export * from './export/random-weights.js';
export * from '@trm/graph';
export * from './runtime/ort-step.js';
export * from './official/index.js';
