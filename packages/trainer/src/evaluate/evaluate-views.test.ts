// Evaluation through views (eval --views): a fake model that solves a puzzle only in some frames shows that the
// answer of the first view that follows the rules is chosen, mapped back, scored per step, and that the plain
// metrics (view 0, the reference's) are unchanged by the views.
import { encodeSudoku, parseSudokuString, type PuzzleView, puzzleViews, Rng, toView } from '@trm/core';
import { describe, expect, it } from 'vitest';
import type { HostBatch } from '../data/batch.js';
import { easySudoku, sudokuSplit } from '../data/easy-sudoku.js';
import { fromMemory } from '../data/split.js';
import { type EvalStepper, evaluateSteps, type StepperFactory } from './evaluate.js';

const S = 81;

/**
 * A "model" that knows the solutions: it answers a row with the solution in the row's frame when `solves(example,
 * view, step)`, else with the row itself (blanks left blank: an answer that breaks the rules). The frame of a row is
 * found by trying every view of every example.
 */
function fakeModel(
  questions: Uint8Array[],
  solutions: Uint8Array[],
  views: readonly PuzzleView[],
  solves: (example: number, view: number, step: number) => boolean,
  runs: number[],
): StepperFactory {
  const key = (row: ArrayLike<number>) => Array.from(row).join(',');
  const frames = new Map<string, [number, number]>();
  questions.forEach((q, e) => {
    views.forEach((v, k) => {
      frames.set(key(k === 0 ? q : toView(v, q)), [e, k]);
    });
  });
  return (batch: HostBatch): EvalStepper => {
    const B = batch.puzzleIds.length;
    runs.push(B);
    let step = 0;
    return {
      async next() {
        step++;
        const pred = new Int32Array(B * S);
        for (let r = 0; r < B; r++) {
          const row = batch.inputs.subarray(r * S, (r + 1) * S);
          const frame = frames.get(key(row));
          let answer: ArrayLike<number> = row;
          if (frame && solves(frame[0], frame[1], step)) {
            const [e, k] = frame;
            answer = k === 0 ? solutions[e]! : toView(views[k]!, solutions[e]!);
          }
          pred.set(answer, r * S);
        }
        return { pred, qHalt: new Float32Array(B).fill(-1) };
      },
      dispose() {},
    };
  };
}

describe('evaluation through views', () => {
  const pairs = easySudoku(6, [20, 30], new Rng(4));
  const split = fromMemory(sudokuSplit(pairs));
  const questions = pairs.map((p) => encodeSudoku(parseSudokuString(p.question)));
  const solutions = pairs.map((p) => encodeSudoku(parseSudokuString(p.answer)));
  const views = puzzleViews('sudoku', 4, 7);

  it('takes the first view whose answer follows the rules; the plain metrics stay those of the example itself', async () => {
    // example 0: solved by itself from step 1; 1: only through view 2 from step 2; 2: only through view 3 at step 3;
    // 3, 4, 5: never
    const solves = (e: number, v: number, step: number) =>
      (e === 0 && v === 0) || (e === 1 && v === 2 && step >= 2) || (e === 2 && v === 3 && step === 3);
    const runs: number[] = [];
    const r = await evaluateSteps(fakeModel(questions, solutions, views, solves, runs), 3, split, {
      batchSize: 8,
      steps: 3,
      views: { task: 'sudoku', views },
    });
    expect(r.examples).toBe(6);
    expect(r.exact_accuracy).toBeCloseTo(1 / 6);
    expect(r.exact_by_step).toEqual([1 / 6, 1 / 6, 1 / 6]);
    expect(r.views).toEqual({
      count: 4,
      exact_accuracy: 3 / 6,
      exact_by_step: [1 / 6, 2 / 6, 3 / 6],
      follows_rules: 3 / 6,
      follows_rules_not_exact: 0,
      own_follows_rules: 1 / 6,
    });
    // batch 8 with 4 views: 2 examples (8 rows) per graph run
    expect(runs).toEqual([8, 8, 8]);
  });

  it('without views the rows per run and the results are those of the plain evaluation', async () => {
    const solves = (e: number, v: number) => e < 2 && v === 0;
    const runs: number[] = [];
    const r = await evaluateSteps(fakeModel(questions, solutions, views, solves, runs), 2, split, { batchSize: 4 });
    expect(r.exact_accuracy).toBeCloseTo(2 / 6);
    expect(r.views).toBeUndefined();
    expect(runs).toEqual([4, 4]);
  });
});
