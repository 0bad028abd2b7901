// Several optimiser steps per graph run (stepsPerRun = K, the K-step training graph, as one Loop or unrolled)
// against one step per run, on the CPU provider from the same seed: the same losses, halting and weights step by step (float32 rounding apart:
// the update runs in float32 in the graph and in float64 on the host), runs of fewer than K steps, an exact resume
// from a state saved between runs, puzzle rows with several ids, and float16 with its loss scale.
import { getPreset, type ModelConfig, Rng, type TrainConfig, validateModelConfig } from '@trm/core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { selectBackend } from '../backend/backend.js';
import { easySudoku, sudokuSplit } from '../data/easy-sudoku.js';
import { fromMemory } from '../data/split.js';
import { TrmModel } from '../model/model.js';
import type { RunOptions, StepReport } from '../run/training-run.js';
import { OrtEvalSession } from './eval-step.js';
import { OrtMultiStep } from './multi-step.js';
import { OrtTrainingRun, type OrtRunOptions } from './ort-training-run.js';

beforeAll(async () => {
  await selectBackend('cpu', () => {});
});

/** sudoku-tiny-mlp (or `preset`) on easy sudoku, with `ids` puzzle identifiers spread over the examples. */
function setup(ids = 1, preset = 'sudoku-tiny-mlp'): RunOptions {
  const p = getPreset(preset);
  // halt_max_steps 3: slots halt and take new rows inside a run, by the limit and by the learned rule
  const model: ModelConfig = validateModelConfig({
    ...p.model,
    batch_size: 12,
    num_puzzle_identifiers: ids,
    halt_max_steps: 3,
  });
  const train: TrainConfig = { ...p.train, global_batch_size: 12, seed: 5, lr_warmup_steps: 2 };
  const split = sudokuSplit(easySudoku(60, [3, 6], new Rng(9)));
  split.puzzleIdentifiers = Int32Array.from({ length: split.numExamples }, (_, i) => i % ids);
  return { model, train, totalSteps: 50, data: fromMemory(split) };
}

/** Trains `pattern` runs of steps (trainSteps(max) for each entry) and returns every step's report. */
async function train(run: OrtTrainingRun, pattern: number[]): Promise<StepReport[]> {
  const out: StepReport[] = [];
  for (const max of pattern) out.push(...(await run.trainSteps(max)));
  return out;
}

function expectSameSteps(a: StepReport[], b: StepReport[], tol: number): void {
  expect(a.map((r) => r.step)).toEqual(b.map((r) => r.step));
  for (let i = 0; i < a.length; i++) {
    const [x, y] = [a[i]!.metrics, b[i]!.metrics];
    expect(Math.abs(x.lm_loss - y.lm_loss), `lm_loss at step ${i + 1}`).toBeLessThanOrEqual(tol * Math.abs(y.lm_loss));
    expect(Math.abs(x.q_halt_loss - y.q_halt_loss), `q_halt_loss at step ${i + 1}`).toBeLessThanOrEqual(
      tol * Math.max(1, Math.abs(y.q_halt_loss)),
    );
    expect([x.count, x.steps, a[i]!.halted], `halting at step ${i + 1}`).toEqual([y.count, y.steps, b[i]!.halted]);
    expect(a[i]!.lr).toBe(b[i]!.lr);
  }
}

async function expectSameWeights(a: OrtTrainingRun, b: OrtTrainingRun, tol: number): Promise<void> {
  const wa = await a.folderWeights();
  const wb = await b.folderWeights();
  expect(Object.keys(wa).sort()).toEqual(Object.keys(wb).sort());
  for (const k of Object.keys(wa)) {
    const x = wa[k]!.data;
    const y = wb[k]!.data;
    let worst = 0;
    for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
    expect(worst, k).toBeLessThanOrEqual(tol);
  }
}

