// Per task, how a request grid becomes model tokens and how the model's tokens become an answer grid in the
// same numeric form, all with the codecs of @trm/core (one source of truth for the vocabularies).
import {
  arcCanvasSide,
  arcGridFits,
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
  type TaskName,
  validateArcGrid,
  validateSudokuGrid,
} from '@trm/core';
import { HttpError } from '../http-error.js';

export interface TaskCodec {
  /** validates an untrusted grid (errors name `grid[r][c]`) and encodes it for a model of `seqLen` tokens */
  encode(grid: unknown, seqLen: number): Uint8Array;
  decode(tokens: Uint8Array): Grid;
}

export const TASK_CODECS: Record<TaskName, TaskCodec> = {
  sudoku: {
    encode: (grid) => encodeSudoku(validateSudokuGrid(grid, 'grid')),
    decode: (tokens) => decodeSudoku(tokens),
  },
  maze: {
    encode: (grid) => encodeMaze(mazeFromCells(grid, 'grid')),
    decode: (tokens) => mazeToCells(decodeMaze(tokens)),
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
