// ARC Prize submissions: building a complete submission from predictions, validating, reading and writing
// submission.json, loading solutions, and scoring.
export * from './build.js';
export * from './io.js';
export * from './score.js';
export * from './solutions.js';
export * from './types.js';
export * from './validate.js';
