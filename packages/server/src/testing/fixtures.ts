// Puzzles with known answers for the HTTP tests, in the numeric form of the API, and the engines that serve them.
import { generateMaze, mazeToCells, parseMazeString, parseSudokuString, Rng } from '@trm/core';
import type { Grid } from '@trm/core';

export const SUDOKU_PUZZLE: Grid = parseSudokuString(
  '43.9.......1.8..43......5...8.......3...2..84......6...4..3..122..1.7...1......5.',
);
export const SUDOKU_SOLUTION: Grid = parseSudokuString(
  '438952167951786243762314598689471325317625984524893671846539712295147836173268459',
);

const maze = generateMaze(new Rng(5), { minPathLength: 30 });
/** a 30x30 maze of cell codes 1..5, and the same maze with its canonical shortest path marked 5 */
export const MAZE_PUZZLE: Grid = mazeToCells(parseMazeString(maze.question));
export const MAZE_SOLUTION: Grid = mazeToCells(parseMazeString(maze.answer));

export const ARC_PUZZLE: Grid = [
  [0, 1, 2],
  [3, 4, 5],
];
