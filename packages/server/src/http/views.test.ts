// Answers through views (the request's `views`, the server's --views): a puzzle whose own answer still breaks the
// rules at the model's trained step gets symmetric copies beside it, the first copy's answer that follows the rules
// is mapped back and returned (`view` says which), the other copies are stopped, and a puzzle solved by its trained
// step costs nothing more. Fake engines that solve only some frames of a puzzle make each case happen.
import { encodeMaze, encodeSudoku, getPreset, type TaskName } from '@trm/core';
import { describe, expect, it } from 'vitest';
import { fakeAppServers, solveOk as solve } from '../testing/fake-app.js';
import { fakeEngineAnswer } from '../testing/fake-engine.js';
import { parseEventStream, type TestServer } from '../testing/client.js';
import { ARC_PUZZLE, MAZE_PUZZLE, MAZE_SOLUTION, SUDOKU_PUZZLE, SUDOKU_SOLUTION } from '../testing/fixtures.js';

const serve = fakeAppServers();

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((t, i) => t === b[i]);
const SUDOKU_TOKENS = encodeSudoku(SUDOKU_PUZZLE);

/** A model that never solves the puzzle as given (it answers the puzzle itself, blanks and all) but solves views. */
function solvesOnlyViews(question: Uint8Array, task: TaskName, log?: [boolean, number][]) {
  return (step: number, tokens: Uint8Array) => {
    const own = same(tokens, question);
    log?.push([own, step]);
    return own ? tokens.slice() : fakeEngineAnswer(task, tokens);
  };
}

