// The contract of every endpoint of createApp, against fake engines: status codes, bodies (held to the same
// schemas as /openapi.json), headers, the SSE framing and event order, and the mapping of engine errors.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SolveRequestError } from '../engine/solve-request.js';
import { EngineUnavailableError, QueueFullError, type SolveEngine } from '../engine/types.js';
import { createApp, PLAYGROUND_CSP } from './app.js';
import type { Lifecycle } from './context.js';
import { FakeEngine } from '../testing/fake-engine.js';
import { openApiDocument } from './openapi.js';
import { errorSchema } from './schemas/error.js';
import { type ModelSummary, modelsResponseSchema } from './schemas/models.js';
import { solveRequestSchema } from './schemas/solve-request.js';
import { type StepEventBody, solveResponseSchema, stepEventSchema } from './schemas/solve-response.js';
import { listen, parseEventStream, type RawResponse, type TestServer } from '../testing/client.js';
import { ARC_PUZZLE, MAZE_PUZZLE, MAZE_SOLUTION, SUDOKU_PUZZLE, SUDOKU_SOLUTION } from '../testing/fixtures.js';

const ajv = new Ajv2020({ strict: true });
const isSolveResponse = ajv.compile(solveResponseSchema);
const isStepEvent = ajv.compile(stepEventSchema);
const isError = ajv.compile(errorSchema);
const isModels = ajv.compile(modelsResponseSchema);

/** A parsed body; every test holds it to its JSON schema before reading fields, so `any` stays local here. */
// biome-ignore lint/suspicious/noExplicitAny: the schema checks in the tests are the types of these bodies
function json(r: RawResponse): any {
  return JSON.parse(r.text);
}

/** Asserts an error answer: status, body shape, field, and a message containing `words`. */
function expectError(r: RawResponse, status: number, field: string | undefined, words?: string | RegExp): void {
  expect(r.headers['content-type']).toMatch(/^application\/json/);
  const body = json(r);
  expect(isError(body), JSON.stringify(isError.errors)).toBe(true);
  expect({ status: r.status, bodyStatus: body.error.status, field: body.error.field }).toEqual({
    status,
    bodyStatus: status,
    field,
  });
  if (words !== undefined) expect(body.error.message).toMatch(words);
}

const ARC_ROW = new Float32Array([0.25, -1, 3]);

let sudoku: FakeEngine;
let maze: FakeEngine;
let arc: FakeEngine;
let lifecycle: Lifecycle;
let server: TestServer;
let playgroundDir: string;
const faults: string[] = [];

beforeAll(async () => {
  playgroundDir = await mkdtemp(join(tmpdir(), 'playground-'));
  await writeFile(join(playgroundDir, 'index.html'), '<!doctype html><title>TRM playground</title>');
  sudoku = new FakeEngine({ task: 'sudoku', name: 'sudoku-small', stepDelayMs: 1 });
  maze = new FakeEngine({ task: 'maze', name: 'maze-small' });
  arc = new FakeEngine({
    task: 'arc',
    name: 'arc-small',
    puzzleRows: new Map([
      ['<blank>', new Float32Array([0.5, 0.5, 0.5])],
      ['007bbfb7|||t1|||0123456789', ARC_ROW],
    ]),
  });
  lifecycle = { draining: false };
  const app = createApp(
    new Map([
      ['sudoku-small', sudoku],
      ['maze-small', maze],
      ['arc-small', arc],
    ]),
    {
      lifecycle,
      playgroundDir,
      bodyLimit: '64kb',
      logError: (line) => faults.push(line),
    },
  );
  server = await listen(app);
});

afterAll(async () => {
  await server.close();
  await rm(playgroundDir, { recursive: true });
});

beforeEach(() => {
  lifecycle.draining = false;
  for (const e of [sudoku, maze, arc]) {
    e.setReady(true);
    e.failNext = null;
  }
  faults.length = 0;
});

