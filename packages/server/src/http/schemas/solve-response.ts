// JSON schemas of what POST /solve answers and what POST /solve/stream sends per event. Tests validate every
// response against them, so /openapi.json (built from the same objects) describes what the server really sends.

const answerSchema = {
  description:
    'The decoded answer, in the form of the request grid (sudoku 9x9 digits, 0 where the model left a blank; ' +
    'maze 30x30 cell codes 1..5; arc the cropped grid, [] when the model produced no grid).',
  type: 'array',
  items: { type: 'array', items: { type: 'integer' } },
} as const;

const haltProbabilitySchema = {
  description: 'sigmoid(q_halt) after the step',
  type: 'number',
  minimum: 0,
  maximum: 1,
} as const;

const givensRestoredSchema = {
  description:
    'sudoku only: givens of the puzzle that the model changed or left blank; the answer has them written back ' +
    '(an answer never changes a given)',
  type: 'integer',
  minimum: 0,
} as const;

export const checkSchema = {
  title: 'AnswerCheck',
  description:
    "Whether the answer satisfies the task's rules. sudoku: every row, column and 3x3 box holds 1..9 exactly once " +
    "(after the givens are written back); maze: walls, S and G unchanged and the path cells ('o', 5) join S to G " +
    'through free cells. ARC has no rule check (valid null).',
  type: 'object',
  additionalProperties: false,
  required: ['valid'],
  properties: {
    valid: {
      description: 'true: a solution by the rules; false: the first broken rule is in `reason`; null: no rule check',
      type: ['boolean', 'null'],
    },
    reason: {
      description: 'why the answer is not valid (rows, columns and boxes counted from 1), or why there is no check',
      type: 'string',
    },
  },
} as const;

export const stepEventSchema = {
  title: 'StepEvent',
  description: 'The answer after one supervision step (the trace entries and the `step` events of /solve/stream).',
  type: 'object',
  additionalProperties: false,
  required: ['step', 'answer', 'check', 'haltProbability'],
  properties: {
    step: { description: '1-based supervision step', type: 'integer', minimum: 1 },
    answer: answerSchema,
    givensRestored: givensRestoredSchema,
    check: checkSchema,
    haltProbability: haltProbabilitySchema,
  },
} as const;

const millisecondsSchema = { type: 'number', minimum: 0 } as const;

export const solveResponseSchema = {
  title: 'SolveResponse',
  type: 'object',
  additionalProperties: false,
  required: ['model', 'task', 'answer', 'check', 'steps', 'haltProbability', 'halted', 'timing'],
  properties: {
    model: { description: 'the model that answered', type: 'string' },
    task: { enum: ['sudoku', 'maze', 'arc'] },
    answer: answerSchema,
    givensRestored: givensRestoredSchema,
    check: checkSchema,
    steps: { description: 'supervision steps run', type: 'integer', minimum: 1 },
    haltProbability: haltProbabilitySchema,
    halted: {
      description:
        'true when the halt probability crossed the threshold (on an answer that passed the check, with ' +
        "untilValid), false when maxSteps was reached or a valid answer was taken at the model's last trained step",
      type: 'boolean',
    },
    timing: {
      type: 'object',
      additionalProperties: false,
      required: ['queueMs', 'computeMs', 'totalMs'],
      properties: {
        queueMs: { description: 'waiting for a batch slot', ...millisecondsSchema },
        computeMs: { description: 'from entering a batch slot to the answer', ...millisecondsSchema },
        totalMs: { description: 'from receiving the request to sending the answer', ...millisecondsSchema },
      },
    },
    trace: {
      description:
        'present when the request set trace: one entry per step of the puzzle itself (when another view answered, ' +
        'the steps of the puzzle until it was stopped)',
      type: 'array',
      items: stepEventSchema,
    },
    view: {
      description:
        'present when the request ran with views > 1: which copy of the puzzle gave the answer (steps, ' +
        "haltProbability and halted are that copy's)",
      type: 'object',
      additionalProperties: false,
      required: ['index', 'name', 'tried'],
      properties: {
        index: { description: '0: the puzzle itself; else the view that answered', type: 'integer', minimum: 0 },
        name: { description: 'identity, sudoku shuffle, rot90, fliplr, ...', type: 'string' },
        tried: {
          description: 'copies that ran: 1 when the puzzle answered by the trained step, else views',
          type: 'integer',
          minimum: 1,
        },
      },
    },
  },
} as const;

/** What the task's rules say about an answer. */
export interface AnswerCheckBody {
  valid: boolean | null;
  reason?: string;
}

/** The body of a 200 answer of POST /solve (and the data of the `done` event). */
export interface SolveResponseBody {
  model: string;
  task: 'sudoku' | 'maze' | 'arc';
  answer: number[][];
  givensRestored?: number;
  check: AnswerCheckBody;
  steps: number;
  haltProbability: number;
  halted: boolean;
  timing: { queueMs: number; computeMs: number; totalMs: number };
  trace?: StepEventBody[];
  view?: { index: number; name: string; tried: number };
}

export interface StepEventBody {
  step: number;
  answer: number[][];
  givensRestored?: number;
  check: AnswerCheckBody;
  haltProbability: number;
}
