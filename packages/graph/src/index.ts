// Public surface of @trm/graph: ONNX graphs written by this project (the builder and protobuf messages, the
// step-graph contract, the TRM step graph), reverse-mode autodiff over the builder, and the training graph.
export * from './contract.js';
export * from './onnx/graph-builder.js';
export * from './onnx/onnx-proto.js';
export * from './step/op-choice.js';
export * from './step/step-graph.js';
export * from './step/unroll.js';
export * from './autodiff/differentiate.js';
export type { GradientOptions, GradientRule, RuleContext } from './autodiff/gradients.js';
export * from './autodiff/shapes.js';
export * from './train/train-graph.js';
export * from './train/optimizer-graph.js';
export * from './train/multi-step-graph.js';
export * from './onnx/inline.js';
