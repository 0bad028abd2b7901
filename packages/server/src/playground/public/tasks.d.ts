// Types of tasks.js for the Node tests (the browser loads the .js as it is).
export type TaskName = 'sudoku' | 'maze' | 'arc';
export type Grid = number[][];

export interface TaskSpec {
  readonly label: string;
  readonly rows: number;
  readonly cols: number;
  readonly resizable: boolean;
  readonly blank: number;
  readonly min: number;
  readonly max: number;
  readonly maxSide?: number;
}

export declare const MAZE_CELL: Readonly<{ WALL: 1; OPEN: 2; START: 3; GOAL: 4; PATH: 5 }>;
export declare const MAZE_CHARS: string;
export declare const ARC_COLOURS: readonly string[];
export declare const ARC_COLOUR_NAMES: readonly string[];
export declare const TASKS: Readonly<Record<TaskName, TaskSpec>>;

export declare class GridTextError extends Error {}

export declare function emptyGrid(task: TaskName, rows?: number, cols?: number): Grid;
export declare function copyGrid(grid: Grid): Grid;
export declare function parseGridText(task: TaskName, text: string): Grid;
export declare function checkGrid(task: TaskName, grid: Grid): void;
export declare function formatGridText(task: TaskName, grid: Grid): string;
export declare function changedCells(previous: Grid | null, next: Grid): number[];
