// The task's rules in the answers of POST /solve and /solve/stream, on fake engines made to answer against them: a
// sudoku answer never changes a given (written back and counted in givensRestored), every answer and step says
// whether it satisfies the rules (`check`), a halt on an answer that does not is overruled while untilValid is on
// (the default for sudoku and maze), and maxSteps defaults to the model's halt_max_steps.
import { encodeMaze, encodeSudoku, getPreset, type Grid, mazeFromCells } from '@trm/core';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { fakeAppServers, solveOk as solve } from '../testing/fake-app.js';
import type { FakeEngineOptions } from '../testing/fake-engine.js';
import { solveResponseSchema, stepEventSchema } from './schemas/solve-response.js';
import { parseEventStream } from '../testing/client.js';
import { ARC_PUZZLE, MAZE_PUZZLE, MAZE_SOLUTION, SUDOKU_PUZZLE, SUDOKU_SOLUTION } from '../testing/fixtures.js';

const ajv = new Ajv2020({ strict: true });
const isSolveResponse = ajv.compile(solveResponseSchema);
const isStepEvent = ajv.compile(stepEventSchema);

/** The sudoku solution with some cells replaced: [row, column, value], counted from 0. */
function sudokuWith(changes: [number, number, number][]): Grid {
  const grid = SUDOKU_SOLUTION.map((row) => row.slice());
  for (const [r, c, v] of changes) grid[r]![c] = v;
  return grid;
}

// Row 1 of the puzzle gives 4 3 . 9 . . . . . and is solved as 4 3 8 9 5 2 1 6 7. Swapping two cells that are not
// givens keeps row 1 whole and breaks column 5 (which holds a 2 further down).
const SWAPPED = sudokuWith([
  [0, 4, 2],
  [0, 5, 5],
]);

const serve = fakeAppServers();

describe('givens', () => {
  it('writes back givens the model changed, says how many, and checks the answer as written back', async () => {
    // The model overwrites the given 4 with 9, blanks the given 3, and puts a second 1 into row 1.
    const { server } = await serve('sudoku', {
      answerAt: () =>
        encodeSudoku(
          sudokuWith([
            [0, 0, 9],
            [0, 1, 0],
            [0, 2, 1],
          ]),
        ),
    });
    const body = await solve(server, { task: 'sudoku', grid: SUDOKU_PUZZLE, maxSteps: 3, trace: true });
    expect(body.answer).toEqual(
      sudokuWith([
        [0, 0, 4],
        [0, 1, 3],
        [0, 2, 1],
      ]),
    );
    for (const [r, row] of SUDOKU_PUZZLE.entries())
      for (const [c, given] of row.entries()) if (given !== 0) expect(body.answer[r][c]).toBe(given);
    expect(body).toMatchObject({
      givensRestored: 2,
      check: { valid: false, reason: 'row 1 has two 1s' },
      // never valid, so untilValid runs every allowed step
      steps: 3,
      halted: false,
    });
    expect(body.trace).toHaveLength(3);
    for (const step of body.trace) {
      expect(step.answer).toEqual(body.answer);
      expect(step).toMatchObject({ givensRestored: 2, check: { valid: false, reason: 'row 1 has two 1s' } });
    }
  });

  it('counts a solution whose only fault was a changed given as valid once it is written back', async () => {
    const { server } = await serve('sudoku', {
      answerAt: () =>
        encodeSudoku(
          sudokuWith([
            [0, 0, 9],
            [0, 3, 1],
          ]),
        ),
    });
    const body = await solve(server, { task: 'sudoku', grid: SUDOKU_PUZZLE });
    expect(body).toMatchObject({
      answer: SUDOKU_SOLUTION,
      givensRestored: 2,
      check: { valid: true },
      steps: 2,
      halted: true,
    });
    expect(body.check.reason).toBeUndefined();
  });
});

