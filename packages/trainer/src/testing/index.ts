// Test support of @trm/trainer (`@trm/trainer/testing`), for tests and benchmarks, never for runtime code: the
// float64 reference of TRM that the model and its gradients are checked against, one supervision step with plain
// arrays in and out (parity checks from other packages), and small randomised models.
export * from './host-step.js';
export * from './random-model.js';
export * from './trm-reference.js';
