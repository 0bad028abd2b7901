// The two requests the page makes, GET /models and POST /solve/stream, and the words it shows when they fail.
// A failed request becomes a ServerError whose message a person can act on (what went wrong, what to do);
// the server's own message and the field it names are kept in it. Aborting (the Stop button) is not an error
// and surfaces as the AbortError that fetch throws.
import { readEventStream } from './sse.js';

/** @typedef {import('./tasks.js').Grid} Grid */
/** @typedef {{ status: number, message: string, field?: string }} ErrorBody */
/**
 * @typedef {{ name: string, task: import('./tasks.js').TaskName, executionProvider: string,
 *   providerNotes: string[], dtype: string, maxBatch: number, config: Record<string, unknown> }} ServedModel
 */
/** @typedef {{ valid: boolean | null, reason?: string }} AnswerCheck */
/**
 * @typedef {{ step: number, answer: Grid, givensRestored?: number, check?: AnswerCheck,
 *   haltProbability: number }} StepEvent
 */
/** @typedef {{ index: number, name: string, tried: number }} ViewOutcome */
/**
 * @typedef {{ model: string, task: string, answer: Grid, givensRestored?: number, check?: AnswerCheck,
 *   steps: number, haltProbability: number, halted: boolean, view?: ViewOutcome,
 *   timing: { queueMs: number, computeMs: number, totalMs: number } }} DoneEvent
 */
/**
 * @typedef {{ task: string, grid: Grid, model?: string, maxSteps?: number, haltThreshold?: number,
 *   untilValid?: boolean, puzzleId?: string }} SolveRequest
 */

export class ServerError extends Error {
  /**
   * @param {string} message what the page shows
   * @param {{ status: number, field?: string, serverMessage?: string }} details status 0: no HTTP answer
   */
  constructor(message, details) {
    super(message);
    this.name = 'ServerError';
    this.status = details.status;
    this.field = details.field;
    this.serverMessage = details.serverMessage;
  }
}

/**
 * Words for an error the server reported, by status.
 * @param {number} status @param {Partial<ErrorBody>} [error]
 */
export function describeServerError(status, error = {}) {
  const said = error.message ? ` The server said: ${error.message}` : '';
  if (status === 429) {
    return `The server's queue is full, so it did not take this puzzle. Wait a moment and press Solve again.${said}`;
  }
  if (status === 503) {
    return `The server is not taking puzzles right now (it is starting up or shutting down). Try again in a few seconds.${said}`;
  }
  if (status >= 400 && status < 500) {
    const what = error.message ?? `HTTP ${status}`;
    const field = error.field && !what.includes(error.field) ? ` (field "${error.field}")` : '';
    return `The server rejected the request: ${what}${field}`;
  }
  return `The server failed (HTTP ${status}).${said}`;
}

/** @param {Response} response */
async function errorFrom(response) {
  const text = await response.text().catch(() => '');
  /** @type {Partial<ErrorBody>} */
  let error = {};
  try {
    const body = JSON.parse(text);
    if (body && typeof body.error === 'object' && body.error !== null) error = body.error;
  } catch {
    if (text.trim() !== '') error = { message: text.trim().slice(0, 300) };
  }
  return new ServerError(describeServerError(response.status, error), {
    status: response.status,
    field: error.field,
    serverMessage: error.message,
  });
}

/** @param {unknown} err */
function isAbort(err) {
  return err instanceof Error && err.name === 'AbortError';
}

/**
 * fetch() that turns a network failure into a ServerError (an abort stays an AbortError).
 * @param {string} url @param {RequestInit} init @param {string} doing
 */
async function request(url, init, doing) {
  try {
    return await fetch(url, init);
  } catch (err) {
    if (isAbort(err)) throw err;
    throw new ServerError(`Could not reach the server to ${doing} (${/** @type {Error} */ (err).message}).`, {
      status: 0,
    });
  }
}

/**
 * The models the server runs.
 * @param {string} [baseUrl] '' for the page's own origin
 * @returns {Promise<ServedModel[]>}
 */
export async function fetchModels(baseUrl = '') {
  const response = await request(`${baseUrl}/models`, { headers: { accept: 'application/json' } }, 'list its models');
  if (!response.ok) throw await errorFrom(response);
  const body = await response.json();
  if (!body || !Array.isArray(body.models)) {
    throw new ServerError('GET /models did not answer with a list of models.', { status: response.status });
  }
  return body.models;
}

/**
 * Solves one puzzle over POST /solve/stream, calling `onStep` after every supervision step; resolves with the
 * `done` event. Rejects with a ServerError (rejected request, error event, broken stream) or an AbortError.
 * @param {SolveRequest} body
 * @param {{ onStep?: (step: StepEvent) => void, signal?: AbortSignal, baseUrl?: string }} [options]
 * @returns {Promise<DoneEvent>}
 */
export async function solveStream(body, options = {}) {
  const { onStep, signal, baseUrl = '' } = options;
  const response = await request(
    `${baseUrl}/solve/stream`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify(body),
      signal,
    },
    'solve the puzzle',
  );
  if (!response.ok) throw await errorFrom(response);
  const type = response.headers.get('content-type') ?? '';
  if (!type.startsWith('text/event-stream') || response.body === null) {
    throw new ServerError(`The server answered with "${type || 'no content type'}" instead of an event stream.`, {
      status: response.status,
    });
  }
  try {
    for await (const { event, data } of readEventStream(response.body)) {
      if (event === 'step') onStep?.(parseData(event, data));
      else if (event === 'done') return parseData(event, data);
      else if (event === 'error') {
        const error = parseData(event, data).error ?? {};
        const status = typeof error.status === 'number' ? error.status : 500;
        throw new ServerError(describeServerError(status, error), {
          status,
          field: error.field,
          serverMessage: error.message,
        });
      }
    }
  } catch (err) {
    if (isAbort(err) || err instanceof ServerError) throw err;
    throw new ServerError(`The connection broke while solving (${/** @type {Error} */ (err).message}).`, {
      status: 0,
    });
  }
  throw new ServerError('The connection closed before the answer was finished. Press Solve to try again.', {
    status: 0,
  });
}

/** @param {string} event @param {string} data */
function parseData(event, data) {
  try {
    return JSON.parse(data);
  } catch {
    throw new ServerError(`The server sent a "${event}" event that is not JSON.`, { status: 0 });
  }
}
