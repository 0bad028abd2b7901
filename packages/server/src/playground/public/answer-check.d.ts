// Types of answer-check.js for the Node tests (the browser loads the .js as it is).
import type { Grid, TaskName } from './tasks.js';

export interface Verdict {
  solved: boolean;
  text: string;
}

export declare function checkAnswer(task: TaskName, puzzle: Grid, answer: Grid): Verdict | null;
export declare function checkSudoku(puzzle: Grid, answer: Grid): Verdict;
export declare function checkMaze(puzzle: Grid, answer: Grid): Verdict;
