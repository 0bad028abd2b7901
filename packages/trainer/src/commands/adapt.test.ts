// The adapt command on a model trained with named puzzle identifiers: new names get new rows that start at the
// mean of the old table and are the only thing that changes; known names keep their rows; eval maps ids by name.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, readSafetensors, SUDOKU } from '@trm/core';
import { afterAll, describe, expect, it } from 'vitest';
import { easySudoku, sudokuSplit } from '../data/easy-sudoku.js';
import { writeDataset } from '../data/write-dataset.js';
import { adaptCommand } from './adapt.js';
import type { CommandIo } from '@trm/core';
import { evalCommand } from './eval.js';
import { trainCommand } from './train.js';

const root = mkdtempSync(join(tmpdir(), 'trm-adapt-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const lines: string[] = [];
const io: CommandIo = { out: (l) => lines.push(l), err: () => {}, quiet: true };

/** Easy sudoku whose puzzles carry identifiers 1..n in turn. */
function dataset(dir: string, names: string[], count: number, seed: number): void {
  const split = (n: number, s: number) => {
    const sp = sudokuSplit(easySudoku(n, [3, 6], new Rng(s)));
    sp.puzzleIdentifiers.forEach((_, i) => {
      sp.puzzleIdentifiers[i] = 1 + (i % (names.length - 1));
    });
    return sp;
  };
  writeDataset(dir, {
    splits: { train: split(count, seed), test: split(8, seed + 1) },
    vocabSize: SUDOKU.vocabSize,
    numPuzzleIdentifiers: names.length,
    identifiers: names,
  });
}

async function tensors(path: string): Promise<Map<string, Float32Array>> {
  const f = await readSafetensors(path);
  return new Map([...f.tensors].map(([k, t]) => [k, t.data as Float32Array]));
}

describe('adapt command', () => {
  it('fits rows for new identifiers only, leaving the weights and known rows as they were', async () => {
    const base = join(root, 'base-data');
    dataset(base, ['<blank>', 'a', 'b', 'c'], 24, 1);
    const model = join(root, 'model');
    await trainCommand(
      [
        '--preset',
        'test-micro',
        '--data',
        base,
        '--steps',
        '3',
        '--out',
        model,
        '--backend',
        'wasm',
        '--eval-every',
        '0',
        '--eval-examples',
        '8',
      ],
      io,
    );

    const fresh = join(root, 'new-data');
    dataset(fresh, ['<blank>', 'b', 'x', 'y'], 16, 7);
    // The trained model does not know x and y: eval says so and points to adapt.
    await expect(evalCommand(['--model', model, '--data', fresh, '--backend', 'wasm'], io)).rejects.toThrow(
      /unknown to the model, e.g. "x": fit their embeddings with the adapt command first/,
    );

    const adapted = join(root, 'adapted');
    const r = await adaptCommand(
      [
        '--model',
        model,
        '--data',
        fresh,
        '--out',
        adapted,
        '--steps',
        '12',
        '--batch',
        '8',
        '--warmup',
        '0',
        '--backend',
        'wasm',
        '--eval-examples',
        '8',
      ],
      io,
    );
    expect(r?.newIdentifiers).toBe(2);
    expect(r?.eval?.examples).toBe(8);
    expect(lines.at(-1)).toMatch(
      /^adapted 2 new puzzle identifier\(s\) in 12 steps .* test exact .*; model folder written to /,
    );

    const config = JSON.parse(readFileSync(join(adapted, 'config.json'), 'utf8'));
    expect(config.num_puzzle_identifiers).toBe(6);
    expect(JSON.parse(readFileSync(join(adapted, 'identifiers.json'), 'utf8'))).toEqual([
      '<blank>',
      'a',
      'b',
      'c',
      'x',
      'y',
    ]);
    const card = readFileSync(join(adapted, 'README.md'), 'utf8');
    expect(card).toContain('its weights are unchanged');
    // Folders by name, never by this machine's absolute path.
    expect(card).not.toContain(root);
    expect(card).toContain('- data: new-data');
    expect(card).toContain('Adapted from `model`');
    expect(card).toContain('adapt --model model --data new-data --out adapted --steps 12');
    expect(readFileSync(join(model, 'README.md'), 'utf8')).toContain('- data: base-data');

    const before = await tensors(join(model, 'weights.safetensors'));
    const after = await tensors(join(adapted, 'weights.safetensors'));
    for (const [name, t] of before)
      if (name !== 'puzzle_emb.weights') expect(Array.from(after.get(name)!), name).toEqual(Array.from(t));
    const dim = config.puzzle_emb_ndim;
    const old = before.get('puzzle_emb.weights')!;
    const table = after.get('puzzle_emb.weights')!;
    expect(Array.from(table.subarray(0, 4 * dim))).toEqual(Array.from(old));
    const mean = Array.from({ length: dim }, (_, d) =>
      Math.fround((old[d]! + old[dim + d]! + old[2 * dim + d]! + old[3 * dim + d]!) / 4),
    );
    for (const row of [4, 5]) {
      const got = Array.from(table.subarray(row * dim, (row + 1) * dim));
      // sign-SGD moved every coordinate by up to 12 steps of lr 0.01 (plus decay) away from the mean it started at
      const moved = got.map((v, d) => Math.abs(v - mean[d]!));
      expect(Math.max(...moved)).toBeGreaterThan(0.05);
      expect(Math.max(...moved)).toBeLessThan(0.13);
    }

    // The adapted model is evaluated with the data's ids mapped by name.
    const ev = await evalCommand(['--model', adapted, '--data', fresh, '--backend', 'wasm'], io);
    expect(ev?.splits[0]?.examples).toBe(8);

    // The same adaptation on ONNX Runtime: weights and known rows untouched, new rows where wasm put them (sign-SGD
    // takes the sign of each gradient, so the two engines agree but for coordinates whose gradient is near 0).
    const adaptedOrt = join(root, 'adapted-ort');
    const o = await adaptCommand(
      ['--model', model, '--data', fresh, '--out', adaptedOrt, '--steps', '12', '--batch', '8', '--warmup', '0'].concat(
        ['--backend', 'ort-cpu', '--eval-examples', '8'],
      ),
      io,
    );
    expect(o?.eval?.examples).toBe(8);
    const afterOrt = await tensors(join(adaptedOrt, 'weights.safetensors'));
    for (const [name, t] of before)
      if (name !== 'puzzle_emb.weights') expect(Array.from(afterOrt.get(name)!), name).toEqual(Array.from(t));
    const tableOrt = afterOrt.get('puzzle_emb.weights')!;
    expect(Array.from(tableOrt.subarray(0, 4 * dim))).toEqual(Array.from(old));
    let close = 0;
    for (let i = 4 * dim; i < 6 * dim; i++) if (Math.abs(tableOrt[i]! - table[i]!) < 1e-3) close++;
    expect(close / (2 * dim)).toBeGreaterThanOrEqual(0.9);
  });

  it('refuses data with nothing new and models without identifier names', async () => {
    const model = join(root, 'model');
    const base = join(root, 'base-data');
    await expect(adaptCommand(['--model', model, '--data', base, '--backend', 'wasm'], io)).rejects.toThrow(
      /names no puzzle that .* does not know: nothing to adapt/,
    );
    await expect(adaptCommand(['--data', base], io)).rejects.toThrow('--model <dir> is required');
  });
});
