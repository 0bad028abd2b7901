// The JSON request body: a JSON Content-Type in UTF-8 (else 415), then parsed strictly, at most `limit` bytes (else
// 413), and verified to be valid UTF-8.
import express, { type NextFunction, type Request, type Response } from 'express';
import { HttpError } from './http-error.js';
import { verifyUtf8Body } from './utf8-body.js';

/** What is wrong with a request's Content-Type for a JSON body, or null when it is fine. */
function contentTypeProblem(header: string | undefined): string | null {
  const shown = header ? JSON.stringify(header.slice(0, 100)) : 'none';
  const [type = '', ...params] = (header ?? '').split(';').map((p) => p.trim().toLowerCase());
  if (type !== 'application/json' && !(type.startsWith('application/') && type.endsWith('+json')))
    return `Content-Type must be application/json (got ${shown})`;
  // JSON exchanged between systems is UTF-8 (RFC 8259 section 8.1); other charsets are refused, not guessed at.
  const charset = params
    .find((p) => p.startsWith('charset='))
    ?.slice(8)
    .replaceAll('"', '');
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')
    return `Content-Type charset must be utf-8 (got ${shown}); send the body as utf-8`;
  return null;
}

export function requireJson(req: Request, _res: Response, next: NextFunction): void {
  const problem = contentTypeProblem(req.headers['content-type']);
  if (problem) throw new HttpError(415, problem);
  next();
}

export function parseJson(limit: string | number) {
  return express.json({ limit, strict: true, type: () => true, verify: verifyUtf8Body });
}
