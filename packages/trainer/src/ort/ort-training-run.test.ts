// The ONNX Runtime training loop (CPU provider): the same steps as the tfjs TrainingRun from the same seed, the same
// step whether the batch runs on one session, on several (--gpus) or in micro-batches, an exact resume from its
// exported state, and a state moved between the two backends.
import { getPreset, type ModelConfig, Rng, type TrainConfig, validateModelConfig } from '@trm/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend/backend.js';
import { easySudoku, sudokuSplit } from '../data/easy-sudoku.js';
import { fromMemory, type SplitSource } from '../data/split.js';
import { type RunOptions, TrainingRun } from '../run/training-run.js';
import { OrtTrainingRun, type OrtRunOptions, shareRows } from './ort-training-run.js';
import { explainRunError } from './train-step.js';

beforeAll(async () => {
  await selectBackend('cpu', () => {});
});

function setup(): { opts: RunOptions; data: SplitSource } {
  const p = getPreset('sudoku-tiny-mlp');
  const model: ModelConfig = validateModelConfig({ ...p.model, batch_size: 12 });
  const train: TrainConfig = { ...p.train, global_batch_size: 12, seed: 5 };
  const data = fromMemory(sudokuSplit(easySudoku(60, [3, 6], new Rng(9))));
  return { opts: { model, train, totalSteps: 50, data }, data };
}

async function losses(run: { trainStep(): Promise<{ metrics: { lm_loss: number } }> }, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await run.trainStep()).metrics.lm_loss);
  return out;
}

