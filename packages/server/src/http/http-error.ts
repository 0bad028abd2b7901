// The one error type the HTTP layer answers with, and the mapping of engine errors onto status codes
// (QueueFullError 429, EngineUnavailableError and QueueTimeoutError 503, SolveRequestError 400). Anything else that escapes is a fault
// of the server: 500.
import { SolveRequestError } from '../engine/solve-request.js';
import { EngineUnavailableError, QueueFullError } from '../engine/types.js';
import type { ErrorBody } from './schemas/error.js';
import { INVALID_UTF8 } from './utf8-body.js';

/** Seconds a client is told to wait after a 429 or 503. */
export const RETRY_AFTER_SECONDS = 1;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** JSON path of the bad value in the body, when there is one */
    readonly field?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }

  body(): ErrorBody {
    return { error: { status: this.status, message: this.message, ...(this.field ? { field: this.field } : {}) } };
  }
}

/** Raised when the client went away: there is no one to answer. */
export function isAbortError(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}

/**
 * Maps what engine.solve rejected with onto an HttpError. Names are compared as well as classes because an
 * engine may rebuild errors that crossed a worker boundary.
 */
export function engineErrorToHttp(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  const name = err instanceof Error ? err.name : '';
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof QueueFullError || name === 'QueueFullError')
    return new HttpError(429, message, undefined, { 'Retry-After': String(RETRY_AFTER_SECONDS) });
  // A puzzle that outwaited the queue timeout (QueueTimeoutError, a kind of EngineUnavailableError) is a 503 too.
  if (err instanceof EngineUnavailableError || name === 'EngineUnavailableError' || name === 'QueueTimeoutError')
    return new HttpError(503, message, undefined, { 'Retry-After': String(RETRY_AFTER_SECONDS) });
  // The HTTP layer validates first, so this is a request the task allows but this model does not (a vocabulary
  // smaller than the task's, say): still the request's fault, not the server's. Only the options the client
  // sends by name keep their field; the engine's other fields (tokens, puzzleEmb) are not JSON paths.
  if (err instanceof SolveRequestError || name === 'SolveRequestError') {
    const field = (err as { field?: unknown }).field;
    const known = field === 'maxSteps' || field === 'haltThreshold' ? field : undefined;
    return new HttpError(400, `the model cannot take this request: ${message}`, known);
  }
  return new HttpError(500, `the engine failed: ${message}`);
}

/**
 * Maps an error that express or body-parser raised (they carry `status` and `type`) onto an HttpError with a
 * message a client can act on; unknown errors become 500.
 */
export function middlewareErrorToHttp(err: unknown, bodyLimit: string): HttpError {
  if (err instanceof HttpError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    status?: unknown;
    statusCode?: unknown;
    type?: unknown;
    code?: unknown;
    message?: unknown;
  };
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : 500;
  const detail = typeof e.message === 'string' ? e.message : String(err);
  switch (e.type) {
    case INVALID_UTF8:
      return new HttpError(400, detail);
    case 'entity.parse.failed':
      return new HttpError(400, `the body is not valid JSON (${detail}); expected a JSON object`);
    case 'entity.too.large':
      return new HttpError(413, `the body is larger than the limit of ${bodyLimit}`);
    case 'encoding.unsupported':
      return new HttpError(415, `${detail}; send it uncompressed or as gzip, deflate or br`);
    case 'charset.unsupported':
      return new HttpError(415, `${detail}; send the body as utf-8`);
    case 'request.aborted':
      return new HttpError(400, 'the request was aborted before its body was complete');
    case 'request.size.invalid':
      return new HttpError(400, 'the body is shorter or longer than its Content-Length');
    default:
      // zlib's errors (Z_DATA_ERROR, Z_BUF_ERROR, ...) reach us as 400s with zlib's terse message.
      if (typeof e.code === 'string' && e.code.startsWith('Z_'))
        return new HttpError(400, `the body could not be decompressed as its Content-Encoding says (${detail})`);
      if (status >= 400 && status < 500) return new HttpError(status, detail || `request failed with status ${status}`);
      return new HttpError(500, 'internal server error');
  }
}
