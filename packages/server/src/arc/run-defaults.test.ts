import { join } from 'node:path';
import { readModelConfig } from '@trm/core';
import { describe, expect, it } from 'vitest';
import { findRepoRoot } from './adapt-command.js';
import { heapHint } from './adapt-rows.js';
import { adaptBatch, adaptRowLimit, argValue, SOLVE_ARC_DEFAULTS } from './run-defaults.js';
import { describeWork, estimateSeconds, estimateWork } from './work-estimate.js';

const models = join(findRepoRoot()!, 'models');

describe('solve-arc defaults', () => {
  it('keeps the reference settings on GPU providers and runs short, small and on ort-cpu on the CPU', () => {
    expect(SOLVE_ARC_DEFAULTS.cuda).toEqual({ augment: 1000, adaptSteps: 500, adaptBackend: 'ort-cuda' });
    expect(SOLVE_ARC_DEFAULTS.webgpu).toEqual({ augment: 1000, adaptSteps: 500, adaptBackend: 'webgpu' });
    expect(SOLVE_ARC_DEFAULTS.cpu).toEqual({ augment: 8, adaptSteps: 100, adaptBackend: 'ort-cpu' });
  });

  it("bounds adapt's batch for the shipped models by time on a CPU and by the heap on wasm", async () => {
    // 30x30: 4 rows per step on ort-cpu (about 2 s a step on two cores); 1 on wasm, whose heap fails at 4
    // ("remainder by zero", "memory access out of bounds"); the model's 64 on a GPU.
    const arc1 = await readModelConfig(join(models, 'arc1-small'));
    expect(adaptRowLimit(arc1, 'ort-cpu')).toBe(4);
    expect(adaptRowLimit(arc1, 'wasm')).toBe(1);
    expect(adaptRowLimit(arc1, 'ort-cuda')).toBeNull();
    expect(adaptRowLimit(arc1, 'webgpu')).toBeNull();
    // 8x8: the model's batch of 64 everywhere (it adapts at batch 64 on wasm, as measured).
    const mini = await readModelConfig(join(models, 'arc-simple-mini'));
    expect(adaptRowLimit(mini, 'ort-cpu')).toBe(64);
    expect(adaptRowLimit(mini, 'wasm')).toBeGreaterThanOrEqual(64);
    // The batch never exceeds the chunk's demonstration pairs (the sampler needs one full batch per epoch).
    expect(adaptBatch(64, 18, 4)).toBe(4);
    expect(adaptBatch(64, 3, 4)).toBe(3);
    expect(adaptBatch(64, 100, null)).toBe(64);
  });

  it('reads a flag of an argument list in both forms', () => {
    expect(argValue(['--lr', '0.05', '--batch', '8'], '--batch')).toBe('8');
    expect(argValue(['--batch=8'], '--batch')).toBe('8');
    expect(argValue(['--batches', '8'], '--batch')).toBeUndefined();
  });

  it("explains the wasm backend's heap failures, which do not say memory", () => {
    for (const why of ['adapt: remainder by zero', 'memory access out of bounds', 'Aborted(). Build with -sASSERTIONS'])
      expect(heapHint(why, 'wasm', 64)).toMatch(
        /^ \(the tfjs wasm backend's heap, at most 4 GiB, does not hold a training batch of 64 rows .*--adapt-backend ort-cpu/,
      );
    expect(heapHint('Failed to allocate memory; out of memory', 'ort-cpu', 9)).toBe(
      ' (adapt ran out of memory at a batch of 9 rows: pass a smaller --adapt-batch)',
    );
    expect(heapHint('no puzzle named x', 'wasm', 4)).toBe('');
  });
});

describe('work estimate', () => {
  const task = (train: number, tests: number) => ({
    train: Array.from({ length: train }, () => ({ input: [[1]], output: [[2]] })),
    test: Array.from({ length: tests }, () => ({ input: [[1]] })),
  });
  const tasks = new Map([
    ['a', task(3, 1)],
    ['b', task(2, 2)],
    ['seen', task(4, 1)],
  ]);
  const known = new Map([['seen', ['seen', 'seen|||t1|||0123456789']]]);

  it('counts training sequences per adapt run and puzzles x steps, known tasks on their own variants', () => {
    const w = estimateWork({
      tasks,
      known,
      augment: 8,
      chunkSize: 2,
      adapt: { steps: 100, batch: (pairs) => adaptBatch(64, pairs, 4) },
      maxSteps: 8,
    });
    // Chunk [a, b]: 9 variants each, 9 x 3 + 9 x 2 = 45 pairs, batch 4; chunk [seen]: known, no adaptation.
    expect(w).toEqual({ tasks: 3, adaptRuns: 1, adaptSequences: 400, predictions: 9 + 18 + 2, sequenceSteps: 232 });
    expect(estimateSeconds(w, 10)).toBeCloseTo((232 + 400 * 5) / 10 + 10);
    expect(describeWork(w, 10)).toBe(
      "solve-arc: work: adaptation 400 training sequences in 1 run(s); prediction 29 puzzles x steps = 232 sequence-steps at most; about 3m53s at the engine's measured 10.0 sequence-steps/s (a training sequence counted as 5, 10 s to start each adapt run)",
    );
    const none = estimateWork({ tasks, known, augment: 0, chunkSize: 8, adapt: null, maxSteps: 8 });
    expect(none).toMatchObject({ adaptRuns: 0, adaptSequences: 0, predictions: 1 + 2 + 1 });
    expect(describeWork(none, 10)).toMatch(/^solve-arc: work: no adaptation; prediction 4 puzzles/);
  });
});
