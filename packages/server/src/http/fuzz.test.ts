// Fuzzing the app through a real loopback socket: at least 10,000 generated and mutated requests (random JSON,
// wrong types, ragged and oversized grids, out-of-range and huge numbers, unicode, deep nesting, prototype-
// pollution keys, broken bytes, odd headers, paths and methods). No answer may be a 5xx, every 4xx must carry
// its status and a message, and where the mutation pins the bad value down, the field that names it.
import { gzipSync } from 'node:zlib';
import { Rng } from '@trm/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from './app.js';
import { FakeEngine } from '../testing/fake-engine.js';
import { jsonPath } from './solve/validate-body.js';
import { listen, parseEventStream, type SendOptions, type TestServer } from '../testing/client.js';
import { ARC_PUZZLE, MAZE_PUZZLE, MAZE_SOLUTION, SUDOKU_PUZZLE, SUDOKU_SOLUTION } from '../testing/fixtures.js';

const CASES = Number(process.env.TRM_FUZZ_CASES ?? 10_000);
const CONCURRENCY = 8;

interface Case {
  what: string;
  path: string;
  options: SendOptions;
  /** the field the error must name, when the mutation determines it */
  field?: string;
  /** the status the answer must have, when the mutation determines it */
  status?: number;
  /** the answer grid a valid request must get */
  answer?: number[][];
}

const WEIRD_STRINGS = [
  '',
  ' ',
  '\u0000',
  '\u202e',
  '\ud83e\udde9',
  '\u00e9\u0301',
  '\uffff',
  'null',
  '1',
  'sudoku ',
  'SUDOKU',
  '<script>',
];
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', '__defineGetter__'];
const HUGE = [1e308, -1e308, 2 ** 53 + 1, -(2 ** 63), 1e-320, -0, 0.1 + 0.2, 1.2345678901234568e29];

const VALID: { body: Record<string, unknown>; cellRange: [number, number]; answer: number[][] }[] = [
  { body: { task: 'sudoku', grid: SUDOKU_PUZZLE }, cellRange: [0, 9], answer: SUDOKU_SOLUTION },
  { body: { task: 'maze', model: 'maze', grid: MAZE_PUZZLE, maxSteps: 3 }, cellRange: [1, 5], answer: MAZE_SOLUTION },
  {
    body: { task: 'arc', model: 'arc', grid: ARC_PUZZLE, haltThreshold: 0.9, trace: true },
    cellRange: [0, 9],
    answer: ARC_PUZZLE,
  },
  { body: { task: 'arc', model: 'arc', grid: ARC_PUZZLE, puzzleId: 'known' }, cellRange: [0, 9], answer: ARC_PUZZLE },
];

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.int(0, xs.length - 1)]!;
}

function randomString(rng: Rng): string {
  if (rng.random() < 0.3) return pick(rng, WEIRD_STRINGS);
  const n = rng.int(0, 20);
  let s = '';
  for (let i = 0; i < n; i++) {
    const r = rng.random();
    // ASCII, Latin, CJK, and astral characters (surrogate pairs)
    s +=
      r < 0.6
        ? String.fromCharCode(rng.int(32, 126))
        : r < 0.8
          ? String.fromCharCode(rng.int(0xa0, 0x2fff))
          : r < 0.95
            ? String.fromCharCode(rng.int(0x4e00, 0x9fff))
            : String.fromCodePoint(rng.int(0x1f300, 0x1faff));
  }
  return s;
}

function randomNumber(rng: Rng): number {
  const r = rng.random();
  if (r < 0.3) return rng.int(-20, 40);
  if (r < 0.5) return pick(rng, HUGE);
  if (r < 0.8) return (rng.random() - 0.5) * 10 ** rng.int(-5, 12);
  return rng.int(0, 10) + 0.5;
}

