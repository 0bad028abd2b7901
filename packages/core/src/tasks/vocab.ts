// Token vocabularies of the three task families, exactly as the reference builders define them (TRM-SPEC §6).
// Every package takes its ids, sequence lengths and vocabulary sizes from here.

export type TaskName = 'sudoku' | 'maze' | 'arc';
export const TASK_NAMES: readonly TaskName[] = ['sudoku', 'maze', 'arc'];

/** Token id used for padding in every task; also the label that the loss ignores. */
export const PAD = 0;

export const SUDOKU = {
  side: 9,
  seqLen: 81,
  vocabSize: 11,
  /** blank cell */
  BLANK: 1,
  /** digit d (1..9) is token d + 1 */
  digitOffset: 1,
} as const;

/** Maze characters in token order: '#' = 1, ' ' = 2, 'S' = 3, 'G' = 4, 'o' = 5. */
export const MAZE = {
  side: 30,
  seqLen: 900,
  vocabSize: 6,
  charset: '# SGo',
  WALL: 1,
  OPEN: 2,
  START: 3,
  GOAL: 4,
  PATH: 5,
} as const;

export const ARC = {
  side: 30,
  seqLen: 900,
  vocabSize: 12,
  EOS: 1,
  /** colour c (0..9) is token c + 2 */
  colourOffset: 2,
  maxSide: 30,
} as const;

export interface TaskShape {
  seqLen: number;
  vocabSize: number;
}

export const TASK_SHAPES: Record<TaskName, TaskShape> = {
  sudoku: { seqLen: SUDOKU.seqLen, vocabSize: SUDOKU.vocabSize },
  maze: { seqLen: MAZE.seqLen, vocabSize: MAZE.vocabSize },
  arc: { seqLen: ARC.seqLen, vocabSize: ARC.vocabSize },
};