describe('POST /solve', () => {
  it("solves a sudoku with the defaults: the model's 16 steps (64 while invalid), threshold 0.5, no trace, untilValid", async () => {
    const before = sudoku.received.length;
    const r = await server.post('/solve', { task: 'sudoku', grid: SUDOKU_PUZZLE });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    const body = json(r);
    expect(isSolveResponse(body), JSON.stringify(isSolveResponse.errors)).toBe(true);
    expect(body).toMatchObject({
      model: 'sudoku-small',
      task: 'sudoku',
      answer: SUDOKU_SOLUTION,
      givensRestored: 0,
      check: { valid: true },
      steps: 2,
      haltProbability: 0.75,
      halted: true,
    });
    expect(body.trace).toBeUndefined();
    expect(body.timing.totalMs).toBeGreaterThanOrEqual(body.timing.computeMs);
    expect(body.timing.computeMs).toBeGreaterThan(1); // two steps of 1 ms
    const sent = sudoku.received[before]!;
    expect({
      maxSteps: sent.maxSteps,
      settleFrom: sent.settleFrom,
      haltThreshold: sent.haltThreshold,
      trace: sent.trace,
    }).toEqual({
      maxSteps: 64,
      settleFrom: 16,
      haltThreshold: 0.5,
      trace: false,
    });
    expect(Array.from(sent.tokens.slice(0, 9))).toEqual([5, 4, 1, 10, 1, 1, 1, 1, 1]);
    expect(sent.puzzleEmb).toBeUndefined();
    expect(typeof sent.acceptAnswer).toBe('function');
  });

  it('passes maxSteps and haltThreshold through, and returns the trace of every step', async () => {
    const never = json(
      await server.post('/solve', { task: 'sudoku', grid: SUDOKU_PUZZLE, haltThreshold: 1, maxSteps: 5 }),
    );
    expect(never).toMatchObject({ steps: 5, halted: false, haltProbability: 1 - 0.5 ** 5 });
    const one = json(await server.post('/solve', { task: 'sudoku', grid: SUDOKU_PUZZLE, maxSteps: 1 }));
    expect(one).toMatchObject({ steps: 1, halted: false, haltProbability: 0.5 });
    const traced = json(
      await server.post('/solve', { task: 'sudoku', grid: SUDOKU_PUZZLE, haltThreshold: 0.8, trace: true }),
    );
    expect(isSolveResponse(traced)).toBe(true);
    expect(traced.steps).toBe(3);
    expect(traced.trace.map((t: StepEventBody) => [t.step, t.haltProbability])).toEqual([
      [1, 0.5],
      [2, 0.75],
      [3, 0.875],
    ]);
    expect(traced.trace.every((t: StepEventBody) => JSON.stringify(t.answer) === JSON.stringify(SUDOKU_SOLUTION))).toBe(
      true,
    );
  });

  it('solves a maze in the numeric cell form and echoes an ARC grid', async () => {
    const m = json(await server.post('/solve', { task: 'maze', model: 'maze-small', grid: MAZE_PUZZLE }));
    expect(m.answer).toEqual(MAZE_SOLUTION);
    expect(m.check).toEqual({ valid: true });
    expect(m.givensRestored).toBeUndefined();
    expect(m.answer.flat().filter((v: number) => v === 5).length).toBeGreaterThan(29);
    const a = json(await server.post('/solve', { task: 'arc', model: 'arc-small', grid: ARC_PUZZLE }));
    expect(isSolveResponse(a), JSON.stringify(isSolveResponse.errors)).toBe(true);
    expect(a).toMatchObject({
      model: 'arc-small',
      task: 'arc',
      answer: ARC_PUZZLE,
      check: { valid: null, reason: 'no rule check for ARC' },
    });
    // no rule check, so nothing for the engine to wait for
    expect(arc.received.at(-1)!.acceptAnswer).toBeUndefined();
  });

  it('looks an ARC puzzleId up in the puzzle table', async () => {
    const id = '007bbfb7|||t1|||0123456789';
    const ok = await server.post('/solve', { task: 'arc', model: 'arc-small', grid: ARC_PUZZLE, puzzleId: id });
    expect(ok.status).toBe(200);
    expect(Array.from(arc.received.at(-1)!.puzzleEmb!)).toEqual([0.25, -1, 3]);
    const unknown = await server.post('/solve', { task: 'arc', model: 'arc-small', grid: ARC_PUZZLE, puzzleId: 'x' });
    expectError(unknown, 404, 'puzzleId', /names no row/);
    // without a puzzleId, the row of identifier 0 ("<blank>"): the shared prefix of sudoku and maze models
    await server.post('/solve', { task: 'arc', model: 'arc-small', grid: ARC_PUZZLE });
    expect(Array.from(arc.received.at(-1)!.puzzleEmb!)).toEqual([0.5, 0.5, 0.5]);
    const proto = await server.post('/solve', {
      task: 'arc',
      model: 'arc-small',
      grid: ARC_PUZZLE,
      puzzleId: '__proto__',
    });
    expectError(proto, 404, 'puzzleId');
    const notArc = await server.post('/solve', { task: 'maze', model: 'maze-small', grid: MAZE_PUZZLE, puzzleId: id });
    expectError(notArc, 400, 'puzzleId', /ARC models only/);
    // an engine without puzzleRow (SolveEngine does not require it) has no table to look in
    const fake = new FakeEngine({ task: 'arc', name: 'bare' });
    const bare: SolveEngine = {
      info: fake.info,
      ready: () => fake.ready(),
      stats: () => fake.stats(),
      solve: (r) => fake.solve(r),
      drain: () => fake.drain(),
      refuseQueued: (reason) => fake.refuseQueued(reason),
      health: () => fake.health(),
    };
    const s = await listen(createApp(bare, { playgroundDir: null }));
    try {
      const r = await s.post('/solve', { task: 'arc', grid: ARC_PUZZLE, puzzleId: id });
      expectError(r, 404, 'puzzleId', 'model bare has no puzzle table to look puzzleId up in');
      expect((await s.post('/solve', { task: 'arc', grid: ARC_PUZZLE })).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it('picks the model by name, defaults to the first, and checks the task against it', async () => {
    expectError(
      await server.post('/solve', { task: 'sudoku', model: 'nope', grid: SUDOKU_PUZZLE }),
      404,
      'model',
      /"nope" is not loaded; loaded: "sudoku-small", "maze-small", "arc-small"/,
    );
    expectError(
      await server.post('/solve', { task: 'maze', grid: MAZE_PUZZLE }),
      400,
      'task',
      'task is "maze" but model sudoku-small solves sudoku',
    );
    expectError(await server.post('/solve', { task: 'sudoku', model: 'arc-small', grid: SUDOKU_PUZZLE }), 400, 'task');
  });

  it.each([
    ['a missing task', { grid: SUDOKU_PUZZLE }, 'task', 'task is required'],
    [
      'an unknown task',
      { task: 'chess', grid: SUDOKU_PUZZLE },
      'task',
      'task must be one of "sudoku", "maze", "arc" (got "chess")',
    ],
    ['a missing grid', { task: 'sudoku' }, 'grid', 'grid is required'],
    [
      'a grid that is not an array',
      { task: 'sudoku', grid: 'x'.repeat(100) },
      'grid',
      /grid must be an array \(got "x{60}\.\.\."\)/,
    ],
    [
      'a cell out of range',
      { task: 'sudoku', grid: SUDOKU_PUZZLE.map((row, r) => row.map((v, c) => (r === 3 && c === 4 ? 10 : v))) },
      'grid[3][4]',
      'grid[3][4] must be <= 9 (got 10)',
    ],
    [
      'a fractional cell',
      { task: 'sudoku', grid: SUDOKU_PUZZLE.map((row, r) => row.map((v, c) => (r === 8 && c === 0 ? 1.5 : v))) },
      'grid[8][0]',
      'grid[8][0] must be an integer (got 1.5)',
    ],
    ['a string cell', { task: 'sudoku', grid: [[1, '2']] }, 'grid[0][1]', 'grid[0][1] must be an integer (got "2")'],
    ['eight sudoku rows', { task: 'sudoku', grid: SUDOKU_PUZZLE.slice(1) }, 'grid', 'grid has 8 rows, expected 9'],
    [
      'a ragged sudoku',
      { task: 'sudoku', grid: SUDOKU_PUZZLE.map((row, r) => (r === 2 ? row.slice(1) : row)) },
      'grid',
      'grid row 2 has 8 cells, expected 9',
    ],
    [
      '31 rows',
      { task: 'arc', model: 'arc-small', grid: Array.from({ length: 31 }, () => [1]) },
      'grid',
      'grid must NOT have more than 30 items (got an array of 31)',
    ],
    [
      'an empty row',
      { task: 'arc', model: 'arc-small', grid: [[1], []] },
      'grid[1]',
      'grid[1] must NOT have fewer than 1 items',
    ],
    [
      'a ragged ARC grid',
      { task: 'arc', model: 'arc-small', grid: [[1, 2], [3]] },
      'grid',
      'grid row 1 has 1 cells, expected 2',
    ],
    [
      'a maze cell 0',
      {
        task: 'maze',
        model: 'maze-small',
        grid: MAZE_PUZZLE.map((row, r) => row.map((v, c) => (r === 29 && c === 29 ? 0 : v))),
      },
      'grid[29][29]',
      'grid[29][29] must be an integer 1..5 (got 0)',
    ],
    ['maxSteps 0', { task: 'sudoku', grid: SUDOKU_PUZZLE, maxSteps: 0 }, 'maxSteps', 'maxSteps must be >= 1 (got 0)'],
    [
      'maxSteps 65',
      { task: 'sudoku', grid: SUDOKU_PUZZLE, maxSteps: 65 },
      'maxSteps',
      'maxSteps must be <= 64 (got 65)',
    ],
    [
      'maxSteps "3"',
      { task: 'sudoku', grid: SUDOKU_PUZZLE, maxSteps: '3' },
      'maxSteps',
      'maxSteps must be an integer (got "3")',
    ],
    [
      'haltThreshold 1.5',
      { task: 'sudoku', grid: SUDOKU_PUZZLE, haltThreshold: 1.5 },
      'haltThreshold',
      'haltThreshold must be <= 1 (got 1.5)',
    ],
    [
      'haltThreshold null',
      { task: 'sudoku', grid: SUDOKU_PUZZLE, haltThreshold: null },
      'haltThreshold',
      'haltThreshold must be a number (got null)',
    ],
    [
      'trace "yes"',
      { task: 'sudoku', grid: SUDOKU_PUZZLE, trace: 'yes' },
      'trace',
      'trace must be a boolean (got "yes")',
    ],
    [
      'an empty model name',
      { task: 'sudoku', grid: SUDOKU_PUZZLE, model: '' },
      'model',
      'model must NOT have fewer than 1 characters',
    ],
    [
      'an unknown field',
      { task: 'sudoku', grid: SUDOKU_PUZZLE, steps: 3 },
      'steps',
      'steps is not a known field (known: task, grid, model, maxSteps, haltThreshold, trace, untilValid, views, puzzleId)',
    ],
    [
      'a key that is not an identifier',
      { task: 'sudoku', grid: SUDOKU_PUZZLE, 'max steps': 3 },
      '["max steps"]',
      /^\["max steps"\] is not a known field/,
    ],
  ])('answers 400 naming the field for %s', async (_what, body, field, words) => {
    expectError(await server.post('/solve', body), 400, field, words);
  });

  it('refuses prototype-pollution keys as unknown fields and stays intact', async () => {
    const text = `{"task":"sudoku","grid":${JSON.stringify(SUDOKU_PUZZLE)},"__proto__":{"polluted":true}}`;
    expectError(await server.post('/solve', text), 400, '__proto__', /is not a known field/);
    const ctor = `{"task":"sudoku","grid":${JSON.stringify(SUDOKU_PUZZLE)},"constructor":{"prototype":{"polluted":true}}}`;
    expectError(await server.post('/solve', ctor), 400, 'constructor');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('answers bad JSON, a top-level array and an empty body with 400 and no field', async () => {
    expectError(await server.post('/solve', '{"task": "sudoku",'), 400, undefined, /^the body is not valid JSON/);
    expectError(await server.post('/solve', '"sudoku"'), 400, undefined, /^the body is not valid JSON/);
    expectError(
      await server.post('/solve', '[1, 2]'),
      400,
      undefined,
      'the body must be a JSON object (got an array of 2)',
    );
    expectError(await server.post('/solve', ''), 400, 'task', 'task is required');
  });

  it('answers a body that is not UTF-8 with 400 naming the first bad byte, also gzipped; accepts any valid UTF-8', async () => {
    const postBytes = (path: string, body: Buffer) =>
      server.send(path, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    const text = JSON.stringify({ task: 'sudoku', grid: SUDOKU_PUZZLE, model: 'sudoku-small' });
    const at = text.indexOf('sudoku-small') + 6;
    // a model name with a lone continuation byte, then with a truncated 3-byte sequence at the very end
    const bad = Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from([0x80]), Buffer.from(text.slice(at))]);
    const r = await postBytes('/solve', bad);
    expectError(
      r,
      400,
      undefined,
      `the body is not valid UTF-8: byte ${at} starts a malformed sequence (80 2d 73 6d); send JSON as UTF-8`,
    );
    expectError(await postBytes('/solve/stream', Buffer.from([0x7b, 0xe2, 0x82])), 400, undefined, /byte 1 /);
    const gz = await server.send('/solve', {
      method: 'POST',
      body: gzipSync(bad),
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    });
    expectError(gz, 400, undefined, /not valid UTF-8/);
    // overlong forms and surrogates are not UTF-8 either
    expectError(await postBytes('/solve', Buffer.from([0x22, 0xc0, 0xaf, 0x22])), 400, undefined, /byte 1 /);
    expectError(await postBytes('/solve', Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22])), 400, undefined, /byte 1 /);
    // multi-byte characters that are valid reach the validator (an unknown model name here)
    const valid = await server.post('/solve', { task: 'sudoku', grid: SUDOKU_PUZZLE, model: 'é€😀' });
    expectError(valid, 404, 'model', /"é€😀" is not loaded/);
  });

  it('answers a wrong Content-Type, charset or encoding with 415', async () => {
    const body = JSON.stringify({ task: 'sudoku', grid: SUDOKU_PUZZLE });
    expectError(
      await server.send('/solve', { method: 'POST', body, headers: { 'content-type': 'text/plain' } }),
      415,
      undefined,
      'Content-Type must be application/json (got "text/plain")',
    );
    expectError(await server.send('/solve', { method: 'POST', body }), 415, undefined, /\(got none\)/);
    expectError(
      await server.post('/solve', body, { 'content-type': 'application/json; charset=latin1' }),
      415,
      undefined,
      /utf-8/,
    );
    expectError(
      await server.post('/solve', body, { 'content-encoding': 'compress' }),
      415,
      undefined,
      /gzip, deflate or br/,
    );
    expectError(await server.post('/solve', body, { 'content-encoding': 'gzip' }), 400, undefined);
    const vendor = await server.post('/solve', body, { 'content-type': 'application/vnd.trm+json; charset=utf-8' });
    expect(vendor.status).toBe(200);
    const gzipped = await server.send('/solve', {
      method: 'POST',
      body: gzipSync(body),
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    });
    expect(json(gzipped).answer).toEqual(SUDOKU_SOLUTION);
  });

  it('answers a body over the limit with 413, also when it arrives gzipped', async () => {
    const big = JSON.stringify({ task: 'sudoku', grid: SUDOKU_PUZZLE, model: 'x'.repeat(70_000) });
    expectError(await server.post('/solve', big), 413, undefined, 'the body is larger than the limit of 64kb');
    const bomb = gzipSync(`{"task":"sudoku","model":"${'a'.repeat(1_000_000)}"}`);
    expect(bomb.length).toBeLessThan(10_000);
    const r = await server.send('/solve', {
      method: 'POST',
      body: bomb,
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    });
    expectError(r, 413, undefined);
  });

  it('maps engine errors: queue full 429 and unavailable 503 with Retry-After, a refused request 400, a failure 500', async () => {
    sudoku.failNext = { error: new QueueFullError(3) };
    const full = await server.post('/solve', { task: 'sudoku', grid: SUDOKU_PUZZLE });
    expectError(full, 429, undefined, 'the queue is full (3 puzzles waiting); retry later');
    expect(full.headers['retry-after']).toBe('1');
    sudoku.failNext = { error: new EngineUnavailableError('worker 0 exited') };
    const gone = await server.post('/solve', { task: 'sudoku', grid: SUDOKU_PUZZLE });
    expectError(gone, 503, undefined, 'worker 0 exited');
    expect(gone.headers['retry-after']).toBe('1');
    sudoku.failNext = { error: new SolveRequestError('tokens[3] = 11 is outside the vocabulary 0..10', 'tokens') };
    expectError(
      await server.post('/solve', { task: 'sudoku', grid: SUDOKU_PUZZLE }),
      400,
      undefined,
      'the model cannot take this request: tokens[3] = 11 is outside the vocabulary 0..10',
    );
    expect(faults).toEqual([]);
    sudoku.failNext = { error: new RangeError('tensor shape mismatch') };
    expectError(
      await server.post('/solve', { task: 'sudoku', grid: SUDOKU_PUZZLE }),
      500,
      undefined,
      'the engine failed: tensor shape mismatch',
    );
    expect(faults).toHaveLength(1);
    expect(faults[0]).toMatch(/^500 the engine failed: tensor shape mismatch: RangeError/);
  });

  it('answers 503 when the model is not ready, after validating the body', async () => {
    sudoku.setReady(false);
    expectError(await server.post('/solve', { task: 'sudoku', grid: [[1]] }), 400, 'grid');
    const r = await server.post('/solve', { task: 'sudoku', grid: SUDOKU_PUZZLE });
    expectError(r, 503, undefined, 'model sudoku-small is not ready: the model is loading');
    expect(r.headers['retry-after']).toBe('1');
    // the engine's own words on why, not a guess
    sudoku.setReady(false, 'inference worker 0 is being replaced (exit code 1)');
    const replacing = await server.post('/solve', { task: 'sudoku', grid: SUDOKU_PUZZLE });
    expectError(replacing, 503, undefined, 'model sudoku-small is not ready: inference worker 0 is being replaced');
  });

  it('answers 503 with Connection: close while draining', async () => {
    lifecycle.draining = true;
    const r = await server.post('/solve', { task: 'sudoku', grid: SUDOKU_PUZZLE });
    expectError(r, 503, undefined, /shutting down/);
    expect(r.headers.connection).toBe('close');
  });
});

describe('POST /solve/stream', () => {
  it('sends a step event per supervision step, then done with the /solve body', async () => {
    const r = await server.post('/solve/stream', { task: 'sudoku', grid: SUDOKU_PUZZLE, haltThreshold: 0.9 });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(r.headers['cache-control']).toBe('no-cache, no-transform');
    expect(r.text).toMatch(/^event: step\ndata: \{"step":1,/);
    const events = parseEventStream(r.text);
    expect(events.map((e) => e.event)).toEqual(['step', 'step', 'step', 'step', 'done']);
    const steps = events.slice(0, 4).map((e) => JSON.parse(e.data));
    expect(steps.every((s) => isStepEvent(s))).toBe(true);
    expect(steps.map((s) => s.step)).toEqual([1, 2, 3, 4]);
    expect(steps.map((s) => s.haltProbability)).toEqual([0.5, 0.75, 0.875, 0.9375]);
    const done = JSON.parse(events[4]!.data);
    expect(isSolveResponse(done)).toBe(true);
    expect(done).toMatchObject({
      model: 'sudoku-small',
      answer: SUDOKU_SOLUTION,
      check: { valid: true },
      steps: 4,
      halted: true,
    });
    expect(steps.map((s) => s.check)).toEqual(steps.map(() => ({ valid: true })));
  });

  it('answers validation errors and a full queue before the first event as plain JSON', async () => {
    expectError(await server.post('/solve/stream', { task: 'sudoku', grid: [[1]] }), 400, 'grid');
    expectError(await server.send('/solve/stream', { method: 'POST', body: '{}' }), 415, undefined);
    sudoku.failNext = { error: new QueueFullError(1) };
    const full = await server.post('/solve/stream', { task: 'sudoku', grid: SUDOKU_PUZZLE });
    expectError(full, 429, undefined, /queue is full/);
    expect(full.headers['retry-after']).toBe('1');
  });

  it('ends with an error event when the engine fails after the stream started', async () => {
    sudoku.failNext = { error: new EngineUnavailableError('worker 1 exited'), afterSteps: 2 };
    const r = await server.post('/solve/stream', { task: 'sudoku', grid: SUDOKU_PUZZLE, haltThreshold: 1 });
    expect(r.status).toBe(200);
    const events = parseEventStream(r.text);
    expect(events.map((e) => e.event)).toEqual(['step', 'step', 'error']);
    expect(JSON.parse(events[2]!.data)).toEqual({ error: { status: 503, message: 'worker 1 exited' } });
  });

  it('aborts the puzzle when the client goes away', async () => {
    const slow = new FakeEngine({ task: 'sudoku', name: 'slow', stepDelayMs: 30, slots: 1 });
    const s = await listen(createApp(slow, { playgroundDir: null }));
    try {
      const body = JSON.stringify({ task: 'sudoku', grid: SUDOKU_PUZZLE, haltThreshold: 1 });
      const headers = { 'content-type': 'application/json' };
      // the first holds the only slot, the second waits in the queue; both clients leave after 100 ms
      const first = s.send('/solve/stream', { method: 'POST', body, headers, abortAfterMs: 100 });
      const second = s.send('/solve', { method: 'POST', body, headers, abortAfterMs: 100 });
      await new Promise((r) => setTimeout(r, 50));
      expect(slow.stats()).toEqual({ queueDepth: 1, activeSlots: 1, totalSlots: 1 });
      await expect(first).rejects.toThrow();
      await expect(second).rejects.toThrow();
      await new Promise((r) => setTimeout(r, 80));
      expect(slow.received.map((r) => r.signal?.aborted)).toEqual([true, true]);
      expect(slow.stats()).toEqual({ queueDepth: 0, activeSlots: 0, totalSlots: 1 });
    } finally {
      await s.close();
    }
  });
});

describe('the other endpoints', () => {
  it('GET /models lists every model with its engine info', async () => {
    const r = await server.send('/models');
    expect(r.status).toBe(200);
    const body = json(r);
    expect(isModels(body), JSON.stringify(isModels.errors)).toBe(true);
    expect(body.models.map((m: ModelSummary) => [m.name, m.task, m.ready, m.executionProvider])).toEqual([
      ['sudoku-small', 'sudoku', true, 'cpu'],
      ['maze-small', 'maze', true, 'cpu'],
      ['arc-small', 'arc', true, 'cpu'],
    ]);
    expect(body.models[1].config.seq_len).toBe(900);
  });

  it('GET /models shows no absolute path of this machine in providerNotes', async () => {
    const bin =
      '/srv/trm/node_modules/.pnpm/onnxruntime-node@1.29.0/node_modules/onnxruntime-node/bin/napi-v6/linux/x64';
    const engine = new FakeEngine({
      providerNotes: [
        `cuda: the CUDA provider is not installed (libonnxruntime_providers_cuda.so missing in ${bin}); install it`,
        `webgpu: failed to start: Failed to load library ${bin}/libonnxruntime_providers_shared.so with error: x`,
        'cpu: model /home/alice/models/sudoku/model.onnx runs with 2 thread(s)',
      ],
    });
    const s = await listen(createApp(engine, { playgroundDir: null }));
    try {
      const body = json(await s.send('/models'));
      expect(isModels(body), JSON.stringify(isModels.errors)).toBe(true);
      expect(body.models[0].providerNotes).toEqual([
        'cuda: the CUDA provider is not installed (libonnxruntime_providers_cuda.so missing in onnxruntime-node/bin/napi-v6/linux/x64); install it',
        'webgpu: failed to start: Failed to load library onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_shared.so with error: x',
        'cpu: model model.onnx runs with 2 thread(s)',
      ]);
      expect(JSON.stringify(body)).not.toMatch(/\/srv\/|\/home\//);
    } finally {
      await s.close();
    }
  });

  it('GET /healthz is 200 even when nothing is ready; GET /readyz follows readiness and draining', async () => {
    sudoku.setReady(false);
    expect((await server.send('/healthz')).status).toBe(200);
    const notReady = await server.send('/readyz');
    expect(notReady.status).toBe(503);
    expect(json(notReady)).toEqual({
      ready: false,
      draining: false,
      models: { 'sudoku-small': false, 'maze-small': true, 'arc-small': true },
      problems: { 'sudoku-small': 'the model is loading' },
    });
    sudoku.setReady(true);
    expect((await server.send('/readyz')).status).toBe(200);
    lifecycle.draining = true;
    const draining = await server.send('/readyz');
    expect(draining.status).toBe(503);
    expect(json(draining).draining).toBe(true);
  });

  it('GET /healthz is 503 with the reason once an engine cannot repair itself; /readyz and /solve say why', async () => {
    const why = 'inference worker 0 could not be restarted (5 attempts in a row failed, still trying): no model.onnx';
    sudoku.setReady(false, why);
    sudoku.setBroken(why);
    try {
      const health = await server.send('/healthz');
      expect(health.status).toBe(503);
      expect(json(health)).toEqual({ status: 'failing', models: { 'sudoku-small': why } });
      const ready = await server.send('/readyz');
      expect(ready.status).toBe(503);
      expect(json(ready).problems).toEqual({ 'sudoku-small': why });
      const solve = await server.post('/solve', { task: 'sudoku', grid: SUDOKU_PUZZLE });
      expectError(solve, 503, undefined, `model sudoku-small is not ready: ${why}`);
      // another model is still served
      expect((await server.post('/solve', { task: 'maze', model: 'maze-small', grid: MAZE_PUZZLE })).status).toBe(200);
    } finally {
      sudoku.setBroken(null);
    }
    sudoku.setReady(true);
    expect(json(await server.send('/healthz'))).toEqual({ status: 'ok' });
    expect(json(await server.send('/readyz'))).toEqual({
      ready: true,
      draining: false,
      models: { 'sudoku-small': true, 'maze-small': true, 'arc-small': true },
      problems: {},
    });
  });

  it('refuses a Host that is not localhost, an IP address or an allowed name with 403 (DNS rebinding)', async () => {
    const withHost = (host: string, path = '/models') => server.send(path, { headers: { host } });
    for (const host of [`localhost:${server.port}`, 'LOCALHOST.', 'app.localhost', '127.0.0.1', '10.1.2.3:80'])
      expect((await withHost(host)).status, host).toBe(200);
    expect((await withHost(`[::1]:${server.port}`)).status).toBe(200);
    expect((await withHost('[fd00::7]')).status).toBe(200);
    const evil = await withHost(`rebind.attacker.example:${server.port}`);
    expectError(evil, 403, undefined, /^Host "rebind\.attacker\.example:\d+" is not a name this server answers to/);
    expect(json(evil).error.message).toContain('--allowed-hosts');
    // every route, solving included
    expectError(await withHost('127.0.0.1.attacker.example', '/healthz'), 403, undefined);
    const solve = await server.send('/solve', {
      method: 'POST',
      headers: { host: 'attacker.example', 'content-type': 'application/json' },
      body: JSON.stringify({ task: 'sudoku', grid: SUDOKU_PUZZLE }),
    });
    expectError(solve, 403, undefined);
    // names an operator allows: exact, or a domain with its subdomains; * for any
    const app = createApp(new FakeEngine(), { playgroundDir: null, allowedHosts: ['trm.example.com', '.lan'] });
    const s = await listen(app);
    try {
      const status = async (host: string) => (await s.send('/healthz', { headers: { host } })).status;
      expect(await status('trm.example.com:8080')).toBe(200);
      expect(await status('lan')).toBe(200);
      expect(await status('gpu1.lan')).toBe(200);
      expect(await status('other.example.com')).toBe(403);
      expect(await status('evil-lan')).toBe(403);
    } finally {
      await s.close();
    }
    const any = await listen(createApp(new FakeEngine(), { playgroundDir: null, allowedHosts: ['*'] }));
    try {
      expect((await any.send('/healthz', { headers: { host: 'anything.example' } })).status).toBe(200);
    } finally {
      await any.close();
    }
  });

  it('GET /metrics counts requests by route and status, steps, and reads the engine gauges', async () => {
    const app = createApp(new FakeEngine({ task: 'sudoku', name: 'm' }), { playgroundDir: null });
    const s = await listen(app);
    try {
      for (let i = 0; i < 3; i++) await s.post('/solve', { task: 'sudoku', grid: SUDOKU_PUZZLE, maxSteps: 1 });
      await s.post('/solve', { task: 'sudoku', grid: SUDOKU_PUZZLE });
      await s.post('/solve', { task: 'sudoku', grid: [[1]] });
      await s.send('/no/such/path');
      await s.send('/another');
      const r = await s.send('/metrics');
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
      const lines = r.text.split('\n');
      expect(lines).toContain('trm_http_requests_total{route="/solve",method="POST",status="200"} 4');
      expect(lines).toContain('trm_http_requests_total{route="/solve",method="POST",status="400"} 1');
      expect(lines).toContain('trm_http_requests_total{route="unmatched",method="GET",status="404"} 2');
      expect(lines).toContain('trm_http_request_duration_seconds_count{route="/solve"} 5');
      expect(lines).toContain('trm_solve_steps_bucket{le="1",model="m"} 3');
      expect(lines).toContain('trm_solve_steps_bucket{le="2",model="m"} 4');
      expect(lines).toContain('trm_solve_steps_sum{model="m"} 5');
      expect(lines).toContain('trm_engine_total_slots{model="m"} 8');
      expect(lines).toContain('trm_engine_active_slots{model="m"} 0');
      expect(lines).toContain('trm_engine_batch_occupancy{model="m"} 0');
      expect(lines).toContain('trm_engine_queue_depth{model="m"} 0');
      expect(lines).toContain('trm_engine_ready{model="m"} 1');
      expect(lines).toContain('# TYPE trm_solve_steps histogram');
    } finally {
      await s.close();
    }
  });

  it('GET /openapi.json is an OpenAPI 3.1 document built from the validating schemas', async () => {
    const r = await server.send('/openapi.json');
    expect(r.status).toBe(200);
    const doc = json(r);
    expect(doc).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual(
      ['/healthz', '/metrics', '/models', '/openapi.json', '/readyz', '/solve', '/solve/stream'].sort(),
    );
    expect(doc.components.schemas.SolveRequest).toEqual(JSON.parse(JSON.stringify(solveRequestSchema)));
    expect(Object.keys(doc.paths['/solve'].post.responses)).toEqual(['200', '400', '404', '413', '415', '429', '503']);
    // every component schema compiles as JSON Schema 2020-12 (OpenAPI 3.1's dialect)
    const strict = new Ajv2020({ strict: true });
    for (const schema of Object.values(doc.components.schemas))
      expect(() => strict.compile(schema as object)).not.toThrow();
  });

  it('serves the package playground at / by default', async () => {
    const s = await listen(createApp(new FakeEngine()));
    try {
      const page = await s.send('/');
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.text).toMatch(/<html/i);
      // no sniffing, and a policy that runs the page's own files only
      expect(page.headers['x-content-type-options']).toBe('nosniff');
      expect(page.headers['content-security-policy']).toBe(PLAYGROUND_CSP);
      expect(PLAYGROUND_CSP).toMatch(/default-src 'none'; script-src 'self';.*frame-ancestors 'none'/);
      const api = await s.send('/models');
      expect(api.headers['x-content-type-options']).toBe('nosniff');
      expect(api.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
      const missing = await s.send('/no-such-file.js');
      expect(missing.status).toBe(404);
      expect(missing.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
      const script = await s.send('/server-api.js');
      expect(script.headers['content-type']).toMatch(/^(text|application)\/javascript/);
      expect(script.text).toContain('/solve/stream');
    } finally {
      await s.close();
    }
  });

  it('serves the playground at / and answers 404, 405 and OPTIONS as JSON', async () => {
    const page = await server.send('/');
    expect(page.status).toBe(200);
    expect(page.text).toContain('TRM playground');
    expectError(
      await server.send('/nothing-here'),
      404,
      undefined,
      'no route GET /nothing-here; see GET /openapi.json',
    );
    expectError(
      await server.send('/solve', { method: 'PUT', body: '{}' }),
      405,
      undefined,
      'PUT is not allowed on /solve; use POST',
    );
    const get = await server.send('/solve');
    expectError(get, 405, undefined);
    expect(get.headers.allow).toBe('POST');
    const del = await server.send('/models', { method: 'DELETE' });
    expectError(del, 405, undefined);
    expect(del.headers.allow).toBe('GET, HEAD');
    expectError(await server.send('/', { method: 'POST', body: '' }), 405, undefined);
    const options = await server.send('/solve/stream', { method: 'OPTIONS' });
    expect(options.status).toBe(204);
    expect(options.headers.allow).toBe('POST');
  });
});
