// What a person sees on a terminal during a training session: the progress bar shows "-" (never NaN) until the first
// training record, and the evaluation lines, mid-run and final, stand on lines of their own instead of being
// written onto the bar.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getPreset, type ModelConfig, Rng, type TrainConfig } from '@trm/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend/backend.js';
import { easySudoku, sudokuSplit } from '../data/easy-sudoku.js';
import { fromMemory } from '../data/split.js';
import type { TrainRecord } from '../metrics/records.js';
import type { RunMeta } from './checkpointing.js';
import { latestTrainView, runSession } from './session.js';
import { TrainingRun } from './training-run.js';

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

  it('an interrupted session writes the steps since its last record as one, so a resumed run has no gap', async () => {
    const preset = getPreset('test-micro');
    const meta: RunMeta = {
      preset: 'test-micro',
      model: { ...preset.model, halt_max_steps: 2 },
      train: { ...preset.train, seed: 1 },
      total_steps: 50,
      data: 'easy sudoku (test)',
      data_shape: { examples: 32, groups: 32 },
      backend: 'wasm',
      wall_s: 0,
      eval_every: 0,
      eval_examples: 4,
    };
    const stop = new AbortController();
    const out = join(root, 'interrupted');
    const summary = await runSession({
      meta,
      train: fromMemory(sudokuSplit(easySudoku(32, [3, 6], new Rng(1)))),
      test: fromMemory(sudokuSplit(easySudoku(4, [3, 6], new Rng(2)))),
      identifiers: null,
      out,
      resume: null,
      logEvery: 3,
      quiet: true,
      signal: stop.signal,
      command: 'test',
      machine: 'test',
      // the tfjs run, aborted (as Ctrl-C does) once its 5th step is done
      openRun: async (ro) => {
        const inner = new TrainingRun(ro);
        return new Proxy(inner, {
          get(target, key) {
            if (key === 'trainStep')
              return async () => {
                const report = await target.trainStep();
                if (report.step === 5) stop.abort();
                return report;
              };
            const value = Reflect.get(target, key, target);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        });
      },
    });
    expect(summary.interrupted).toBe(true);
    expect(summary.step).toBe(5);
    const records = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((r) => r.kind === 'train');
    expect(records.map((r) => r.step)).toEqual([3, 5]);
  });
});

describe('latestTrainView', () => {
  const record = (step: number, count: number, exact: number): TrainRecord => ({
    kind: 'train',
    step,
    epoch: step,
    lr: 1e-4,
    time_s: step,
    samples_per_s: 1000 + step,
    steps_per_s: 1,
    count,
    accuracy: count ? 0.6 : 0,
    exact_accuracy: exact,
    q_halt_accuracy: count ? 0.9 : 0,
    steps: count ? 16 : 0,
    lm_loss: 1 / step,
    q_halt_loss: 0.01,
    halt_rate: count ? 1 / 16 : 0,
  });

  it('takes the halted-row metrics of the last window in which rows halted, the loss and speed of the last one', () => {
    const v = latestTrainView(record(20, 0, 0), record(16, 768, 0.25));
    expect(v).toMatchObject({ step: 20, lm_loss: 1 / 20, samples_per_s: 1020, count: 768, exact_accuracy: 0.25 });
    expect(v).toMatchObject({ accuracy: 0.6, q_halt_accuracy: 0.9, steps: 16 });
  });

  it('keeps a window in which rows halted, and one with none when no earlier window had any', () => {
    const halted = record(32, 768, 0.5);
    expect(latestTrainView(halted, record(16, 768, 0.25))).toBe(halted);
    const none = record(10, 0, 0);
    expect(latestTrainView(none, null)).toBe(none);
    expect(latestTrainView(null, null)).toBeNull();
  });
});