describe('OrtTrainingRun', () => {
  it('shares rows between devices, the first taking the remainder', () => {
    expect(shareRows(10, 3)).toEqual([
      [0, 4],
      [4, 7],
      [7, 10],
    ]);
    expect(shareRows(4, 4)).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 4],
    ]);
  });

  it('refuses a lane count that is not a positive integer, or more sessions than rows', async () => {
    const { opts } = setup();
    await expect(OrtTrainingRun.create({ ...opts, provider: 'cpu', lanes: 0 })).rejects.toThrow(
      'lanes must be a positive integer (got 0)',
    );
    await expect(
      OrtTrainingRun.create({ ...opts, provider: 'cpu', devices: 2, lanes: opts.model.batch_size }),
    ).rejects.toThrow(/must have at least one row per session \(2 device\(s\) x \d+ lane\(s\)\)/);
  });

  it('says how to get out of an out-of-memory error, naming the rows per run', () => {
    const err = explainRunError(
      new Error(
        '[ONNXRuntimeError] : 6 : RUNTIME_EXCEPTION : Failed to allocate memory for requested buffer of size 805306368\nstack',
      ),
      'cuda',
      768,
    );
    expect(err.message).toMatch(/^the cuda device ran out of memory for a training run of 768 rows .*--micro-batch/);
    const other = new Error('Invalid argument');
    expect(explainRunError(other, 'cuda', 768)).toBe(other);
  });

  it('runs the reference batch of 768 in micro-batches of 256', async () => {
    const p = getPreset('sudoku-tiny-mlp');
    const model = validateModelConfig({ ...p.model, batch_size: 768 });
    const train: TrainConfig = { ...p.train, global_batch_size: 768, seed: 1 };
    const data = fromMemory(sudokuSplit(easySudoku(800, [3, 6], new Rng(2))));
    const run = await OrtTrainingRun.create({ model, train, totalSteps: 10, data, provider: 'cpu', microBatch: 256 });
    const r = await run.trainStep();
    expect(r.batchSize).toBe(768);
    expect(r.metrics.lm_loss).toBeGreaterThan(0);
    await run.dispose();
  });

  it('takes the same steps when its graph runs write into reused output buffers (whole batch and micro-batches)', async () => {
    const { opts } = setup();
    for (const microBatch of [undefined, 4]) {
      const plain = await OrtTrainingRun.create({
        ...opts,
        provider: 'cpu',
        threads: 1,
        microBatch,
        reuseOutputs: false,
      });
      const reused = await OrtTrainingRun.create({
        ...opts,
        provider: 'cpu',
        threads: 1,
        microBatch,
        reuseOutputs: true,
      });
      const a = await losses(plain, 6);
      const b = await losses(reused, 6);
      const wa = await plain.folderWeights();
      const wb = await reused.folderWeights();
      await plain.dispose();
      await reused.dispose();
      expect(b).toEqual(a);
      for (const name of Object.keys(wa)) expect(Array.from(wb[name]!.data)).toEqual(Array.from(wa[name]!.data));
    }
  });

  it('follows the tfjs TrainingRun from the same seed (losses of 5 steps within 1e-4)', async () => {
    const { opts } = setup();
    const tfRun = new TrainingRun(opts);
    const ortRun = await OrtTrainingRun.create({ ...opts, provider: 'cpu', threads: 1 });
    const a = await losses(tfRun, 5);
    const b = await losses(ortRun, 5);
    tfRun.dispose();
    await ortRun.dispose();
    for (let i = 0; i < 5; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(1e-4 * Math.max(1, a[i]!));
  });

  it('gives the same steps on 1 session, 3 sessions, 2 devices x 2 lanes and in micro-batches of 5 rows', async () => {
    const { opts } = setup();
    const variants: Partial<OrtRunOptions>[] = [{}, { devices: 3 }, { devices: 2, lanes: 2 }, { microBatch: 5 }];
    const curves: number[][] = [];
    for (const v of variants) {
      const run = await OrtTrainingRun.create({ ...opts, provider: 'cpu', threads: 1, ...v });
      curves.push(await losses(run, 4));
      await run.dispose();
    }
    for (const c of curves.slice(1))
      for (let i = 0; i < 4; i++) expect(Math.abs(c[i]! - curves[0]![i]!)).toBeLessThanOrEqual(1e-4);
  });

  it('updates the weights identically with the host optimiser on 3 threads', async () => {
    const { opts } = setup();
    const one = await OrtTrainingRun.create({ ...opts, provider: 'cpu', threads: 1 });
    const three = await OrtTrainingRun.create({ ...opts, provider: 'cpu', threads: 1, optimizerThreads: 3 });
    expect(await losses(three, 3)).toEqual(await losses(one, 3));
    const a = await one.folderWeights();
    const b = await three.folderWeights();
    for (const k of Object.keys(a)) expect(Array.from(b[k]!.data), k).toEqual(Array.from(a[k]!.data));
    await one.dispose();
    await three.dispose();
  });

  it('resumes exactly from its exported state', async () => {
    const { opts } = setup();
    const o: OrtRunOptions = { ...opts, provider: 'cpu', threads: 1 };
    const straight = await OrtTrainingRun.create(o);
    const full = await losses(straight, 6);
    const first = await OrtTrainingRun.create(o);
    await losses(first, 3);
    const { json, arrays } = await first.exportState();
    const weights = await first.folderWeights();
    await first.dispose();
    const resumed = await OrtTrainingRun.create({ ...o, weights });
    resumed.importState(json, arrays);
    const rest = await losses(resumed, 3);
    expect(rest).toEqual(full.slice(3));
    const a = await straight.folderWeights();
    const b = await resumed.folderWeights();
    for (const k of Object.keys(a)) expect(Array.from(b[k]!.data), k).toEqual(Array.from(a[k]!.data));
    await straight.dispose();
    await resumed.dispose();
  });

  it('continues a run saved by the tfjs backend', async () => {
    const { opts } = setup();
    const tfRun = new TrainingRun(opts);
    const expected = await losses(tfRun, 4);
    const tfFirst = new TrainingRun(opts);
    await losses(tfFirst, 2);
    const { json, arrays } = await tfFirst.exportState();
    const weights = await tfFirst.folderWeights();
    tfFirst.dispose();
    const ortRun = await OrtTrainingRun.create({ ...opts, weights, provider: 'cpu', threads: 1 });
    ortRun.importState(json, arrays);
    const rest = await losses(ortRun, 2);
    for (let i = 0; i < 2; i++) expect(Math.abs(rest[i]! - expected[2 + i]!)).toBeLessThanOrEqual(1e-4);
    tfRun.dispose();
    await ortRun.dispose();
  });

  it('float16: follows the float32 run over 8 steps, and resumes with its loss scale', async () => {
    const { opts } = setup();
    const o: OrtRunOptions = { ...opts, provider: 'cpu', threads: 1 };
    const full = await OrtTrainingRun.create(o);
    const half = await OrtTrainingRun.create({ ...o, precision: 'fp16' });
    expect(full.lossScale).toBeNull();
    const a = await losses(full, 8);
    const b = await losses(half, 8);
    for (let i = 0; i < 8; i++) expect(Math.abs(b[i]! - a[i]!), `step ${i + 1}`).toBeLessThanOrEqual(0.02 * a[i]!);
    expect(b.slice(4)).not.toEqual(a.slice(4));
    expect(half.lossScale!.skipped).toBe(0);
    half.lossScale!.scale = 4096;
    const { json, arrays } = await half.exportState();
    expect(json.lossScale).toEqual({ scale: 4096, goodSteps: 8 });
    const resumed = await OrtTrainingRun.create({ ...o, precision: 'fp16', weights: await half.folderWeights() });
    resumed.importState(json, arrays);
    expect(resumed.lossScale!.state()).toEqual({ scale: 4096, goodSteps: 8 });
    expect(await losses(resumed, 2)).toEqual(await losses(half, 2));
    await full.dispose();
    await half.dispose();
    await resumed.dispose();
  });

  it('float16 carry: follows the float32 carry, resumes exactly, in micro-batches, on 3 sessions and with reused outputs', async () => {
    const { opts } = setup();
    const o: OrtRunOptions = { ...opts, provider: 'cpu', threads: 1, precision: 'fp16' };
    const wide = await OrtTrainingRun.create(o);
    const half = await OrtTrainingRun.create({ ...o, carry: 'fp16' });
    const a = await losses(wide, 6);
    const b = await losses(half, 6);
    for (let i = 0; i < 6; i++) expect(Math.abs(b[i]! - a[i]!), `step ${i + 1}`).toBeLessThanOrEqual(0.01 * a[i]!);
    // the saved carry is float32 (the state format), holding the float16 values exactly
    const { json, arrays } = await half.exportState();
    expect(arrays.carry!.zH.data).toBeInstanceOf(Float32Array);
    const resumed = await OrtTrainingRun.create({ ...o, carry: 'fp16', weights: await half.folderWeights() });
    resumed.importState(json, arrays);
    expect(await losses(resumed, 2)).toEqual(await losses(half, 2));
    const parts = await OrtTrainingRun.create({ ...o, carry: 'fp16', microBatch: 5, reuseOutputs: true });
    const devices = await OrtTrainingRun.create({ ...o, carry: 'fp16', devices: 3 });
    const whole = await OrtTrainingRun.create({ ...o, carry: 'fp16' });
    const c = await losses(parts, 4);
    const e = await losses(devices, 4);
    const d = await losses(whole, 4);
    for (let i = 0; i < 4; i++) {
      expect(Math.abs(c[i]! - d[i]!)).toBeLessThanOrEqual(1e-3 * d[i]!);
      expect(Math.abs(e[i]! - d[i]!)).toBeLessThanOrEqual(1e-3 * d[i]!);
    }
    for (const r of [wide, half, resumed, parts, devices, whole]) await r.dispose();
    await expect(OrtTrainingRun.create({ ...opts, provider: 'cpu', carry: 'fp16' })).rejects.toThrow(
      /a float16 carry needs precision fp16/,
    );
  });

  it('float16: a step whose gradients overflow changes no weight and halves the loss scale', async () => {
    const { opts } = setup();
    const run = await OrtTrainingRun.create({ ...opts, provider: 'cpu', threads: 1, precision: 'fp16' });
    await losses(run, 1);
    const before = await run.exportState();
    run.lossScale!.scale = 2 ** 40; // every float16 gradient overflows
    const report = await run.trainStep();
    expect(report.step).toBe(2);
    expect(run.lossScale!.state()).toEqual({ scale: 2 ** 39, goodSteps: 0 });
    expect(run.lossScale!.skipped).toBe(1);
    const after = await run.exportState();
    for (const k of Object.keys(before.arrays.params))
      expect(Array.from(after.arrays.params[k]!.data), k).toEqual(Array.from(before.arrays.params[k]!.data));
    await run.dispose();
  });
});
