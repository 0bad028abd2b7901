// The ARC Prize submission format: for every task, one entry per test input, in order, each holding two
// attempted output grids. Solutions map each task to its test outputs in the same order.
import type { Grid } from '../tasks/grid.js';

export interface ArcAttempts {
  attempt_1: Grid;
  attempt_2: Grid;
}

/** `submission.json`: task id -> one ArcAttempts per test input, in test order. */
export type ArcSubmission = Record<string, ArcAttempts[]>;

/** Task id -> the expected output grid of each test input, in test order (the Kaggle solutions layout). */
export type ArcSolutions = Record<string, Grid[]>;

/** Task id -> number of test inputs: what a complete submission must cover. */
export type ArcTestCounts = Record<string, number>;
