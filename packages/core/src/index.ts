// Public surface of @trm/core.
export * from './augment/arc.js';
export * from './augment/colour.js';
export * from './augment/dihedral.js';
export * from './augment/sudoku.js';
export * from './augment/translate.js';
export * from './check/arc.js';
export * from './check/sudoku.js';
export * from './config/index.js';
export * from './safetensors/index.js';
export * from './tasks/arc.js';
export * from './tasks/grid.js';
export * from './tasks/maze.js';
export * from './tasks/sudoku.js';
export * from './tasks/vocab.js';
export * from './util/progress.js';
export * from './util/random.js';