describe('untilValid', () => {
  // The model is sure from the first step on, but only its third answer is a solution.
  const options: FakeEngineOptions = {
    haltProbability: () => 0.9,
    answerAt: (step) => encodeSudoku(step < 3 ? SWAPPED : SUDOKU_SOLUTION),
  };
  const invalid = { valid: false, reason: 'column 5 has two 2s' };

  it('overrules a halt on an invalid answer and returns the first valid one', async () => {
    const { engine, server } = await serve('sudoku', options);
    const body = await solve(server, { task: 'sudoku', grid: SUDOKU_PUZZLE, trace: true });
    expect(body).toMatchObject({ answer: SUDOKU_SOLUTION, check: { valid: true }, steps: 3, halted: true });
    expect(body.trace.map((t: { check: unknown }) => t.check)).toEqual([invalid, invalid, { valid: true }]);
    expect(typeof engine.received.at(-1)!.acceptAnswer).toBe('function');
  });

  it('returns the last answer, not valid and not halted, when the step limit comes first', async () => {
    const { server } = await serve('sudoku', options);
    const body = await solve(server, { task: 'sudoku', grid: SUDOKU_PUZZLE, maxSteps: 2 });
    expect(body).toMatchObject({ answer: SWAPPED, check: invalid, steps: 2, halted: false });
  });

  it('lets the halt probability alone decide with untilValid false, and still reports the check', async () => {
    const { engine, server } = await serve('sudoku', options);
    const body = await solve(server, { task: 'sudoku', grid: SUDOKU_PUZZLE, untilValid: false });
    expect(body).toMatchObject({ answer: SWAPPED, givensRestored: 0, check: invalid, steps: 1, halted: true });
    expect(engine.received.at(-1)!.acceptAnswer).toBeUndefined();
  });

  it('streams the check of every step, and done with the first valid answer', async () => {
    const { server } = await serve('sudoku', options);
    const r = await server.post('/solve/stream', { task: 'sudoku', grid: SUDOKU_PUZZLE });
    const events = parseEventStream(r.text);
    expect(events.map((e) => e.event)).toEqual(['step', 'step', 'step', 'done']);
    const steps = events.slice(0, 3).map((e) => JSON.parse(e.data));
    expect(steps.every((s) => isStepEvent(s))).toBe(true);
    expect(steps.map((s) => s.check)).toEqual([invalid, invalid, { valid: true }]);
    const done = JSON.parse(events[3]!.data);
    expect(isSolveResponse(done)).toBe(true);
    expect(done).toMatchObject({ check: { valid: true }, steps: 3, halted: true });
  });

  it('runs a maze on until its path joins S to G', async () => {
    const { server } = await serve('maze', {
      haltProbability: () => 0.9,
      // the first answer is the maze unchanged: no path
      answerAt: (step, tokens) => (step === 1 ? tokens.slice() : encodeMaze(mazeFromCells(MAZE_SOLUTION))),
    });
    const body = await solve(server, { task: 'maze', grid: MAZE_PUZZLE });
    expect(body).toMatchObject({ answer: MAZE_SOLUTION, check: { valid: true }, steps: 2, halted: true });
    expect(body.givensRestored).toBeUndefined();
    const early = await solve(server, { task: 'maze', grid: MAZE_PUZZLE, untilValid: false });
    expect(early).toMatchObject({
      answer: MAZE_PUZZLE,
      check: { valid: false, reason: "the answer marks no path ('o' cells) from S to G" },
      steps: 1,
    });
  });

  it('changes nothing for ARC, which has no rule check', async () => {
    const { engine, server } = await serve('arc');
    const body = await solve(server, { task: 'arc', grid: ARC_PUZZLE, untilValid: true });
    expect(body).toMatchObject({ answer: ARC_PUZZLE, check: { valid: null, reason: 'no rule check for ARC' } });
    expect(engine.received.at(-1)!.acceptAnswer).toBeUndefined();
  });
});

describe('maxSteps', () => {
  it("defaults to the model's halt_max_steps, within the API's 1..64", async () => {
    const config = getPreset('sudoku-tiny').model;
    const never = () => 0;
    for (const [halt_max_steps, expected] of [
      [4, 4],
      [16, 16],
      [32, 32],
      [100, 64],
    ] as const) {
      const { engine, server } = await serve('sudoku', {
        config: { ...config, halt_max_steps },
        haltProbability: never,
      });
      // a valid answer (the fake engine solves the puzzle) ends at the model's last step, halted or not
      const body = await solve(server, { task: 'sudoku', grid: SUDOKU_PUZZLE });
      expect([body.steps, body.halted, body.check.valid]).toEqual([expected, false, true]);
      // without untilValid the model's limit is the limit
      await solve(server, { task: 'sudoku', grid: SUDOKU_PUZZLE, untilValid: false });
      expect(engine.received.at(-1)!.maxSteps).toBe(expected);
      // a request's own limit wins
      expect((await solve(server, { task: 'sudoku', grid: SUDOKU_PUZZLE, maxSteps: 3 })).steps).toBe(3);
    }
  });

  it("gives an answer that breaks the rules at the model's last step more steps, up to 4 times as many", async () => {
    const config = { ...getPreset('sudoku-tiny').model, halt_max_steps: 4 };
    // invalid until step 6, then solved; the model never crosses the threshold
    const late = await serve('sudoku', {
      config,
      haltProbability: () => 0,
      answerAt: (step) => encodeSudoku(step < 6 ? SWAPPED : SUDOKU_SOLUTION),
    });
    const body = await solve(late.server, { task: 'sudoku', grid: SUDOKU_PUZZLE });
    expect(body).toMatchObject({ answer: SUDOKU_SOLUTION, check: { valid: true }, steps: 6, halted: false });
    expect([late.engine.received[0]!.maxSteps, late.engine.received[0]!.settleFrom]).toEqual([16, 4]);
    // never valid: all 4 x 4 steps, then the last answer, reported invalid
    const never = await serve('sudoku', { config, haltProbability: () => 0, answerAt: () => encodeSudoku(SWAPPED) });
    const lost = await solve(never.server, { task: 'sudoku', grid: SUDOKU_PUZZLE });
    expect(lost).toMatchObject({ check: { valid: false }, steps: 16, halted: false });
    // an explicit maxSteps, or untilValid false, gets no extra steps
    const before = never.engine.received.length;
    const asked = await solve(never.server, { task: 'sudoku', grid: SUDOKU_PUZZLE, maxSteps: 4 });
    expect([asked.steps, never.engine.received[before]!.settleFrom]).toEqual([4, undefined]);
    const plain = await solve(never.server, { task: 'sudoku', grid: SUDOKU_PUZZLE, untilValid: false });
    expect(plain.steps).toBe(4);
  });

  it('runs an invalid answer of a 16-step model on to 64 steps, and never past the API limit', async () => {
    const base = getPreset('sudoku-tiny').model;
    for (const [halt_max_steps, limit, settleFrom] of [
      [16, 64, 16],
      [32, 64, 32],
      [64, 64, undefined],
    ] as const) {
      const never = await serve('sudoku', {
        config: { ...base, halt_max_steps },
        haltProbability: () => 0,
        answerAt: () => encodeSudoku(SWAPPED),
      });
      const lost = await solve(never.server, { task: 'sudoku', grid: SUDOKU_PUZZLE });
      expect(lost, `halt_max_steps ${halt_max_steps}`).toMatchObject({ check: { valid: false }, steps: limit });
      expect(never.engine.received[0]!.settleFrom).toBe(settleFrom);
    }
  });
});
