// Load test with autocannon over loopback: 64 concurrent connections for TRM_LOAD_SECONDS (default 30; e.g. 5 for
// a quick local run). Zero errors, timeouts or non-2xx answers are allowed, and every answer is checked against
// the expected answer of the puzzle it was sent for.
// - default: the shipped models/sudoku-small-mlp on the ONNX engine (CPU provider; TRM_LOAD_MODEL=<model folder>
//   and TRM_LOAD_EP=auto|cuda|webgpu|cpu choose others); expected = the answer the same server gives the puzzle
//   alone, so the check is that batching under load changes no answer.
// - TRM_LOAD_MODEL=fake: the fake engine (64 batch slots, 2 ms per supervision step); expected = the true solution,
//   which isolates the HTTP layer.
import { join, resolve } from 'node:path';
import { generateSudoku, parseSudokuString, Rng } from '@trm/core';
import autocannon from 'autocannon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../engine/engine.js';
import type { ExecutionProviderChoice, SolveEngine } from '../engine/types.js';
import { FakeEngine } from '../testing/fake-engine.js';
import { type RunningServer, serve } from './server.js';

const SECONDS = Number(process.env.TRM_LOAD_SECONDS ?? 30);
const REPO_ROOT = resolve(import.meta.dirname, '../../../..');
const MODEL_DIR =
  process.env.TRM_LOAD_MODEL === 'fake'
    ? undefined
    : resolve(
        process.env.INIT_CWD ?? process.cwd(),
        process.env.TRM_LOAD_MODEL ?? join(REPO_ROOT, 'models/sudoku-small-mlp'),
      );
const CONNECTIONS = 64;
const PUZZLES = 200;

let server: RunningServer;
let engine: SolveEngine;

beforeAll(async () => {
  engine = MODEL_DIR
    ? await Engine.start({
        modelDir: MODEL_DIR,
        executionProvider: (process.env.TRM_LOAD_EP ?? 'cpu') as ExecutionProviderChoice,
      })
    : new FakeEngine({ task: 'sudoku', name: 'sudoku', slots: 64, maxQueue: 4 * CONNECTIONS, stepDelayMs: 2 });
  server = await serve(engine, { port: 0, signals: [], playgroundDir: null, info: () => {} });
}, 120_000);

afterAll(async () => {
  await server?.shutdown('test over');
});

async function expectedAnswers(puzzles: { question: string; answer: string }[], bodies: string[]): Promise<string[]> {
  if (!MODEL_DIR) return puzzles.map((p) => JSON.stringify(parseSudokuString(p.answer)));
  const answers: string[] = [];
  for (const body of bodies) {
    const r = await fetch(`${server.url}/solve`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(r.status).toBe(200);
    answers.push(JSON.stringify(((await r.json()) as { answer: unknown }).answer));
  }
  return answers;
}

describe(`load: ${CONNECTIONS} connections for ${SECONDS} s`, () => {
  it('answers every request correctly with no errors', { timeout: (SECONDS + 120) * 1000 }, async () => {
    const rng = new Rng(7);
    // 61-71 givens: the shipped sudoku model's domain (the fake engine solves any)
    const puzzles = Array.from({ length: PUZZLES }, () => generateSudoku(rng, { givens: [61, 71] }));
    const bodies = puzzles.map((p) => JSON.stringify({ task: 'sudoku', grid: parseSudokuString(p.question) }));
    const expected = await expectedAnswers(puzzles, bodies);
    let sent = 0;
    let checked = 0;
    let mismatches = 0;
    const wrong: string[] = [];
    const result = await autocannon({
      url: server.url,
      connections: CONNECTIONS,
      duration: SECONDS,
      timeout: 10,
      requests: [
        {
          method: 'POST',
          path: '/solve',
          headers: { 'content-type': 'application/json' },
          // each connection sends one request at a time, so its context belongs to the request in flight
          setupRequest: (request, context) => {
            const i = sent++ % PUZZLES;
            context.puzzle = i;
            return { ...request, body: bodies[i] };
          },
          onResponse: (status, body, context) => {
            const i = context.puzzle as number;
            if (status !== 200) return;
            checked++;
            const answer = JSON.stringify((JSON.parse(body) as { answer: unknown }).answer);
            if (answer === expected[i]) return;
            mismatches++;
            if (wrong.length < 5) wrong.push(`puzzle ${i}: ${body.slice(0, 200)}`);
          },
        },
      ],
    });
    const rps = result.requests.total / SECONDS;
    console.log(
      `load (${MODEL_DIR ? `${engine.info.name} on ${engine.info.executionProvider}` : 'fake engine'}): ` +
        `${result.requests.total} requests in ${SECONDS} s (${rps.toFixed(0)}/s), latency p50 ${result.latency.p50} ms, ` +
        `p99 ${result.latency.p99} ms, max ${result.latency.max} ms; errors ${result.errors}, timeouts ${result.timeouts}, ` +
        `non-2xx ${result.non2xx}, wrong answers ${mismatches}`,
    );
    expect({ errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx, wrong }).toEqual({
      errors: 0,
      timeouts: 0,
      non2xx: 0,
      wrong: [],
    });
    expect(result['2xx']).toBe(result.requests.total);
    expect(checked).toBe(result['2xx']);
    // far more than 50 answers a second even on 2 busy cores (the fake: 2 supervision steps of 2 ms, 64 at once)
    expect(rps).toBeGreaterThan(50);
    // autocannon closes its connections with requests still in flight: those puzzles are aborted and free their slots
    for (let i = 0; i < 200 && engine.stats().activeSlots + engine.stats().queueDepth > 0; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(engine.stats()).toMatchObject({ queueDepth: 0, activeSlots: 0 });
  });
});
