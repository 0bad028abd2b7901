// What a person sees on a terminal during a training session: the progress bar shows "-" (never NaN) until the first
// training record, and the evaluation lines, mid-run and final, stand on lines of their own instead of being
// written onto the bar.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getPreset, type ModelConfig, Rng, type TrainConfig } from '@trm/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend/backend.js';
import { easySudoku, sudokuSplit } from '../data/easy-sudoku.js';
import { fromMemory } from '../data/split.js';
import type { RunMeta } from './checkpointing.js';
import { runSession } from './session.js';

const root = mkdtempSync(join(tmpdir(), 'trm-session-'));
beforeAll(async () => {
  await selectBackend('wasm', () => {});
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A terminal's stderr that records what was written to it. */
function terminal(): { stream: NodeJS.WriteStream; chunks: string[]; text: () => string } {
  const chunks: string[] = [];
  const stream = {
    isTTY: true,
    write: (chunk: string) => {
      chunks.push(chunk);
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  return { stream, chunks, text: () => chunks.join('') };
}

/** The progress bar clears its line with CR + "erase line" before drawing it again. */
const CLEAR = '\r\x1b[2K';

/** The lines a terminal shows for `text`. */
function screen(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.split(CLEAR).at(-1)!)
    .filter((line) => line !== '');
}

describe('training session output', () => {
  it('shows "-" before the first record and keeps evaluation lines off the progress bar', async () => {
    const preset = getPreset('test-micro');
    const model: ModelConfig = { ...preset.model, halt_max_steps: 2 };
    const train: TrainConfig = { ...preset.train, seed: 1 };
    const meta: RunMeta = {
      preset: 'test-micro',
      model,
      train,
      total_steps: 4,
      data: 'easy sudoku (test)',
      data_shape: { examples: 32, groups: 32 },
      backend: 'wasm',
      wall_s: 0,
      eval_every: 2,
      eval_examples: 4,
    };
    const tty = terminal();
    const summary = await runSession({
      meta,
      train: fromMemory(sudokuSplit(easySudoku(32, [3, 6], new Rng(1)))),
      test: fromMemory(sudokuSplit(easySudoku(4, [3, 6], new Rng(2)))),
      identifiers: null,
      out: join(root, 'run'),
      resume: null,
      logEvery: 3,
      stream: tty.stream,
      command: 'test',
      machine: 'test',
    });
    expect(summary.step).toBe(4);

    const text = tty.text();
    expect(text).not.toContain('NaN');
    // The first drawing of the bar comes before the first record (at step 3).
    expect(screen(tty.chunks[0]!)[0]).toMatch(/step 1\/4 {2}loss - {2}acc - {2}halt - {2}samples\/s -$/);

    const lines = screen(text);
    const evals = lines.filter((l) => l.includes('eval step'));
    expect(evals).toHaveLength(2);
    for (const l of evals) expect(l).toMatch(/^eval step [24]: exact /);
    expect(lines.at(-1)).toMatch(/^trained 4 steps in .*; checkpoint in /);
    expect(lines.at(-2)).toMatch(/^eval step 4: exact /);
    expect(lines.at(-3)).toMatch(/^train test-micro \[#+\] 4\/4 100\.0%.* {2}step 4\/4 {2}loss \d/);
  });
});
