// Exact resume: 6 steps straight give the same weights, EMA, moments and carry as 3 steps, a save, a load into a
// fresh run, and 3 more steps. Plus the model folder's layout, the detection of files of different saves and the
// error for a damaged train-state.json. (A save killed part-way: interrupted-save.test.ts.)
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  checkpointTensors,
  getPreset,
  type ModelConfig,
  Rng,
  readSafetensorsHeader,
  type TrainConfig,
} from '@trm/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend/backend.js';
import { easySudoku, sudokuSplit } from '../data/easy-sudoku.js';
import { fromMemory } from '../data/split.js';
import { loadCheckpoint, type RunMeta, saveCheckpoint } from './checkpointing.js';
import { TrainingRun } from './training-run.js';

const dir = mkdtempSync(join(tmpdir(), 'trm-ckpt-'));
beforeAll(async () => {
  // wasm is deterministic too, and ~20x faster than the cpu backend here.
  await selectBackend('wasm', () => {});
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const preset = getPreset('test-micro');
// Two supervision steps per sample so that slots reset and take new data within the 6 steps; a big exploration
// probability so the exploration draws matter; a puzzle table of 3 rows so sign-SGD runs on real rows.
const model: ModelConfig = {
  ...preset.model,
  halt_max_steps: 2,
  halt_exploration_prob: 0.5,
  num_puzzle_identifiers: 3,
};
const train: TrainConfig = { ...preset.train, lr_warmup_steps: 2, seed: 5 };
const split = sudokuSplit(easySudoku(40, [3, 6], new Rng(9)));
split.puzzleIdentifiers.forEach((_, i) => {
  split.puzzleIdentifiers[i] = i % 3;
});
const data = fromMemory(split);
const opts = { model, train, totalSteps: 6, data };

async function snapshot(run: TrainingRun): Promise<Record<string, number[]>> {
  const { json, arrays } = await run.exportState();
  const out: Record<string, number[]> = { steps: json.slots.steps, halted: json.slots.halted };
  for (const [k, v] of Object.entries(arrays.params)) out[`param.${k}`] = Array.from(v.data);
  for (const [k, v] of Object.entries(arrays.ema ?? {})) out[`ema.${k}`] = Array.from(v.data);
  for (const [k, v] of Object.entries(arrays.optimizer)) out[`optim.${k}`] = Array.from(v.data);
  out.zH = Array.from(arrays.carry!.zH.data);
  out.zL = Array.from(arrays.carry!.zL.data);
  out.inputs = Array.from(arrays.carry!.data.inputs);
  out.table = Array.from(run.model.puzzleTable!.data);
  out.H_init = Array.from(await run.model.variables.get('H_init')!.data());
  return out;
}

const meta: RunMeta = {
  preset: 'test-micro',
  model,
  train,
  total_steps: 6,
  data: 'easy sudoku (test)',
  data_shape: { examples: 40, groups: 40 },
  backend: 'wasm',
  wall_s: 0,
  eval_every: 0,
  eval_examples: 0,
};

describe('checkpoint and resume', () => {
  it('resume gives the same weights, EMA, moments and carry as an uninterrupted run (bitwise)', async () => {
    const straight = new TrainingRun(opts);
    const resets: number[] = [];
    for (let i = 0; i < 6; i++) resets.push((await straight.trainStep()).halted);
    const want = await snapshot(straight);
    straight.dispose();
    // slots did halt and reload during the run (otherwise the carry replacement would be untested)
    expect(resets.some((h) => h > 0)).toBe(true);

    const first = new TrainingRun(opts);
    for (let i = 0; i < 3; i++) await first.trainStep();
    await saveCheckpoint({ dir, run: first, meta, card: '# test\n', identifiers: ['<blank>', 'a', 'b'] });
    first.dispose();

    const point = await loadCheckpoint(dir);
    expect(point.json.step).toBe(3);
    expect(point.meta.total_steps).toBe(6);
    const resumed = new TrainingRun({ ...opts, weights: point.weights });
    resumed.importState(point.json, point.arrays);
    for (let i = 0; i < 3; i++) await resumed.trainStep();
    const got = await snapshot(resumed);
    resumed.dispose();

    expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
    for (const k of Object.keys(want)) expect(got[k], k).toEqual(want[k]);
    expect(tf.memory().numTensors).toBeLessThan(20);
  });

  it('writes the model folder with reference names, fp32, the EMA weights and the run state', async () => {
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(config).toEqual(model);
    const header = await readSafetensorsHeader(join(dir, 'weights.safetensors'));
    const names = header.tensors.map((t) => t.name).sort();
    expect(names).toEqual(
      checkpointTensors(model)
        .map((t) => t.name)
        .sort(),
    );
    expect(names).toContain('H_init');
    expect(names).toContain('puzzle_emb.weights');
    expect(header.tensors.every((t) => t.dtype === 'F32')).toBe(true);
    expect(header.metadata?.['trm.step']).toBe('3');
    expect(JSON.parse(readFileSync(join(dir, 'identifiers.json'), 'utf8'))).toEqual(['<blank>', 'a', 'b']);
    // The folder holds the EMA weights, which differ from the live weights kept in train-state.
    const point = await loadCheckpoint(dir);
    const w = point.weights['lm_head.weight']!.data;
    const live = point.arrays.params['lm_head.weight']!.data;
    expect(Array.from(w)).not.toEqual(Array.from(live));
    const stateHeader = await readSafetensorsHeader(join(dir, 'train-state.safetensors'));
    const stateNames = stateHeader.tensors.map((t) => t.name);
    expect(stateNames).toContain('carry.z_H');
    expect(stateNames).toContain('optim.exp_avg.lm_head.weight');
    expect(stateNames).toContain('param.lm_head.weight');
  });

  it('refuses to resume from files of different saves', async () => {
    const path = join(dir, 'train-state.json');
    const state = JSON.parse(readFileSync(path, 'utf8'));
    writeFileSync(path, JSON.stringify({ ...state, checkpoint_id: 'other' }));
    await expect(loadCheckpoint(dir)).rejects.toThrow(/different saves/);
    writeFileSync(path, JSON.stringify(state));
    await expect(loadCheckpoint(dir)).resolves.toBeDefined();
  });

  it('names train-state.json and says what is wrong when it is cut short', async () => {
    const path = join(dir, 'train-state.json');
    const text = readFileSync(path, 'utf8');
    writeFileSync(path, text.slice(0, text.length >> 1));
    const err = await loadCheckpoint(dir).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(`${path} is not valid JSON`);
    expect((err as Error).message).toMatch(/damaged or cut short/);
    writeFileSync(path, text);
    await expect(loadCheckpoint(dir)).resolves.toBeDefined();
  });
});
