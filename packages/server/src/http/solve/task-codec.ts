// Per task, how a request grid becomes model tokens, how the model's tokens become an answer grid in the same
// numeric form, and how an answer is held to the task's rules (sudoku givens written back, then rows, columns and
// boxes; maze walls, S, G and the path), all with the codecs and rule checks of @trm/core (one source of truth).
import {
  ARC_RULE_CHECK,
  arcCanvasSide,
  arcGridFits,
  checkMazeRules,
  checkSudokuRules,
  decodeArc,
  decodeMaze,
  decodeSudoku,
  encodeArc,
  encodeMaze,
  encodeSudoku,
  type Grid,
  GridError,
  mazeFromCells,
  mazeToCells,
  restoreSudokuGivens,
  type RuleCheck,
  type TaskName,
  validateArcGrid,
  validateSudokuGrid,
} from '@trm/core';
import { HttpError } from '../http-error.js';

/** A model's answer as the client gets it, and what the task's rules say about it. */
export interface SettledAnswer {
  /** the decoded answer; sudoku: with every given of the puzzle written back */
  answer: Grid;
  /** sudoku only: the givens the model had changed (or left blank), now written back */
  givensRestored?: number;
  check: RuleCheck;
}

export interface TaskCodec {
  /** validates an untrusted grid (errors name `grid[r][c]`) and encodes it for a model of `seqLen` tokens */
  encode(grid: unknown, seqLen: number): Uint8Array;
  decode(tokens: Uint8Array): Grid;
  /** false where every check says `valid: null` (ARC): no answer can be refused, so no step is spent waiting */
  hasRules: boolean;
  /** the answer tokens of a puzzle (`question`: its encoded request) decoded and held to the task's rules */
  settle(question: Uint8Array, answer: Uint8Array): SettledAnswer;
}

export const TASK_CODECS: Record<TaskName, TaskCodec> = {
  sudoku: {
    encode: (grid) => encodeSudoku(validateSudokuGrid(grid, 'grid')),
    decode: (tokens) => decodeSudoku(tokens),
    hasRules: true,
    settle: (question, answer) => {
      const { grid, restored } = restoreSudokuGivens(decodeSudoku(question), decodeSudoku(answer));
      return { answer: grid, givensRestored: restored, check: checkSudokuRules(grid) };
    },
  },
  maze: {
    encode: (grid) => encodeMaze(mazeFromCells(grid, 'grid')),
    decode: (tokens) => mazeToCells(decodeMaze(tokens)),
    hasRules: true,
    settle: (question, answer) => {
      const rows = decodeMaze(answer);
      return { answer: mazeToCells(rows), check: checkMazeRules(decodeMaze(question), rows) };
    },
  },
  arc: {
    // An ARC model may use a canvas smaller than 30x30 (its seq_len = side * side); a grid must fit it.
    encode: (grid, seqLen) => {
      const g = validateArcGrid(grid, 'grid');
      const side = arcCanvasSide(seqLen);
      if (!arcGridFits(g, side))
        throw new GridError('grid', `grid is ${g.length}x${g[0]!.length}, the model's canvas is ${side}x${side}`);
      return encodeArc(g, undefined, side);
    },
    decode: (tokens) => decodeArc(tokens),
    hasRules: false,
    settle: (_question, answer) => ({ answer: decodeArc(answer), check: { ...ARC_RULE_CHECK } }),
  },
};

/** Encodes a request grid for `task`; a GridError becomes a 400 naming the cell or row. */
export function encodeGrid(task: TaskName, grid: unknown, seqLen: number): Uint8Array {
  try {
    return TASK_CODECS[task].encode(grid, seqLen);
  } catch (err) {
    if (err instanceof GridError) throw new HttpError(400, err.message, err.field);
    throw err;
  }
}
