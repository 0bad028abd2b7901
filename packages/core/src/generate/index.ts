// Puzzle generators (sudoku with a givens knob, Maze-Hard-style mazes, simple synthetic ARC tasks), their solvers,
// the CSV and task-folder writers, and the `generate` command.
export * from './arc-families.js';
export * from './arc-folder.js';
export * from './arc-simple.js';
export * from './command.js';
export * from './csv.js';
export * from './maze.js';
export * from './maze-path.js';
export * from './sudoku.js';
export * from './sudoku-solver.js';
