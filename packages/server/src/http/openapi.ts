// The OpenAPI 3.1 document served at GET /openapi.json, assembled from the very schemas that validate requests
// and that the tests hold responses to, so the document cannot drift from the server.
// A JSON import, so that the bundle (pnpm build) carries the version instead of looking for the file at run time.
import packageJson from '../../package.json' with { type: 'json' };
import { errorSchema } from './schemas/error.js';
import { modelsResponseSchema } from './schemas/models.js';
import { MAX_STEPS_LIMIT, UNTIL_VALID_FACTOR } from '../engine/solve-request.js';
import { DEFAULT_HALT_THRESHOLD, solveRequestSchema } from './schemas/solve-request.js';
import { checkSchema, solveResponseSchema, stepEventSchema } from './schemas/solve-response.js';

const { version } = packageJson;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ 'application/json': { schema } });
const errorResponse = (description: string) => ({ description, content: json(ref('Error')) });

const retryAfter = {
  'Retry-After': { description: 'seconds to wait before retrying', schema: { type: 'integer' } },
};

/** Status codes a solve request can get besides its success. */
const solveErrors = {
  '400': errorResponse(
    'malformed JSON, or a field that is missing, of the wrong type or out of range (`field` names it)',
  ),
  '404': errorResponse('`model` or `puzzleId` names nothing loaded'),
  '413': errorResponse('the body is larger than the limit (1 MB by default)'),
  '415': errorResponse('the Content-Type is not application/json, or the encoding or charset is not supported'),
  '429': { ...errorResponse('the queue is full'), headers: retryAfter },
  '503': { ...errorResponse('the model is loading, or the server is draining'), headers: retryAfter },
};

const solveBody = { required: true, content: json(ref('SolveRequest')) };

// long: the OpenAPI document as one literal, read like the published JSON
export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'TRM server',
      version,
      description:
        'Solves sudoku, maze and ARC puzzles with a Tiny Recursive Model: the step graph runs up to `maxSteps` ' +
        `supervision steps (default: the model's halt_max_steps, at most ${MAX_STEPS_LIMIT}) and stops early once ` +
        `the halt probability exceeds \`haltThreshold\` (default ${DEFAULT_HALT_THRESHOLD}). Every answer says ` +
        "whether it satisfies the task's rules (`check`); for sudoku and maze a halt on an answer that does not is " +
        'overruled until one does or maxSteps is reached (`untilValid`, default true; without maxSteps, an answer ' +
        `still invalid at the model's halt_max_steps gets up to ${UNTIL_VALID_FACTOR} times as many steps, at most ${MAX_STEPS_LIMIT}), ` +
        'and a sudoku answer never ' +
        'changes a given (`givensRestored` counts those the model had changed).',
    },
    paths: {
      '/solve': {
        post: {
          summary: 'Solve one puzzle',
          operationId: 'solve',
          requestBody: solveBody,
          responses: { '200': { description: 'the answer', content: json(ref('SolveResponse')) }, ...solveErrors },
        },
      },
      '/solve/stream': {
        post: {
          summary: 'Solve one puzzle, with the answer after every supervision step as server-sent events',
          description:
            'Events: `step` (data: StepEvent) after every supervision step, then `done` (data: SolveResponse) or ' +
            '`error` (data: Error). Each data field is one line of JSON. Errors found before the first event ' +
            '(validation, a full queue, a model not ready) are answered as plain JSON with their status instead. ' +
            'Closing the connection cancels the puzzle.',
          operationId: 'solveStream',
          requestBody: solveBody,
          responses: {
            '200': {
              description: 'an event stream: `step`... then `done` or `error`',
              content: {
                'text/event-stream': {
                  schema: { type: 'string' },
                  // OpenAPI 3.1 has no field for the schema of each event; an extension names them per event.
                  'x-events': { step: ref('StepEvent'), done: ref('SolveResponse'), error: ref('Error') },
                },
              },
            },
            ...solveErrors,
          },
        },
      },
      '/models': {
        get: {
          summary: 'The loaded models',
          operationId: 'models',
          responses: { '200': { description: 'one entry per model', content: json(ref('ModelsResponse')) } },
        },
      },
      '/healthz': {
        get: {
          summary: 'Liveness: the process answers and every model can repair itself',
          operationId: 'healthz',
          responses: {
            '200': { description: 'alive: `{"status": "ok"}`', content: json({ type: 'object' }) },
            '503': {
              description:
                'a model whose worker failed to restart several times in a row (restart the process): ' +
                '`{"status": "failing", "models": {"<name>": "<why>"}}`',
              content: json({ type: 'object' }),
            },
          },
        },
      },
      '/readyz': {
        get: {
          summary: 'Readiness: every model is loaded and the server is not draining',
          operationId: 'readyz',
          responses: {
            '200': { description: 'ready', content: json({ type: 'object' }) },
            '503': {
              description: 'loading, draining, or no worker running; `problems` says why per model',
              content: json({ type: 'object' }),
            },
          },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics (text exposition format 0.0.4)',
          operationId: 'metrics',
          responses: { '200': { description: 'metrics', content: { 'text/plain': { schema: { type: 'string' } } } } },
        },
      },
      '/openapi.json': {
        get: {
          summary: 'This document',
          operationId: 'openapi',
          responses: { '200': { description: 'OpenAPI 3.1', content: json({ type: 'object' }) } },
        },
      },
    },
    components: {
      schemas: {
        SolveRequest: solveRequestSchema,
        SolveResponse: solveResponseSchema,
        StepEvent: stepEventSchema,
        AnswerCheck: checkSchema,
        ModelsResponse: modelsResponseSchema,
        Error: errorSchema,
      },
    },
  };
}