function randomValue(rng: Rng, depth: number): unknown {
  const r = rng.random();
  if (depth <= 0 || r < 0.45) {
    const k = rng.int(0, 4);
    return k === 0 ? null : k === 1 ? rng.random() < 0.5 : k === 2 ? randomNumber(rng) : randomString(rng);
  }
  if (r < 0.7) return Array.from({ length: rng.int(0, 6) }, () => randomValue(rng, depth - 1));
  const o: Record<string, unknown> = {};
  for (let i = rng.int(0, 5); i > 0; i--)
    o[rng.random() < 0.2 ? pick(rng, PROTO_KEYS) : randomString(rng)] = randomValue(rng, depth - 1);
  return o;
}

/** A value that is not an integer in [lo, hi]. */
function badCell(rng: Rng, [lo, hi]: [number, number]): unknown {
  const k = rng.int(0, 7);
  if (k === 0) return hi + rng.int(1, 1000);
  if (k === 1) return lo - rng.int(1, 1000);
  if (k === 2) return rng.int(lo, hi - 1) + 0.5;
  if (k === 3) return pick(rng, [1e308, -1e308, 2 ** 53 + 1]);
  if (k === 4) return String(rng.int(lo, hi));
  if (k === 5) return pick(rng, [null, true, false, {}, []]);
  if (k === 6) return [rng.int(lo, hi)];
  return randomString(rng);
}

