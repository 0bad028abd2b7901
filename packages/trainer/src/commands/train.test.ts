// The train command end to end on test-micro with generated sudoku: output folder, exact resume through the CLI
// (6 steps straight = 3 steps + --resume to 6, with an interrupted session in between), and flag errors.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, readSafetensors, SUDOKU } from '@trm/core';
import { afterAll, describe, expect, it } from 'vitest';
import type { CommandIo } from '@trm/core';
import { easySudoku, sudokuSplit } from '../data/easy-sudoku.js';
import { writeDataset } from '../data/write-dataset.js';
import { defaultStepsPerRun, trainCommand } from './train.js';

const root = mkdtempSync(join(tmpdir(), 'trm-train-cmd-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function io(signal?: AbortSignal): CommandIo & { lines: string[] } {
  const lines: string[] = [];
  return { out: (l) => lines.push(l), err: () => {}, quiet: true, signal, lines };
}

const common = [
  '--preset',
  'test-micro',
  '--backend',
  'wasm',
  '--eval-every',
  '0',
  '--eval-examples',
  '8',
  '--generate',
  '64',
];

async function tensors(path: string): Promise<Record<string, number[]>> {
  const f = await readSafetensors(path);
  return Object.fromEntries([...f.tensors].map(([k, t]) => [k, Array.from(t.data as ArrayLike<number>)]));
}

describe('train command', () => {
  it('writes the model folder, metrics, curves and a summary line', async () => {
    const out = join(root, 'straight');
    const cli = io();
    const summary = await trainCommand([...common, '--steps', '6', '--out', out, '--log-every', '2'], cli);
    expect(summary?.step).toBe(6);
    for (const f of [
      'config.json',
      'weights.safetensors',
      'README.md',
      'train-state.json',
      'train-state.safetensors',
      'metrics.jsonl',
      'curves.svg',
    ])
      expect(existsSync(join(out, f)), f).toBe(true);
    const records = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records.filter((r) => r.kind === 'train').map((r) => r.step)).toEqual([2, 4, 6]);
    expect(records.filter((r) => r.kind === 'eval')).toHaveLength(1);
    expect(records.at(-1).examples).toBe(8);
    expect(cli.lines).toHaveLength(1);
    expect(cli.lines[0]).toMatch(/^done: step 6\/6 in .* test exact .* \(8 examples\); saved to /);
    const card = readFileSync(join(out, 'README.md'), 'utf8');
    expect(card).toContain('6 of 6 optimiser steps');
    // The card travels with the folder: no absolute path of this machine, the output folder by its name.
    expect(card).not.toContain(root);
    expect(card).toContain('--steps 6 --out straight --log-every 2');
  });

  it('resumes exactly: 3 steps, an interrupted session, then --resume to 6 equals 6 steps straight', async () => {
    const out = join(root, 'split');
    await trainCommand([...common, '--steps', '3', '--out', out], io());
    const aborted = new AbortController();
    aborted.abort();
    const stopped = await trainCommand(
      ['--out', out, '--resume', '--steps', '6', '--backend', 'wasm'],
      io(aborted.signal),
    );
    expect(stopped?.interrupted).toBe(true);
    expect(stopped?.step).toBe(3);
    const resumed = await trainCommand(
      ['--out', out, '--resume', '--steps', '6', '--backend', 'wasm', '--quiet'],
      io(),
    );
    expect(resumed?.step).toBe(6);

    const straight = join(root, 'straight');
    expect(await tensors(join(out, 'weights.safetensors'))).toEqual(
      await tensors(join(straight, 'weights.safetensors')),
    );
    expect(await tensors(join(out, 'train-state.safetensors'))).toEqual(
      await tensors(join(straight, 'train-state.safetensors')),
    );
    const state = (d: string) => JSON.parse(readFileSync(join(d, 'train-state.json'), 'utf8')).run;
    expect(state(out)).toEqual(state(straight));
  });

  it('--warmup sets the steps of the learning-rate warm-up', async () => {
    const out = join(root, 'warmup');
    await trainCommand([...common, '--steps', '6', '--out', out, '--log-every', '1', '--warmup', '3'], io());
    const lrs = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((r) => r.kind === 'train')
      .map((r) => r.lr as number);
    expect(lrs).toHaveLength(6);
    expect(lrs[0]).toBeLessThan(lrs[1]!);
    expect(lrs[1]).toBeLessThan(lrs[2]!);
    expect(lrs.slice(3)).toEqual([lrs[2], lrs[2], lrs[2]]);
  });

  it('--weight-decay, --puzzle-lr and --ema-rate set the optimiser; --ema-rate 0 saves the trained weights', async () => {
    const out = join(root, 'hyper');
    const args = ['--steps', '2', '--weight-decay', '0.25', '--puzzle-lr', '0.03', '--ema-rate', '0.9'];
    await trainCommand([...common, ...args, '--out', out], io());
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toMatch(
      /weight decay 0\.25, puzzle-embedding lr 0\.03, EMA 0\.9,/,
    );
    await expect(trainCommand(['--out', out, '--resume', '--weight-decay', '1'], io())).rejects.toThrow(
      '--weight-decay cannot change on --resume (the run was saved with 0.25, got 1)',
    );
    await expect(trainCommand(['--out', out, '--resume', '--ema-rate', '0'], io())).rejects.toThrow(
      '--ema-rate cannot change on --resume (the run was saved with 0.9, got 0)',
    );
    // Without EMA the saved weights are the trained ones: the same as the optimiser's copy in the training state.
    const plain = join(root, 'no-ema');
    await trainCommand([...common, '--steps', '2', '--ema-rate', '0', '--out', plain], io());
    expect(readFileSync(join(plain, 'README.md'), 'utf8')).toContain('EMA off');
    const withEma = await tensors(join(out, 'weights.safetensors'));
    const without = await tensors(join(plain, 'weights.safetensors'));
    expect(Object.keys(without)).toEqual(Object.keys(withEma));
    expect(without).not.toEqual(withEma);
    await expect(trainCommand([...common, '--ema-rate', '1.5', '--out', join(root, 'bad')], io())).rejects.toThrow(
      '--ema-rate must be a number >= 0 and <= 1 (got "1.5")',
    );
  });

  it('refuses to overwrite a saved run, to resume nothing, and to change the batch on resume', async () => {
    const out = join(root, 'straight');
    await expect(trainCommand([...common, '--steps', '1', '--out', out], io())).rejects.toThrow(
      /already holds a saved run: pass --resume/,
    );
    await expect(trainCommand(['--out', join(root, 'none'), '--resume'], io())).rejects.toThrow(
      /--resume: .* holds no saved run/,
    );
    await expect(trainCommand(['--out', out, '--resume', '--batch', '4'], io())).rejects.toThrow(
      '--batch cannot change on --resume (the run was saved with 8, got 4)',
    );
    await expect(trainCommand(['--out', out, '--resume', '--warmup', '7'], io())).rejects.toThrow(
      /--warmup cannot change on --resume \(the run was saved with \d+, got 7\)/,
    );
    await expect(trainCommand(['--preset', 'maze-tiny', '--out', join(root, 'maze')], io())).rejects.toThrow(
      '--data is required for task "maze"',
    );
  });

  it('--init starts a new run from a model folder: its weights, another batch size; refuses another shape', async () => {
    const base = join(root, 'init-base');
    await trainCommand([...common, '--steps', '3', '--out', base], io());
    const next = join(root, 'init-next');
    // A learning rate of 1e-12 leaves the weights where --init put them (the EMA of nearly unchanged weights).
    await trainCommand(
      [...common, '--steps', '1', '--batch', '16', '--lr', '1e-12', '--init', base, '--out', next],
      io(),
    );
    const a = await tensors(join(base, 'weights.safetensors'));
    const b = await tensors(join(next, 'weights.safetensors'));
    for (const [name, values] of Object.entries(a)) {
      const diff = Math.max(...values.map((v, i) => Math.abs(v - b[name]![i]!)));
      // The puzzle rows learn at their own rate (sign-SGD; 1e-4 in this first warm-up step), not at --lr.
      expect(diff, name).toBeLessThan(name === 'puzzle_emb.weights' ? 1.5e-4 : 1e-6);
    }
    expect(JSON.parse(readFileSync(join(next, 'config.json'), 'utf8')).batch_size).toBe(16);
    const card = readFileSync(join(next, 'README.md'), 'utf8');
    expect(card).toContain('(weights from init-base)');
    expect(card).toContain('--init init-base --out init-next');
    expect(card).not.toContain(root);
    // From scratch the same run ends elsewhere.
    const fresh = join(root, 'init-fresh');
    await trainCommand(
      [...common, '--steps', '1', '--batch', '16', '--lr', '1e-12', '--seed', '3', '--out', fresh],
      io(),
    );
    const c = await tensors(join(fresh, 'weights.safetensors'));
    expect(Math.max(...a['lm_head.weight']!.map((v, i) => Math.abs(v - c['lm_head.weight']![i]!)))).toBeGreaterThan(
      1e-3,
    );
    await expect(trainCommand(['--out', next, '--resume', '--init', base], io())).rejects.toThrow(
      '--init starts a new run; it cannot go with --resume',
    );
    await expect(
      trainCommand(
        ['--preset', 'sudoku-tiny', '--generate', '64', '--steps', '1', '--init', base, '--out', join(root, 'x')],
        io(),
      ),
    ).rejects.toThrow(/--init .*init-base: its hidden_size is 16, the new run's is 64/);
  }, 120_000);

  it('--init on a dataset folder: the card names both folders, and --resume finds the data without --data', async () => {
    const data = join(root, 'init-data');
    writeDataset(data, {
      splits: {
        train: sudokuSplit(easySudoku(32, [3, 6], new Rng(4))),
        test: sudokuSplit(easySudoku(8, [3, 6], new Rng(5))),
      },
      vocabSize: SUDOKU.vocabSize,
      numPuzzleIdentifiers: 1,
    });
    const flags = ['--preset', 'test-micro', '--backend', 'wasm', '--eval-every', '0', '--eval-examples', '8'];
    const base = join(root, 'data-base');
    await trainCommand([...flags, '--data', data, '--steps', '1', '--out', base], io());
    const next = join(root, 'data-next');
    await trainCommand([...flags, '--data', data, '--steps', '1', '--init', base, '--out', next], io());
    const card = () => readFileSync(join(next, 'README.md'), 'utf8');
    expect(card()).toContain('- data: init-data (weights from data-base)');
    expect(card()).not.toContain(root);
    const resumed = await trainCommand(['--out', next, '--resume', '--steps', '2'], io());
    expect(resumed?.step).toBe(2);
    expect(card()).toContain('- data: init-data (weights from data-base)');
    expect(card()).toContain('2 of 2 optimiser steps');
  }, 120_000);

  it('runs 16 optimiser steps per graph run by default only on one CUDA device with the whole batch', () => {
    const base = { provider: 'cuda', devices: 1, microBatch: undefined, optimizerOn: undefined } as const;
    expect(defaultStepsPerRun(base)).toBe(16);
    expect(defaultStepsPerRun({ ...base, optimizerOn: 'host' })).toBe(16);
    expect(defaultStepsPerRun({ ...base, provider: 'cpu' })).toBe(1);
    expect(defaultStepsPerRun({ ...base, provider: 'webgpu' })).toBe(1);
    expect(defaultStepsPerRun({ ...base, devices: 2 })).toBe(1);
    expect(defaultStepsPerRun({ ...base, microBatch: 64 })).toBe(1);
    expect(defaultStepsPerRun({ ...base, optimizerOn: 'device' })).toBe(1);
  });
});
