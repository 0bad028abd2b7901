export * from './types.js';
export * from './schema.js';
export * from './validate.js';
export * from './derived.js';
export * from './rope.js';
export * from './presets.js';