function deepArray(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

const json = (body: unknown): SendOptions => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

function mutatedBody(rng: Rng): Case {
  const base = pick(rng, VALID);
  const body = structuredClone(base.body);
  const grid = body.grid as unknown[][];
  const r = rng.int(0, grid.length - 1);
  const c = rng.int(0, grid[0]!.length - 1);
  const path = rng.random() < 0.5 ? '/solve' : '/solve/stream';
  switch (rng.int(0, 13)) {
    case 0:
      grid[r]![c] = badCell(rng, base.cellRange);
      return { what: 'bad cell', path, options: json(body), field: `grid[${r}][${c}]`, status: 400 };
    case 1: {
      const row = grid[r]!;
      if (rng.random() < 0.5) row.pop();
      else row.push(rng.int(1, 5));
      // one short or long row: the grid is ragged (or a sudoku row the wrong length); the schema catches an empty
      // row or one over 30 cells, the task's codec the rest
      const field = row.length === 0 || row.length > 30 ? `grid[${r}]` : 'grid';
      return { what: 'ragged row', path, options: json(body), field, status: 400 };
    }
    case 2:
      body.grid = Array.from({ length: rng.int(31, 60) }, () => [1]);
      return { what: 'too many rows', path, options: json(body), field: 'grid', status: 400 };
    case 3:
      grid[r] = Array.from({ length: rng.int(31, 200) }, () => 1);
      return { what: 'row too long', path, options: json(body), field: `grid[${r}]`, status: 400 };
    case 4: {
      const key = pick(rng, ['task', 'grid', 'model', 'maxSteps', 'haltThreshold', 'trace', 'untilValid', 'puzzleId']);
      body[key] = randomValue(rng, 3);
      return { what: `random ${key}`, path, options: json(body) };
    }
    case 5: {
      const key = pick(rng, ['task', 'grid']);
      delete body[key];
      return { what: `no ${key}`, path, options: json(body), field: key, status: 400 };
    }
    case 6: {
      const key = rng.random() < 0.5 ? pick(rng, PROTO_KEYS) : randomString(rng) || 'x';
      if (Object.hasOwn(body, key)) return { what: 'duplicate key', path, options: json(body) };
      const text =
        JSON.stringify(body).slice(0, -1) + `,${JSON.stringify(key)}:${JSON.stringify(randomValue(rng, 2))}}`;
      return { what: 'unknown key', path, options: json(text), field: jsonPath('', key), status: 400 };
    }
    case 7:
      body.maxSteps = pick(rng, [0, 65, -1, 1.5, 1e308, '4', null, true]);
      return { what: 'bad maxSteps', path, options: json(body), field: 'maxSteps', status: 400 };
    case 8:
      body.haltThreshold = pick(rng, [-0.001, 1.0001, 1e308, -1e308, '0.5', null, [], {}]);
      return { what: 'bad haltThreshold', path, options: json(body), field: 'haltThreshold', status: 400 };
    case 9:
      body.model = `${randomString(rng)}-${rng.int(0, 1e9)}`;
      return { what: 'unknown model', path, options: json(body), field: 'model', status: 404 };
    case 10:
      body.task = pick(
        rng,
        ['sudoku', 'maze', 'arc'].filter((t) => t !== body.task),
      );
      return { what: 'task of another model', path, options: json(body), field: 'task', status: 400 };
    case 11: {
      const depth = rng.int(10, 100_000);
      const text = JSON.stringify(body).replace(/^\{"task":("[a-z]+"),"/, `{"task":$1,"deep":${deepArray(depth)},"`);
      return { what: 'deep nesting', path, options: json(text), field: 'deep', status: 400 };
    }
    case 12:
      if (body.task === 'arc') {
        body.puzzleId = `${randomString(rng)}?`;
        return { what: 'unknown puzzleId', path, options: json(body), field: 'puzzleId', status: 404 };
      }
      body.puzzleId = 'known';
      return { what: 'puzzleId off ARC', path, options: json(body), field: 'puzzleId', status: 400 };
    default:
      return { what: 'valid', path, options: json(body), status: 200, answer: base.answer };
  }
}

function brokenBytes(rng: Rng): Case {
  const text = JSON.stringify(pick(rng, VALID).body);
  const k = rng.int(0, 5);
  if (k === 0)
    return {
      what: 'truncated JSON',
      path: '/solve',
      options: json(text.slice(0, rng.int(1, text.length - 1))),
      status: 400,
    };
  if (k === 1) {
    const bytes = Buffer.from(text);
    for (let i = rng.int(1, 5); i > 0; i--) bytes[rng.int(0, bytes.length - 1)] = rng.int(0, 255);
    return { what: 'flipped bytes', path: '/solve', options: { ...json(''), body: bytes } };
  }
  if (k === 2) {
    const bad = Buffer.concat([
      Buffer.from(text.slice(0, 12)),
      Buffer.from([0xc3, 0x28, 0xff, 0xfe]),
      Buffer.from(text.slice(12)),
    ]);
    return { what: 'invalid utf-8', path: '/solve/stream', options: { ...json(''), body: bad } };
  }
  if (k === 3) {
    const type = pick(rng, [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/jsonx',
      'json',
      '',
      'application/json; charset=utf-16',
      'application/json; charset=nonsense',
    ]);
    return {
      what: `content-type ${type}`,
      path: '/solve',
      options: { method: 'POST', headers: type ? { 'content-type': type } : {}, body: text },
      status: 415,
    };
  }
  if (k === 4) {
    const encoding = pick(rng, ['gzip', 'deflate', 'br', 'identity, gzip', 'x-custom']);
    const body = rng.random() < 0.5 ? gzipSync(text) : Buffer.from(text);
    return {
      what: `content-encoding ${encoding}`,
      path: '/solve',
      options: { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': encoding }, body },
    };
  }
  return {
    what: 'oversized',
    path: '/solve',
    options: json(`{"task":"sudoku","pad":"${'x'.repeat(1_100_000)}"}`),
    status: 413,
  };
}

function oddRequest(rng: Rng): Case {
  const path = pick(rng, [
    '/solve',
    '/solve/stream',
    '/models',
    '/healthz',
    '/readyz',
    '/metrics',
    '/openapi.json',
    '/',
    '/solve/',
    '/SOLVE',
    '/solve/x',
    '/%E0%A4%A',
    '/..%2f..%2fetc/passwd',
    `/${encodeURIComponent(randomString(rng))}`,
    '/models?x=%zz',
    '//solve',
  ]);
  const method = pick(rng, ['GET', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'POST']);
  const body = method === 'GET' || method === 'HEAD' ? undefined : JSON.stringify(randomValue(rng, 3));
  return {
    what: `${method} ${path}`,
    path,
    options: { method, headers: body ? { 'content-type': 'application/json' } : {}, body },
  };
}

function generate(rng: Rng): Case {
  const r = rng.random();
  if (r < 0.2)
    return {
      what: 'random JSON',
      path: pick(rng, ['/solve', '/solve/stream']),
      options: json(JSON.stringify(randomValue(rng, 5)) ?? 'null'),
    };
  if (r < 0.8) return mutatedBody(rng);
  if (r < 0.9) return brokenBytes(rng);
  return oddRequest(rng);
}

let server: TestServer;
const faults: string[] = [];

beforeAll(async () => {
  const engines = new Map([
    ['sudoku', new FakeEngine({ task: 'sudoku', name: 'sudoku', slots: 64 })],
    ['maze', new FakeEngine({ task: 'maze', name: 'maze', slots: 64 })],
    [
      'arc',
      new FakeEngine({ task: 'arc', name: 'arc', slots: 64, puzzleRows: new Map([['known', new Float32Array(64)]]) }),
    ],
  ]);
  server = await listen(createApp(engines, { playgroundDir: null, logError: (l) => faults.push(l) }));
});

afterAll(async () => {
  await server.close();
});

describe('fuzzing the HTTP layer', () => {
  it(`answers ${CASES} generated requests without a 5xx, with a message and the field`, async () => {
    const rng = new Rng(20261129);
    const cases = Array.from({ length: CASES }, () => generate(rng));
    const statuses = new Map<number, number>();
    const problems: string[] = [];
    let next = 0;
    async function worker(): Promise<void> {
      while (next < cases.length) {
        const c = cases[next++]!;
        let r: Awaited<ReturnType<TestServer['send']>>;
        try {
          r = await server.send(c.path, c.options);
        } catch (err) {
          problems.push(
            `no answer for ${c.what} ${c.options.method} ${c.path} (${String(c.options.body ?? '').slice(0, 120)}): ${(err as Error).message}`,
          );
          continue;
        }
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        const where = `${c.what} (${String(c.options.body ?? '').slice(0, 120)})`;
        if (r.status >= 500) problems.push(`${r.status} for ${where}: ${r.text.slice(0, 200)}`);
        if (c.status !== undefined && r.status !== c.status)
          problems.push(`${r.status} instead of ${c.status} for ${where}: ${r.text.slice(0, 200)}`);
        if (c.answer && r.status === 200) {
          const body = c.path === '/solve' ? JSON.parse(r.text) : JSON.parse(parseEventStream(r.text).at(-1)!.data);
          if (JSON.stringify(body.answer) !== JSON.stringify(c.answer)) problems.push(`wrong answer for ${where}`);
        }
        if (r.status >= 400 && c.options.method !== 'HEAD') {
          let error: { status?: unknown; message?: unknown; field?: unknown } | undefined;
          try {
            error = JSON.parse(r.text).error;
          } catch {
            problems.push(`non-JSON ${r.status} for ${where}: ${r.text.slice(0, 200)}`);
            continue;
          }
          if (error?.status !== r.status || typeof error.message !== 'string' || error.message.length === 0)
            problems.push(`bad error body for ${where}: ${r.text.slice(0, 200)}`);
          if (c.field !== undefined && error?.field !== c.field)
            problems.push(
              `field ${JSON.stringify(error?.field)} instead of ${JSON.stringify(c.field)} for ${where}: ${r.text.slice(0, 200)}`,
            );
        }
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    expect(problems.slice(0, 10)).toEqual([]);
    expect(faults).toEqual([]);
    const count = (lo: number, hi: number) =>
      [...statuses].filter(([s]) => s >= lo && s < hi).reduce((n, [, k]) => n + k, 0);
    expect(count(0, 1000)).toBe(CASES);
    // the mix reaches every kind of answer, valid solves included
    expect(count(200, 300)).toBeGreaterThan(CASES * 0.03);
    for (const s of [400, 404, 405, 413, 415])
      expect(statuses.get(s) ?? 0, `answers with status ${s}`).toBeGreaterThan(0);
    expect((await server.send('/healthz')).status).toBe(200);
    console.log(`fuzz: ${CASES} requests, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
  });
});
