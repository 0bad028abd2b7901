// Puzzle generators (sudoku with a givens knob, Maze-Hard-style mazes), their solvers, and the CSV writer.
export * from './csv.js';
export * from './maze.js';
export * from './maze-path.js';
export * from './sudoku.js';
export * from './sudoku-solver.js';
