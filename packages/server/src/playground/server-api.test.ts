// The page's HTTP client (public/server-api.js) against the real HTTP app (createApp) on a fake engine whose
// steps are deterministic: models are listed, steps arrive before done, aborting stops the request, and every
// failure becomes a ServerError whose message says what happened.
import { generateSudoku, Rng } from '@trm/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../http/app.js';
import { FakeEngine } from '../testing/fake-engine.js';
import { listen, type TestServer } from '../testing/client.js';
import { describeServerError, fetchModels, ServerError, solveStream, type StepEvent } from './public/server-api.js';
import { parseGridText } from './public/tasks.js';

const MODEL = 'sudoku-fake';
/** P(halt) after step k: sigmoid(2k - 7), which first exceeds 0.5 at step 4. */
const haltProbability = (step: number) => 1 / (1 + Math.exp(-(2 * step - 7)));

let server: TestServer;
const engine = new FakeEngine({ name: MODEL, stepDelayMs: 20, haltProbability });
const { question, answer } = generateSudoku(new Rng(11), { givens: 40 });
const grid = parseGridText('sudoku', question);
const solution = parseGridText('sudoku', answer);

beforeAll(async () => {
  server = await listen(createApp(engine, { playgroundDir: null }));
});
afterAll(async () => {
  await server.close();
  await engine.drain();
});

async function rejection(promise: Promise<unknown>): Promise<ServerError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ServerError);
  return err as ServerError;
}

describe('fetchModels', () => {
  it('lists the served models', async () => {
    const models = await fetchModels(server.url);
    expect(models.map((m) => [m.name, m.task, m.executionProvider])).toEqual([[MODEL, 'sudoku', 'cpu']]);
  });

  it('says so when the server cannot be reached', async () => {
    const err = await rejection(fetchModels('http://127.0.0.1:9'));
    expect(err.status).toBe(0);
    expect(err.message).toMatch(/^Could not reach the server to list its models/);
  });
});

describe('solveStream', () => {
  it('reports every step, then resolves with done', async () => {
    const steps: StepEvent[] = [];
    const done = await solveStream(
      { task: 'sudoku', grid, maxSteps: 8, haltThreshold: 0.5 },
      { baseUrl: server.url, onStep: (s) => steps.push(s) },
    );
    expect(steps.map((s) => s.step)).toEqual([1, 2, 3, 4]);
    expect(steps.map((s) => s.haltProbability)).toEqual([1, 2, 3, 4].map(haltProbability));
    expect(done).toMatchObject({ steps: 4, halted: true, answer: solution, model: MODEL, task: 'sudoku' });
    expect(done.haltProbability).toBeCloseTo(1 / (1 + Math.exp(-1)), 12);
    expect(steps[3]!.answer).toEqual(done.answer);
  });

  it('stops at maxSteps without halting', async () => {
    const done = await solveStream({ task: 'sudoku', grid, maxSteps: 2, haltThreshold: 0.5 }, { baseUrl: server.url });
    expect(done.steps).toBe(2);
    expect(done.halted).toBe(false);
    expect(done.haltProbability).toBeCloseTo(haltProbability(2), 12);
  });

  it('turns a rejected request into words that name the field', async () => {
    const bad = grid.map((r) => r.slice());
    bad[2]![3] = 12;
    const err = await rejection(solveStream({ task: 'sudoku', grid: bad }, { baseUrl: server.url }));
    expect(err.status).toBe(400);
    expect(err.field).toBe('grid[2][3]');
    expect(err.message).toMatch(/^The server rejected the request: .*grid\[2\]\[3\]/);
    const task = await rejection(solveStream({ task: 'maze', grid }, { baseUrl: server.url }));
    expect(task.status).toBe(400);
    expect(task.field).toBe('task');
    expect(task.message).toBe(`The server rejected the request: task is "maze" but model ${MODEL} solves sudoku`);
    const model = await rejection(solveStream({ task: 'sudoku', grid, model: 'nope' }, { baseUrl: server.url }));
    expect(model.status).toBe(404);
    expect(model.field).toBe('model');
  });

  it('ends with an AbortError when aborted mid-stream', async () => {
    const controller = new AbortController();
    const steps: number[] = [];
    const err = await solveStream(
      { task: 'sudoku', grid, maxSteps: 8, haltThreshold: 1 },
      {
        baseUrl: server.url,
        signal: controller.signal,
        onStep: (s) => {
          steps.push(s.step);
          if (s.step === 2) controller.abort();
        },
      },
    ).catch((e: unknown) => e);
    expect((err as Error).name).toBe('AbortError');
    expect(steps).toEqual([1, 2]);
  });
});

describe('describeServerError', () => {
  it('says what a full queue, an unavailable server and a server fault mean', () => {
    expect(describeServerError(429, { status: 429, message: 'the queue is full (64 puzzles waiting)' })).toBe(
      "The server's queue is full, so it did not take this puzzle. Wait a moment and press Solve again. " +
        'The server said: the queue is full (64 puzzles waiting)',
    );
    expect(describeServerError(503)).toBe(
      'The server is not taking puzzles right now (it is starting up or shutting down). Try again in a few seconds.',
    );
    expect(describeServerError(500, { message: 'worker exited' })).toBe(
      'The server failed (HTTP 500). The server said: worker exited',
    );
    expect(describeServerError(400, { message: 'grid[0][0] must be 0..9', field: 'grid[0][0]' })).toBe(
      'The server rejected the request: grid[0][0] must be 0..9',
    );
    expect(describeServerError(400, { message: 'must be an integer', field: 'maxSteps' })).toBe(
      'The server rejected the request: must be an integer (field "maxSteps")',
    );
  });
});
