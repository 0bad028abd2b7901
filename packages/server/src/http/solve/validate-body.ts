// Schema check of a solve request body with ajv, turning the first error into a sentence and the JSON path of
// the bad value (`grid[3][4]`, `maxSteps`, `"odd key"`), so that a client can find what to fix.
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { HttpError } from '../http-error.js';
import { type SolveRequestBody, solveRequestSchema } from '../schemas/solve-request.js';

const ajv = new Ajv2020({ allErrors: false, strict: true });
const check = ajv.compile<SolveRequestBody>(solveRequestSchema);

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
/** Longest key or value quoted back in a message: a 1 MB key is not worth echoing in full. */
const QUOTE_LIMIT = 60;

/** Appends a key to a JSON path: `grid[3]`, `a.b`, or `["odd key"]` for keys that are not identifiers. */
export function jsonPath(parent: string, key: string | number): string {
  if (typeof key === 'number' || /^(0|[1-9][0-9]*)$/.test(key)) return `${parent}[${key}]`;
  if (IDENTIFIER.test(key)) return parent ? `${parent}.${key}` : key;
  return `${parent}[${JSON.stringify(key)}]`;
}

function quote(s: string): string {
  return JSON.stringify(s.length > QUOTE_LIMIT ? `${s.slice(0, QUOTE_LIMIT)}...` : s);
}

/** A short description of a JSON value: never the whole of a large or deeply nested one. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'object') return 'an object';
  return String(value);
}

function fromAjv(err: ErrorObject, body: unknown): HttpError {
  // instancePath is a JSON pointer: "/grid/3/4"; "~1" and "~0" escape "/" and "~".
  const keys = err.instancePath
    .split('/')
    .slice(1)
    .map((k) => k.replaceAll('~1', '/').replaceAll('~0', '~'));
  let field = '';
  let value: unknown = body;
  for (const k of keys) {
    field = jsonPath(field, k);
    value = (value as Record<string, unknown>)[k];
  }
  const params = err.params as Record<string, unknown>;
  const what = field || 'the body';
  switch (err.keyword) {
    case 'required': {
      const missing = jsonPath(field, String(params.missingProperty));
      return new HttpError(400, `${missing} is required`, missing);
    }
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const known = Object.keys(solveRequestSchema.properties).join(', ');
      const path = jsonPath(field, key);
      const shown = path.length > QUOTE_LIMIT ? `the field ${quote(key)}` : path;
      return new HttpError(400, `${shown} is not a known field (known: ${known})`, path);
    }
    case 'enum':
      return new HttpError(
        400,
        `${what} must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')} (got ${describeValue(value)})`,
        field || undefined,
      );
    case 'type':
      if (!field) return new HttpError(400, `the body must be a JSON object (got ${describeValue(value)})`);
      return new HttpError(400, `${what} must be ${aOrAn(String(params.type))} (got ${describeValue(value)})`, field);
    default:
      return new HttpError(
        400,
        `${what} ${err.message ?? 'is invalid'} (got ${describeValue(value)})`,
        field || undefined,
      );
  }
}

function aOrAn(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** Checks a parsed body against the solve request schema; throws a 400 HttpError naming the field. */
export function validateSolveBody(body: unknown): SolveRequestBody {
  if (check(body)) return body;
  const first = check.errors?.[0];
  if (!first) throw new HttpError(400, 'the body is not a valid solve request');
  throw fromAjv(first, body);
}
