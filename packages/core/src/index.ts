// Public surface of @trm/core.
export * from './config/index.js';
export * from './tasks/vocab.js';
