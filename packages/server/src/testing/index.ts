// Test support of @trm/server (`@trm/server/testing`), for tests and benchmarks, never for runtime code: the fake
// engine behind the HTTP layer, the fake step function behind the batcher and the workers (also a step module a
// worker can load), a raw HTTP client with a server-sent-events parser, and puzzles with known answers.
export * from './client.js';
export * from './fake-engine.js';
export * from './fake-step.js';
export * from './fixtures.js';
