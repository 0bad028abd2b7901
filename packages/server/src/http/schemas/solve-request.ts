// JSON schema of the body of POST /solve and POST /solve/stream. The same object validates requests (ajv) and
// appears in /openapi.json. It checks what every task shares (an array of 1..30 rows of 1..30 integer cells
// 0..9); the task's own codec in @trm/core then checks the exact shape (sudoku 9x9, maze 30x30 of 1..5, ARC
// rectangular), so each message can name the cell that is wrong.
import { ARC, TASK_NAMES } from '@trm/core';
import { MAX_STEPS_LIMIT, UNTIL_VALID_FACTOR } from '../../engine/solve-request.js';

/** Most views a request may ask for (sudoku; a maze has 8). */
export const MAX_VIEWS = 16;
/**
 * Views of a sudoku or maze puzzle when neither the request nor the server says (solve/views.ts): the most measured,
 * 82.2 % of 1,024 hard sudoku against 69.8 % through 8 (BENCHMARKS.md, "Answers through views").
 */
export const DEFAULT_VIEWS = 16;

export const DEFAULT_HALT_THRESHOLD = 0.5;
/** Longest model name or puzzle id accepted; real ones are far shorter. */
export const MAX_NAME_LENGTH = 256;

export const solveRequestSchema = {
  title: 'SolveRequest',
  description: 'One puzzle to solve with a loaded model.',
  type: 'object',
  additionalProperties: false,
  required: ['task', 'grid'],
  properties: {
    task: {
      description: "The puzzle family; must be the model's task.",
      enum: [...TASK_NAMES],
    },
    grid: {
      description:
        'The puzzle, row-major. sudoku: 9x9 of 0..9 (0 = blank); maze: 30x30 of cell codes 1..5 ' +
        "('#' wall, ' ' open, 'S' start, 'G' goal, 'o' path); arc: 1..30 x 1..30 of colours 0..9.",
      type: 'array',
      minItems: 1,
      maxItems: ARC.maxSide,
      items: {
        type: 'array',
        minItems: 1,
        maxItems: ARC.maxSide,
        items: { type: 'integer', minimum: 0, maximum: 9 },
      },
    },
    model: {
      description: 'Name of a loaded model (GET /models); default: the first one.',
      type: 'string',
      minLength: 1,
      maxLength: MAX_NAME_LENGTH,
    },
    maxSteps: {
      description:
        `Supervision steps at most (default: the model's halt_max_steps, at most ${MAX_STEPS_LIMIT}; with untilValid, ` +
        `an answer that still breaks the rules there gets more steps, up to ${UNTIL_VALID_FACTOR} times as many, at most ${MAX_STEPS_LIMIT}).`,
      type: 'integer',
      minimum: 1,
      maximum: MAX_STEPS_LIMIT,
    },
    haltThreshold: {
      description: `Stop once the halt probability exceeds this (default ${DEFAULT_HALT_THRESHOLD}); 1 never stops early.`,
      type: 'number',
      minimum: 0,
      maximum: 1,
    },
    trace: {
      description: 'Also return the answer after every supervision step.',
      type: 'boolean',
    },
    untilValid: {
      description:
        "sudoku and maze (default true): a halt on an answer that breaks the task's rules is overruled and the " +
        "steps go on, up to maxSteps (without maxSteps: a valid answer ends the puzzle by the model's halt_max_steps, " +
        `an invalid one runs on up to ${UNTIL_VALID_FACTOR} times as many steps, at most ${MAX_STEPS_LIMIT}); false lets the halt probability alone decide. No effect for ARC.`,
      type: 'boolean',
    },
    views: {
      description:
        'sudoku and maze, with untilValid: copies of the puzzle in all, the puzzle itself included. When its own ' +
        "answer still breaks the rules at the model's halt_max_steps (or at maxSteps, if lower), views - 1 " +
        'symmetric copies (sudoku: digits relabelled, transposed, bands, rows, stacks and columns permuted; maze: ' +
        "rotated and mirrored, at most 8 in all) run alongside it, each for up to the model's halt_max_steps (or " +
        'maxSteps, if lower); the first answer that ' +
        'follows the rules, mapped back, is the answer (`view` says which copy). 1: the puzzle alone. ' +
        `Default: the server's (--views), at most ${MAX_VIEWS}.`,
      type: 'integer',
      minimum: 1,
      maximum: MAX_VIEWS,
    },
    puzzleId: {
      description: "ARC only: the name of a row of the model's puzzle-embedding table (identifiers.json).",
      type: 'string',
      minLength: 1,
      maxLength: MAX_NAME_LENGTH,
    },
  },
} as const;

/** A request body that passed the schema (the grid is re-checked per task). */
export interface SolveRequestBody {
  task: (typeof TASK_NAMES)[number];
  grid: number[][];
  model?: string;
  maxSteps?: number;
  haltThreshold?: number;
  trace?: boolean;
  untilValid?: boolean;
  views?: number;
  puzzleId?: string;
}
