// Datasets in the reference on-disk format: writing (atomic, streamed), reading with checks, and the builders.
export * from './build.js';
export * from './build-arc.js';
export * from './build-csv.js';
export * from './build-maze.js';
export * from './build-sudoku.js';
export * from './csv.js';
export * from './layout.js';
export * from './metadata.js';
export * from './reader.js';
export * from './split-writer.js';
export * from './writer.js';
export * from './build-args.js';
