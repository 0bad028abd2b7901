// Public surface of @trm/exporter: the ONNX step graph of a TRM model (build, write, read its metadata), random
// weights for tests and speed runs, the plain reference loop on ONNX Runtime, and official checkpoints in.
export * from './export/export-model.js';
export * from './export/random-weights.js';
export * from './graph/op-choice.js';
export * from './graph/step-graph.js';
export { decodeModel, readModelMetadata } from './onnx/onnx-proto.js';
export * from './runtime/ort-step.js';
export * from './runtime/reference-loop.js';
export * from './official/index.js';
