// Test support of @trm/exporter (`@trm/exporter/testing`), for tests and benchmarks, never for runtime code: the
// plain supervision loop on ONNX Runtime that the server's batching engine is checked against.
export * from './reference-loop.js';