describe('views', () => {
  it('a sudoku its model fails as given is answered through a view, mapped back, after the trained step', async () => {
    // [own step, requests the engine had received by then]
    const ownSteps: [number, number][] = [];
    const solves = solvesOnlyViews(SUDOKU_TOKENS, 'sudoku');
    const { engine, server } = await serve('sudoku', {
      answerAt: (step, tokens) => {
        if (same(tokens, SUDOKU_TOKENS)) ownSteps.push([step, engine.received.length]);
        return solves(step, tokens);
      },
    });
    const body = await solve(server, { task: 'sudoku', grid: SUDOKU_PUZZLE });
    expect(body.answer).toEqual(SUDOKU_SOLUTION);
    expect(body.check).toEqual({ valid: true });
    expect(body.view).toEqual({ index: 1, name: 'sudoku shuffle', tried: 16 });
    // the 15 views were asked for once the puzzle itself reached the trained step (16) unsolved
    expect(engine.received).toHaveLength(16);
    expect(ownSteps.slice(15, 17)).toEqual([
      [16, 1],
      [17, 16],
    ]);
    // each view ends at its first answer that follows the rules, at the trained step count at most, behind others
    expect(engine.received.slice(1).every((r) => r.settleFrom === 1 && r.maxSteps === 16 && r.background)).toBe(true);
    expect(engine.received[0]!.background).toBeUndefined();
    for (const r of engine.received.slice(1)) expect(same(r.tokens, SUDOKU_TOKENS)).toBe(false);
    // the puzzle itself and the views that had not answered were stopped
    expect(engine.received.every((r) => r.signal?.aborted)).toBe(true);
  });

  it('a puzzle solved by its trained step runs alone: no view, tried 1', async () => {
    const { engine, server } = await serve('sudoku');
    const body = await solve(server, { task: 'sudoku', grid: SUDOKU_PUZZLE });
    expect(body.check.valid).toBe(true);
    expect(body.view).toEqual({ index: 0, name: 'identity', tried: 1 });
    expect(engine.received).toHaveLength(1);
  });

  it("when no copy follows the rules, the answer is the puzzle's own after its last step", async () => {
    const { engine, server } = await serve('sudoku', { answerAt: (_step, tokens) => tokens.slice() });
    const body = await solve(server, { task: 'sudoku', grid: SUDOKU_PUZZLE, views: 3 });
    expect(body.check.valid).toBe(false);
    expect(body.answer).toEqual(SUDOKU_PUZZLE);
    expect(body).toMatchObject({ steps: 64, view: { index: 0, name: 'identity', tried: 3 } });
    expect(engine.received).toHaveLength(3);
  });

  it('views 1 in the request, or --views 1 on the server, leaves the puzzle alone', async () => {
    const { engine, server } = await serve('sudoku', { answerAt: solvesOnlyViews(SUDOKU_TOKENS, 'sudoku') });
    const body = await solve(server, { task: 'sudoku', grid: SUDOKU_PUZZLE, views: 1 });
    expect(body.check.valid).toBe(false);
    expect(body.view).toBeUndefined();
    expect(engine.received).toHaveLength(1);
    const off = await serve('sudoku', { answerAt: solvesOnlyViews(SUDOKU_TOKENS, 'sudoku') }, { views: 1 });
    expect((await solve(off.server, { task: 'sudoku', grid: SUDOKU_PUZZLE })).view).toBeUndefined();
    const asked = await solve(off.server, { task: 'sudoku', grid: SUDOKU_PUZZLE, views: 2 });
    expect(asked).toMatchObject({ check: { valid: true }, view: { index: 1, tried: 2 } });
  });

  it('with maxSteps below the trained steps, the views start when the puzzle itself ends unsolved', async () => {
    const log: [boolean, number][] = [];
    const { server } = await serve('sudoku', { answerAt: solvesOnlyViews(SUDOKU_TOKENS, 'sudoku', log) });
    const body = await solve(server, { task: 'sudoku', grid: SUDOKU_PUZZLE, maxSteps: 3, views: 2 });
    expect(body).toMatchObject({ check: { valid: true }, view: { index: 1, tried: 2 } });
    expect(log.filter(([own]) => own).map(([, step]) => step)).toEqual([1, 2, 3]);
    expect(log.findIndex(([own]) => !own)).toBe(3);
  });

  it("a maze: views are its rotations and mirrors, the path comes back in the maze's frame", async () => {
    const question = encodeMaze(MAZE_PUZZLE.map((row) => row.map((v) => '# SGo'[v - 1]).join('')));
    const { server } = await serve('maze', { answerAt: solvesOnlyViews(question, 'maze') });
    const body = await solve(server, { task: 'maze', grid: MAZE_PUZZLE, views: 4 });
    expect(body.check).toEqual({ valid: true });
    expect(body.view).toMatchObject({ index: 1, name: 'rot90', tried: 4 });
    // the fake marks the canonical shortest path of the rotated maze: a shortest path of the maze itself
    expect(body.answer.flat().filter((v: number) => v === 5).length).toBe(
      MAZE_SOLUTION.flat().filter((v) => v === 5).length,
    );
  });

  it('the stream sends the steps of the puzzle itself, then done with the view that answered', async () => {
    const { server } = await serve('sudoku', { answerAt: solvesOnlyViews(SUDOKU_TOKENS, 'sudoku') });
    const r = await server.post('/solve/stream', { task: 'sudoku', grid: SUDOKU_PUZZLE, views: 2, trace: true });
    const events = parseEventStream(r.text);
    const steps = events.filter((e) => e.event === 'step');
    expect(steps.length).toBeGreaterThanOrEqual(16);
    expect(steps.every((e) => JSON.parse(e.data).check.valid === false)).toBe(true);
    const done = JSON.parse(events.at(-1)!.data);
    expect(events.at(-1)!.event).toBe('done');
    expect(done).toMatchObject({ check: { valid: true }, view: { index: 1, tried: 2 } });
    expect(done.trace.length).toBeGreaterThanOrEqual(16);
  });

  it('copies the engine refuses (a full queue) are left out: the puzzle is answered, tried counts what ran', async () => {
    const { engine, server } = await serve('sudoku', {
      slots: 1,
      maxQueue: 0,
      answerAt: solvesOnlyViews(SUDOKU_TOKENS, 'sudoku'),
    });
    const body = await solve(server, { task: 'sudoku', grid: SUDOKU_PUZZLE, views: 4 });
    expect(body).toMatchObject({ check: { valid: false }, steps: 64, view: { index: 0, name: 'identity', tried: 1 } });
    // the engine was asked for the three copies and refused them (no slot free, no waiting allowed)
    expect(engine.received).toHaveLength(4);
  });

  it('a client that goes away stops the puzzle and every copy of it', async () => {
    // copies start at step 2 (the model's steps) and never answer; each step takes 20 ms
    const config = { ...getPreset('sudoku-tiny').model, halt_max_steps: 2 };
    const { engine, server } = await serve('sudoku', {
      config,
      stepDelayMs: 20,
      haltProbability: () => 0,
      answerAt: (_step, tokens) => tokens.slice(),
    });
    const body = JSON.stringify({ task: 'sudoku', grid: SUDOKU_PUZZLE, views: 4 });
    const gone = server.send('/solve', {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
      abortAfterMs: 150,
    });
    await expect(gone).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 100));
    expect(engine.received).toHaveLength(4);
    expect(engine.received.map((r) => r.signal?.aborted)).toEqual([true, true, true, true]);
    expect(engine.stats()).toMatchObject({ queueDepth: 0, activeSlots: 0 });
  });

  it('refuses views where they cannot apply, naming the field', async () => {
    const { server } = await serve('sudoku');
    const maze = await serve('maze');
    const arc = await serve('arc');
    const cases: [TestServer, Record<string, unknown>, string][] = [
      [arc.server, { task: 'arc', grid: ARC_PUZZLE, views: 2 }, 'views applies to sudoku and maze'],
      [server, { task: 'sudoku', grid: SUDOKU_PUZZLE, views: 2, untilValid: false }, 'views needs untilValid'],
      [maze.server, { task: 'maze', grid: MAZE_PUZZLE, views: 9 }, 'views is at most 8 for a maze'],
      [server, { task: 'sudoku', grid: SUDOKU_PUZZLE, views: 17 }, 'views'],
      [server, { task: 'sudoku', grid: SUDOKU_PUZZLE, views: 0 }, 'views'],
    ];
    for (const [s, body, message] of cases) {
      const r = await s.post('/solve', body);
      expect(r.status, r.text).toBe(400);
      const err = JSON.parse(r.text);
      expect(err.error.field ?? err.field).toBe('views');
      expect(r.text).toContain(message);
    }
    // an ARC model or untilValid false without views in the body: the server's default does not apply, no error
    expect((await solve(arc.server, { task: 'arc', grid: ARC_PUZZLE })).view).toBeUndefined();
    const plain = await solve(server, { task: 'sudoku', grid: SUDOKU_PUZZLE, untilValid: false });
    expect(plain.view).toBeUndefined();
  });
});
