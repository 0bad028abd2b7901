// The HTTP layer over the real ONNX engine: the shipped sudoku model (models/sudoku-small-mlp, model.onnx from the
// exporter) on the CPU provider behind createApp, answering POST /solve and /solve/stream like the model card says.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { generateSudoku, parseSudokuString, Rng } from '@trm/core';
import { createApp, Engine } from '@trm/server';
import { listen, parseEventStream, type TestServer } from '@trm/server/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const MODEL_DIR = fileURLToPath(new URL('../models/sudoku-small-mlp', import.meta.url));

let engine: Engine;
let server: TestServer;

beforeAll(async () => {
  engine = await Engine.start({ modelDir: MODEL_DIR, executionProvider: 'cpu', maxBatch: 16 });
  server = await listen(createApp(engine, { playgroundDir: null }));
}, 120_000);

afterAll(async () => {
  await server?.close();
  await engine?.drain();
});

describe('the server on the shipped sudoku model (CPU)', () => {
  it('describes the model on GET /models', async () => {
    const { models } = JSON.parse((await server.send('/models')).text);
    const config = JSON.parse(await readFile(`${MODEL_DIR}/config.json`, 'utf8'));
    expect(models).toHaveLength(1);
    expect(models[0]).toMatchObject({
      name: 'sudoku-small-mlp',
      task: 'sudoku',
      ready: true,
      executionProvider: 'cpu',
    });
    expect(models[0].config).toEqual(config);
  });

  it('solves easy sudoku as the model card says (99.4 % exact with early halting)', async () => {
    const rng = new Rng(12345);
    const puzzles = Array.from({ length: 40 }, () => generateSudoku(rng, { givens: [61, 71] }));
    const answers = await Promise.all(
      puzzles.map((p) => server.post('/solve', { task: 'sudoku', grid: parseSudokuString(p.question) })),
    );
    expect(answers.map((a) => a.status)).toEqual(puzzles.map(() => 200));
    const bodies = answers.map((a) => JSON.parse(a.text));
    const exact = bodies.filter(
      (b, i) => JSON.stringify(b.answer) === JSON.stringify(parseSudokuString(puzzles[i]!.answer)),
    );
    expect(exact.length).toBeGreaterThanOrEqual(38);
    // the card: the halt head stops after the first step on this data
    expect(bodies.filter((b) => b.halted && b.steps === 1).length).toBeGreaterThanOrEqual(38);
    expect(bodies.every((b) => b.haltProbability >= 0 && b.haltProbability <= 1)).toBe(true);
  });

  it('streams one event per supervision step when told never to halt', async () => {
    const p = generateSudoku(new Rng(9), { givens: 65 });
    const r = await server.post('/solve/stream', {
      task: 'sudoku',
      grid: parseSudokuString(p.question),
      haltThreshold: 1,
      maxSteps: 8,
    });
    expect(r.status).toBe(200);
    const events = parseEventStream(r.text);
    expect(events.map((e) => e.event)).toEqual([...new Array(8).fill('step'), 'done']);
    expect(events.slice(0, 8).map((e) => JSON.parse(e.data).step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const done = JSON.parse(events[8]!.data);
    expect(done).toMatchObject({ steps: 8, halted: false });
    expect(done.answer).toEqual(JSON.parse(events[7]!.data).answer);
  });

  it('never changes a given and says when an answer is no solution, running on past a confident halt', async () => {
    // The server README's example, 17 givens: far harder than the model's data. It wants to halt after one step.
    const grid = parseSudokuString('43.9.......1.8..43......5...8.......3...2..84......6...4..3..122..1.7...1......5.');
    const { halt_max_steps } = JSON.parse(await readFile(`${MODEL_DIR}/config.json`, 'utf8'));
    const givens = (answer: number[][]) => grid.every((row, r) => row.every((v, c) => v === 0 || answer[r]![c] === v));
    const reason = /^(row \d|column \d|the box of rows \d-\d and columns \d-\d) has (two|three|four|five) \ds$/;

    const trusting = JSON.parse((await server.post('/solve', { task: 'sudoku', grid, untilValid: false })).text);
    expect(trusting).toMatchObject({ steps: 1, halted: true, check: { valid: false } });
    expect(trusting.haltProbability).toBeGreaterThan(0.9);
    expect(trusting.check.reason).toMatch(reason);
    expect(givens(trusting.answer)).toBe(true);

    // By default (untilValid) each of those halts is overruled: past the model's halt_max_steps the answer still
    // breaks the rules, so the steps go on to four times the model's (at most 64), and the last answer comes back as
    // what it is.
    const r = await server.post('/solve', { task: 'sudoku', grid, trace: true });
    const body = JSON.parse(r.text);
    expect(halt_max_steps).toBeLessThan(16);
    expect(body).toMatchObject({ steps: 4 * halt_max_steps, halted: false, check: { valid: false } });
    expect(body.check.reason).toMatch(reason);
    expect(body.trace.every((t: { haltProbability: number }) => t.haltProbability > 0.5)).toBe(true);
    expect(body.trace.every((t: { answer: number[][] }) => givens(t.answer))).toBe(true);
    expect(givens(body.answer)).toBe(true);
    // the model overwrote givens on the way; the answers have them back, and say how many
    expect(Math.max(...body.trace.map((t: { givensRestored: number }) => t.givensRestored))).toBeGreaterThan(0);
    // with the request's own limit, that limit
    const limited = JSON.parse((await server.post('/solve', { task: 'sudoku', grid, maxSteps: halt_max_steps })).text);
    expect(limited).toMatchObject({ steps: halt_max_steps, halted: false, check: { valid: false } });
  });

  it('refuses a maze for the sudoku model, naming the field', async () => {
    const r = await server.post('/solve', { task: 'maze', grid: [[1]] });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text).error).toMatchObject({ field: 'task' });
  });
});
