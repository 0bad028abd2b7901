// Public surface of @trm/core.
export * from './config/index.js';
export * from './tasks/vocab.js';
export * from './util/progress.js';
export * from './util/random.js';
