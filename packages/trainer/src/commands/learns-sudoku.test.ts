// Learning is real: sudoku-tiny-mlp, trained by the train command on the CPU (tfjs wasm, and the generated training
// graph on ONNX Runtime's CPU provider), solves held-out easy sudoku (3-6 blanks) to >= 95 % exact accuracy in 400
// steps, measured by the run's own evaluation and again by the eval command on the saved model folder with
// puzzles from another seed. About 80 s of training on wasm, 20 s on ONNX Runtime, on an idle 2-core machine.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng, SUDOKU } from '@trm/core';
import { afterAll, describe, expect, it } from 'vitest';
import { easySudoku, sudokuSplit } from '../data/easy-sudoku.js';
import { writeDataset } from '../data/write-dataset.js';
import type { CommandIo } from '@trm/core';
import { evalCommand } from './eval.js';
import { trainCommand } from './train.js';

const root = mkdtempSync(join(tmpdir(), 'trm-learn-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const lines: string[] = [];
const io: CommandIo = { out: (l) => lines.push(l), err: () => {}, quiet: true };

// The third case trains 3 optimiser steps per graph run and evaluates every 100 steps (runs of fewer steps end at
// each evaluation, since 100 is not a multiple of 3).
const CASES = [
  { backend: 'wasm', extra: [] },
  { backend: 'ort-cpu', extra: [] },
  { backend: 'ort-cpu', extra: ['--steps-per-run', '3'] },
] as const;

describe('sudoku-tiny-mlp learns easy sudoku', () => {
  for (const [k, { backend, extra }] of CASES.entries()) {
    it(`reaches >= 95 % exact accuracy on held-out puzzles in 400 steps (${backend}${extra.length ? ` ${extra.join(' ')}` : ''})`, {
      timeout: 600_000,
    }, async () => {
      const out = join(root, `model-${k}`);
      const t0 = performance.now();
      const summary = await trainCommand(
        [
          '--preset',
          'sudoku-tiny-mlp',
          '--steps',
          '400',
          '--backend',
          backend,
          '--eval-every',
          extra.length ? '100' : '0',
          '--eval-examples',
          '0',
          '--out',
          out,
          ...extra,
        ],
        io,
      );
      const seconds = (performance.now() - t0) / 1000;
      const e = summary!.lastEval!;
      console.log(`sudoku-tiny-mlp on ${backend}, 400 steps in ${seconds.toFixed(0)} s: ${lines.at(-1)}`);
      expect(e.examples).toBe(256);
      expect(e.exact_accuracy).toBeGreaterThanOrEqual(0.95);
      expect(e.exact_accuracy_halted).toBeGreaterThanOrEqual(0.95);
      // it learned to halt: fewer steps than the maximum on average
      expect(e.steps_halted).toBeLessThan(2);

      // The saved folder, scored by the eval command on puzzles it has never seen (another seed).
      const data = join(root, `held-out-${k}`);
      writeDataset(data, {
        splits: { test: sudokuSplit(easySudoku(200, [3, 6], new Rng(12345))) },
        vocabSize: SUDOKU.vocabSize,
        numPuzzleIdentifiers: 1,
      });
      const r = await evalCommand(['--model', out, '--data', data, '--backend', backend], io);
      const test = r!.splits[0]!;
      console.log(lines.at(-2));
      expect(test.examples).toBe(200);
      if (extra.length) {
        // the evaluations fell on their steps: 100, 200, 300 and the end
        const records = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l));
        expect(records.filter((r) => r.kind === 'eval').map((r) => r.step)).toEqual([100, 200, 300, 400]);
      }
      expect(test.exact_accuracy).toBeGreaterThanOrEqual(0.95);
    });
  }
});
