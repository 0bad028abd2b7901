// A save killed at any instant leaves a run that --resume accepts. Every file operation of a save (opening a file
// for writing, renaming, removing, creating a folder) is a point where the process may die: the test kills the
// save before the k-th of them, for every k, by making that operation and every later one fail as a dead process
// would (nothing runs after the kill), then checks that loadCheckpoint returns the previous save or the new one,
// whole, and leaves the folder holding exactly that save.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import type * as FsPromises from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getPreset, type ModelConfig, Rng, readModelFolder, type TrainConfig } from '@trm/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { selectBackend } from '../backend/backend.js';
import { STAGING_DIR } from '../checkpoint/staged-save.js';
import { easySudoku, sudokuSplit } from '../data/easy-sudoku.js';
import { fromMemory } from '../data/split.js';
import { loadCheckpoint, type ResumePoint, type RunMeta, saveCheckpoint } from './checkpointing.js';
import { TrainingRun } from './training-run.js';

const kill = vi.hoisted(() => ({ at: Number.POSITIVE_INFINITY, ops: 0 }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof FsPromises>();
  const step = () => {
    kill.ops++;
    if (kill.ops >= kill.at) throw new Error('killed');
  };
  const guard =
    <A extends unknown[], R>(f: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      step();
      return f(...args);
    };
  const open: typeof fs.open = async (path, flags, mode) => {
    if (typeof flags === 'string' && /[wax+]/.test(flags)) step();
    return fs.open(path, flags, mode);
  };
  const mocked = {
    ...fs,
    open,
    rename: guard(fs.rename),
    rm: guard(fs.rm),
    unlink: guard(fs.unlink),
    mkdir: guard(fs.mkdir),
    writeFile: guard(fs.writeFile),
    copyFile: guard(fs.copyFile),
  };
  return { ...mocked, default: mocked };
});

const root = mkdtempSync(join(tmpdir(), 'trm-killed-save-'));
beforeAll(async () => {
  await selectBackend('wasm', () => {});
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const preset = getPreset('test-micro');
const model: ModelConfig = { ...preset.model, halt_max_steps: 2, num_puzzle_identifiers: 3 };
const train: TrainConfig = { ...preset.train, lr_warmup_steps: 2, seed: 3 };
const split = sudokuSplit(easySudoku(16, [3, 6], new Rng(4)));
split.puzzleIdentifiers.forEach((_, i) => {
  split.puzzleIdentifiers[i] = i % 3;
});
const meta: RunMeta = {
  preset: 'test-micro',
  model,
  train,
  total_steps: 4,
  data: 'easy sudoku (test)',
  data_shape: { examples: 16, groups: 16 },
  backend: 'wasm',
  wall_s: 0,
  eval_every: 0,
  eval_examples: 0,
};

/** A digest of everything a resume uses (not the save's random id). */
function digest(p: ResumePoint): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ meta: p.meta, json: p.json, identifiers: p.identifiers }));
  const named: [string, Float32Array][] = [
    ...Object.entries(p.weights).map(([k, v]): [string, Float32Array] => [`w.${k}`, v.data]),
    ...Object.entries(p.arrays.params).map(([k, v]): [string, Float32Array] => [`p.${k}`, v.data]),
    ...Object.entries(p.arrays.ema ?? {}).map(([k, v]): [string, Float32Array] => [`e.${k}`, v.data]),
    ...Object.entries(p.arrays.optimizer).map(([k, v]): [string, Float32Array] => [`o.${k}`, v.data]),
  ];
  const carry = p.arrays.carry;
  if (carry) named.push(['c.zH', carry.zH.data], ['c.zL', carry.zL.data]);
  for (const [name, data] of named.sort(([a], [b]) => a.localeCompare(b))) {
    h.update(name);
    h.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  if (carry) h.update(new Uint8Array(carry.data.inputs.buffer));
  return h.digest('hex');
}

describe('a save killed part-way', () => {
  it('leaves the previous or the new save, complete, at every file operation of the save', async () => {
    const run = new TrainingRun({ model, train, totalSteps: 4, data: fromMemory(split) });
    const save = (dir: string) =>
      saveCheckpoint({ dir, run, meta, card: '# test\n', identifiers: ['<blank>', 'a', 'b'] });
    try {
      const previousDir = join(root, 'previous');
      await run.trainStep();
      await save(previousDir);
      const previous = digest(await loadCheckpoint(previousDir));
      await run.trainStep();
      const newDir = join(root, 'new');
      await save(newDir);
      const fresh = digest(await loadCheckpoint(newDir));
      expect(fresh).not.toBe(previous);

      // How many file operations one save makes, starting from the previous save.
      const dir = join(root, 'run');
      const reset = () => {
        rmSync(dir, { recursive: true, force: true });
        cpSync(previousDir, dir, { recursive: true });
      };
      reset();
      kill.ops = 0;
      await save(dir);
      const total = kill.ops;
      expect(total).toBeGreaterThanOrEqual(6);

      const outcome: string[] = [];
      for (let k = 1; k <= total; k++) {
        reset();
        kill.ops = 0;
        kill.at = k;
        await expect(save(dir), `killed at operation ${k}`).rejects.toThrow('killed');
        kill.at = Number.POSITIVE_INFINITY;
        const point = await loadCheckpoint(dir);
        const got = digest(point);
        expect([previous, fresh], `killed at operation ${k} of ${total}`).toContain(got);
        outcome.push(got === previous ? 'previous' : 'new');
        // The folder itself now holds that save, as eval, export and the server read it.
        expect(existsSync(join(dir, STAGING_DIR))).toBe(false);
        const folder = await readModelFolder(dir);
        expect(folder.weights['lm_head.weight']!.data).toEqual(point.weights['lm_head.weight']!.data);
        expect(folder.metadata['trm.step']).toBe(String(point.json.step));
      }
      // Up to the commit the previous save survives, from it on the new one.
      const firstNew = outcome.indexOf('new');
      expect(firstNew).toBeGreaterThan(0);
      expect(outcome.slice(firstNew).every((o) => o === 'new')).toBe(true);
    } finally {
      kill.at = Number.POSITIVE_INFINITY;
      run.dispose();
    }
  });
});