describe('OrtTrainingRun with several steps per graph run', () => {
  for (const stepsForm of ['loop', 'unrolled'] as const)
    it(`takes the steps of one step per run: 3 + 3 + 1 steps in graphs of 3 (float32, EMA, ${stepsForm})`, async () => {
      const o: OrtRunOptions = { ...setup(), provider: 'cpu', threads: 1 };
      const one = await OrtTrainingRun.create(o);
      const three = await OrtTrainingRun.create({ ...o, stepsPerRun: 3, stepsForm });
      const a = await train(one, [1, 1, 1, 1, 1, 1, 1]);
      const b = await train(three, [5, 3, 1]);
      expectSameSteps(b, a, 1e-4);
      // the runs did halt and admit rows, and learned
      expect(a.reduce((n, r) => n + r.halted, 0)).toBeGreaterThan(12);
      expect(a[6]!.metrics.lm_loss).not.toBe(a[0]!.metrics.lm_loss);
      await expectSameWeights(three, one, 2e-5);
      const [sa, sb] = [await one.exportState(), await three.exportState()];
      expect(sb.json).toEqual(sa.json);
      expect(Array.from(sb.arrays.carry!.data.inputs)).toEqual(Array.from(sa.arrays.carry!.data.inputs));
      await one.dispose();
      await three.dispose();
    });

  it('halts on the learned rule (q_halt > 0, after the exploration minimum) as the host does', async () => {
    const base = setup();
    const model = TrmModel.create(base.model, base.train.seed);
    const weights = await model.exportWeights();
    model.dispose();
    // the reference starts q_halt at -5; at +0.05 rows halt by the learned rule unless exploration holds them
    weights['q_head.bias']!.data[0] = 0.05;
    const o: OrtRunOptions = { ...base, provider: 'cpu', threads: 1, weights };
    const one = await OrtTrainingRun.create(o);
    const three = await OrtTrainingRun.create({ ...o, stepsPerRun: 3 });
    const a = await train(one, [1, 1, 1, 1, 1, 1]);
    expectSameSteps(await train(three, [3, 3]), a, 1e-4);
    // some rows halted after one step (the limit is 3), some were held by exploration
    expect(a.slice(1).some((r) => r.metrics.count > 0 && r.metrics.steps < 2 * r.metrics.count)).toBe(true);
    await one.dispose();
    await three.dispose();
  });

  it('attention + RoPE: takes the steps of one step per run', async () => {
    const o: OrtRunOptions = { ...setup(3, 'sudoku-tiny'), provider: 'cpu', threads: 1 };
    const one = await OrtTrainingRun.create(o);
    const two = await OrtTrainingRun.create({ ...o, stepsPerRun: 2 });
    expectSameSteps(await train(two, [2, 2, 1]), await train(one, [1, 1, 1, 1, 1]), 1e-4);
    await expectSameWeights(two, one, 2e-5);
    await one.dispose();
    await two.dispose();
  });

  it('resumes exactly from a state saved between two runs', async () => {
    const o: OrtRunOptions = { ...setup(), provider: 'cpu', threads: 1, stepsPerRun: 2 };
    const straight = await OrtTrainingRun.create(o);
    const all = await train(straight, [2, 2, 2]);
    const first = await OrtTrainingRun.create(o);
    await train(first, [2, 2]);
    const { json, arrays } = await first.exportState();
    const weights = await first.folderWeights();
    await first.dispose();
    const resumed = await OrtTrainingRun.create({ ...o, weights });
    resumed.importState(json, arrays);
    const rest = await train(resumed, [2]);
    expect(rest.map((r) => r.metrics)).toEqual(all.slice(4).map((r) => r.metrics));
    await expectSameWeights(resumed, straight, 0);
    await straight.dispose();
    await resumed.dispose();
  });

  it('an evaluation that finds no device memory closes the training graph, evaluates and opens it again', async () => {
    const o: OrtRunOptions = { ...setup(), provider: 'cpu', threads: 1, stepsPerRun: 2 };
    const test = fromMemory(sudokuSplit(easySudoku(8, [3, 6], new Rng(4))));
    const straight = await OrtTrainingRun.create(o);
    await train(straight, [2]);
    const expected = await straight.evaluate(test, { batchSize: 4 });
    const after = await train(straight, [2]);
    const squeezed = await OrtTrainingRun.create(o);
    await train(squeezed, [2]);
    // the first evaluation session fails as ONNX Runtime's CUDA arena does when the training graph holds the card
    const create = OrtEvalSession.create;
    let calls = 0;
    const spy = vi.spyOn(OrtEvalSession, 'create').mockImplementation(async (...args) => {
      calls++;
      if (calls === 1)
        throw new Error(
          "Non-zero status code returned while running MatMul node. Name:'n_MatMul_0' Status Message: bfc_arena.cc:359 Failed to allocate memory for requested buffer of size 805306368",
        );
      return create.apply(OrtEvalSession, args);
    });
    const opened = vi.spyOn(OrtMultiStep, 'create');
    let reopened = -1;
    try {
      expect(await squeezed.evaluate(test, { batchSize: 4 })).toEqual(expected);
      reopened = opened.mock.calls.length;
    } finally {
      spy.mockRestore();
      opened.mockRestore();
    }
    expect(calls).toBe(2);
    expect(reopened).toBe(1);
    // the reopened graph trains on as the one that never closed
    expect((await train(squeezed, [2])).map((r) => r.metrics)).toEqual(after.map((r) => r.metrics));
    await expectSameWeights(squeezed, straight, 0);
    // any other failure of an evaluation is the caller's
    const other = vi.spyOn(OrtEvalSession, 'create').mockRejectedValue(new Error('model file is corrupt'));
    try {
      await expect(squeezed.evaluate(test, { batchSize: 4 })).rejects.toThrow('model file is corrupt');
    } finally {
      other.mockRestore();
    }
    await straight.dispose();
    await squeezed.dispose();
  });

  it('continues a run saved with one step per run (and the other way round)', async () => {
    const o: OrtRunOptions = { ...setup(), provider: 'cpu', threads: 1 };
    const straight = await OrtTrainingRun.create(o);
    const all = await train(straight, [1, 1, 1, 1, 1, 1]);
    const first = await OrtTrainingRun.create(o);
    await train(first, [1, 1]);
    const saved = await first.exportState();
    const many = await OrtTrainingRun.create({ ...o, stepsPerRun: 2, weights: await first.folderWeights() });
    await first.dispose();
    many.importState(saved.json, saved.arrays);
    expectSameSteps(await train(many, [2]), all.slice(2, 4), 1e-4);
    const back = await many.exportState();
    const last = await OrtTrainingRun.create({ ...o, weights: await many.folderWeights() });
    await many.dispose();
    last.importState(back.json, back.arrays);
    expectSameSteps(await train(last, [1, 1]), all.slice(4), 1e-4);
    await expectSameWeights(last, straight, 2e-5);
    await straight.dispose();
    await last.dispose();
  });

  it('trains the puzzle rows of several ids by sign-SGD as the host does', async () => {
    const o: OrtRunOptions = { ...setup(4), provider: 'cpu', threads: 1 };
    const one = await OrtTrainingRun.create(o);
    const many = await OrtTrainingRun.create({ ...o, stepsPerRun: 4 });
    expectSameSteps(await train(many, [4, 2]), await train(one, [1, 1, 1, 1, 1, 1]), 1e-4);
    await expectSameWeights(many, one, 2e-5);
    await one.dispose();
    await many.dispose();
  });

  it('float16: follows one step per run, loss scale included', async () => {
    const o: OrtRunOptions = { ...setup(), provider: 'cpu', threads: 1, precision: 'fp16' };
    const one = await OrtTrainingRun.create(o);
    const three = await OrtTrainingRun.create({ ...o, stepsPerRun: 3 });
    expectSameSteps(await train(three, [3, 3]), await train(one, [1, 1, 1, 1, 1, 1]), 2e-3);
    expect(three.lossScale!.state()).toEqual(one.lossScale!.state());
    await one.dispose();
    await three.dispose();
  });

  for (const stepsForm of ['loop', 'unrolled'] as const)
    it(`float16: steps whose gradients overflow inside a run are skipped as the host skips them (${stepsForm})`, async () => {
      const o: OrtRunOptions = { ...setup(), provider: 'cpu', threads: 1, precision: 'fp16' };
      const one = await OrtTrainingRun.create(o);
      const three = await OrtTrainingRun.create({ ...o, stepsPerRun: 3, stepsForm });
      await train(one, [1]);
      await train(three, [1]);
      // a scale so large that float16 gradients overflow: halved at each skipped step until they fit
      one.lossScale!.scale = 2 ** 40;
      three.lossScale!.scale = 2 ** 40;
      expectSameSteps(await train(three, [3, 3]), await train(one, [1, 1, 1, 1, 1, 1]), 2e-3);
      expect(three.lossScale!.skipped).toBeGreaterThan(0);
      expect([three.lossScale!.state(), three.lossScale!.skipped]).toEqual([
        one.lossScale!.state(),
        one.lossScale!.skipped,
      ]);
      const [sa, sb] = [await one.exportState(), await three.exportState()];
      expect(sb.json.optimizer).toEqual(sa.json.optimizer);
      await expectSameWeights(three, one, 2e-3);
      await one.dispose();
      await three.dispose();
    });

  it('refuses what it cannot do, naming it', async () => {
    const o: OrtRunOptions = { ...setup(), provider: 'cpu', threads: 1, stepsPerRun: 2 };
    await expect(OrtTrainingRun.create({ ...o, devices: 2 })).rejects.toThrow(
      'several steps per run (2) run on one device in one session',
    );
    await expect(OrtTrainingRun.create({ ...o, microBatch: 6 })).rejects.toThrow(/no --micro-batch/);
    await expect(OrtTrainingRun.create({ ...o, stepsPerRun: 0 })).rejects.toThrow(
      'stepsPerRun must be a positive integer (got 0)',
    );
  });
});
