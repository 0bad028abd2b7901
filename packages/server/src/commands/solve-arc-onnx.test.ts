// solve-arc end to end on ONNX Runtime's CPU provider: a tiny ARC model with random weights (exported to a model
// folder that knows one task), three hand-made tasks, two augmented variants each, and a real two-step adapt run
// in a child process for the two tasks the model has not seen. The answers of a random model are noise; what is
// checked is that every stage ran (adaptation, engine, voting, scoring) and the submission is complete and valid.
// Then the shipped 30x30 model on one ARC-AGI-1 task at the CPU defaults, with a two-step adaptation.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type CommandIo,
  getPreset,
  type ModelConfig,
  readSubmission,
  submissionProblems,
  writeModelFolder,
} from '@trm/core';
import { exportModelFolder, randomWeights } from '@trm/exporter';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findRepoRoot } from '../arc/adapt-command.js';
import { RESULTS_FILE } from '../arc/work-folder.js';
import { solveArcCommand } from './solve-arc.js';

const root = mkdtempSync(join(tmpdir(), 'trm-solve-arc-onnx-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const IDENTIFIERS = ['<blank>', 'seen', 'seen|||t2|||0213456789', 'seen|||t4|||0987654321'];
const config: ModelConfig = {
  ...getPreset('arc-tiny').model,
  hidden_size: 16,
  num_heads: 2,
  L_layers: 1,
  H_cycles: 1,
  L_cycles: 1,
  puzzle_emb_ndim: 16,
  puzzle_emb_len: 1,
  halt_max_steps: 2,
  batch_size: 4,
  num_puzzle_identifiers: IDENTIFIERS.length,
};
const TASKS = {
  seen: { train: [{ input: [[1, 2]], output: [[2, 1]] }], test: [{ input: [[3, 4]], output: [[4, 3]] }] },
  flip: {
    train: [
      {
        input: [
          [1, 0],
          [0, 0],
        ],
        output: [
          [0, 0],
          [1, 0],
        ],
      },
      { input: [[0, 2, 2]], output: [[0, 2, 2]] },
    ],
    test: [
      {
        input: [
          [3, 0],
          [3, 3],
        ],
        output: [
          [3, 3],
          [3, 0],
        ],
      },
    ],
  },
  grow: {
    train: [{ input: [[5]], output: [[5, 5]] }],
    test: [
      { input: [[6]], output: [[6, 6]] },
      {
        input: [[7], [7]],
        output: [
          [7, 7],
          [7, 7],
        ],
      },
    ],
  },
};
const COUNTS = { flip: 1, grow: 2, seen: 1 };
const model = join(root, 'model');
const tasks = join(root, 'tasks');

beforeAll(async () => {
  await writeModelFolder(model, {
    config,
    weights: randomWeights(config, { seed: 5, gain: 0.5 }),
    identifiers: IDENTIFIERS,
    card: '# random tiny ARC model for tests\n',
  });
  await exportModelFolder(model);
  mkdirSync(tasks);
  for (const [id, t] of Object.entries(TASKS)) writeFileSync(join(tasks, `${id}.json`), JSON.stringify(t));
});

describe('solve-arc with the ONNX engine and the adapt command', () => {
  it('adapts the unknown tasks, runs every variant, votes, scores, and writes a complete submission', async () => {
    const out = join(root, 'run', 'submission.json');
    const lines: string[] = [];
    const logs: string[] = [];
    const io: CommandIo = { out: (l) => lines.push(l), err: (l) => logs.push(l), quiet: false };
    const r = await solveArcCommand(
      [
        '--model',
        model,
        '--tasks',
        tasks,
        '--solutions',
        tasks,
        '--out',
        out,
        '--augment',
        '2',
        '--adapt-steps',
        '2',
        '--adapt-args=--backend wasm',
        '--ep',
        'cpu',
        '--max-batch',
        '4',
        '--quiet',
      ],
      io,
    );
    const sub = await readSubmission(out, COUNTS);
    expect(submissionProblems(sub, COUNTS)).toEqual([]);
    const records = r!.summary.records;
    expect([...records.values()].map((x) => [x.taskId, x.status, x.rows, x.variants])).toEqual([
      ['flip', 'solved', 'fitted', 3],
      ['grow', 'solved', 'fitted', 3],
      ['seen', 'solved', 'model', 3],
    ]);
    // One prediction per variant and test input, every one of them voted (or counted as an empty canvas).
    for (const rec of records.values())
      for (const t of rec.tests) {
        expect(t.predictions).toBe(3);
        expect(t.candidates.reduce((n, c) => n + c.votes, 0) + t.empty).toBe(3);
        for (const c of t.candidates) expect(c.meanHalt).toBeGreaterThan(0);
      }
    expect(r!.summary.predictions).toBe(3 + 3 * 2 + 3);
    // The two unknown tasks' six variants got rows from one adapt run of two steps.
    expect(logs.some((l) => /^adapt: adapted 6 new puzzle identifier\(s\) in 2 steps/.test(l))).toBe(true);
    expect(r!.score).toMatchObject({ totalOutputs: 4 });
    expect(r!.score!.tasks.map((t) => t.taskId)).toEqual(['flip', 'grow', 'seen']);
    expect(existsSync(join(root, 'run', 'submission.score.json'))).toBe(true);
    expect(lines.join('\n')).toMatch(/per test output: pass@2 \d+\.\d %/);
    // Scratch space is gone; the results stay for a resume.
    const work = join(root, 'run', 'submission.work');
    expect(readdirSync(work).sort()).toEqual([RESULTS_FILE, 'settings.json']);
    expect(readFileSync(join(work, RESULTS_FILE), 'utf8').trimEnd().split('\n')).toHaveLength(3);
  }, 240_000);

  it('runs a model of a small canvas: adapt data and engine inputs on its 3x3 canvas, larger tasks fail by name', async () => {
    const small: ModelConfig = { ...config, seq_len: 9, num_puzzle_identifiers: 1 };
    const dir = join(root, 'small-model');
    await writeModelFolder(dir, {
      config: small,
      weights: randomWeights(small, { seed: 6, gain: 0.5 }),
      identifiers: ['<blank>'],
      card: '# random tiny ARC model on a 3x3 canvas\n',
    });
    await exportModelFolder(dir);
    const bigTasks = join(root, 'tasks-small');
    mkdirSync(bigTasks);
    const big = {
      train: [{ input: [[1, 2, 3, 4]], output: [[4, 3, 2, 1]] }],
      test: [{ input: [[5, 6, 7, 8]], output: [[8, 7, 6, 5]] }],
    };
    writeFileSync(join(bigTasks, 'big.json'), JSON.stringify(big));
    writeFileSync(join(bigTasks, 'flip.json'), JSON.stringify(TASKS.flip));
    const out = join(root, 'run-small', 'submission.json');
    const logs: string[] = [];
    const io: CommandIo = { out: () => {}, err: (l) => logs.push(l), quiet: false };
    const r = await solveArcCommand(
      [
        '--model',
        dir,
        '--tasks',
        bigTasks,
        '--out',
        out,
        '--augment',
        '1',
        '--adapt-steps',
        '2',
        '--adapt-args=--backend wasm',
        '--ep',
        'cpu',
        '--quiet',
      ],
      io,
    );
    const records = r!.summary.records;
    expect(records.get('flip')).toMatchObject({ status: 'solved', rows: 'fitted', variants: 2 });
    expect(records.get('big')).toMatchObject({
      status: 'failed',
      error: "a 1x4 grid does not fit the model's 3x3 canvas",
    });
    expect(logs.some((l) => /^adapt: adapted 2 new puzzle identifier\(s\) in 2 steps/.test(l))).toBe(true);
    const sub = await readSubmission(out, { big: 1, flip: 1 });
    expect(sub.big).toEqual([{ attempt_1: [[0]], attempt_2: [[0]] }]);
    // A task that failed has no answer: the run ends with the reason and exit code 1.
    expect(r!.exitCode).toBe(1);
    expect(logs.at(-1)).toMatch(/^solve-arc: 1 of 2 task\(s\) failed \(no answer, not a wrong one\): 1 x a 1x4 grid/);
  }, 240_000);

  // The shipped 30x30 model at the CPU defaults (fewer steps): adapt's batch used to be the model's 64 (at most the
  // pairs) on tfjs wasm, whose heap fails at 30x30 ("remainder by zero", "memory access out of bounds",
  // "Aborted()"), so that every task failed. Now adapt runs on ort-cpu with at most 4 rows per step.
  it('adapts and solves an ARC-AGI-1 task with the shipped arc1-small on the CPU', async () => {
    const repo = findRepoRoot()!;
    const one = join(root, 'arc1-task');
    mkdirSync(one);
    copyFileSync(join(repo, '../shared/data/arc-agi-1/evaluation/00576224.json'), join(one, '00576224.json'));
    const out = join(root, 'arc1', 'submission.json');
    const logs: string[] = [];
    const io: CommandIo = { out: () => {}, err: (l) => logs.push(l), quiet: true };
    const r = await solveArcCommand(
      [
        '--model',
        join(repo, 'models/arc1-small'),
        '--tasks',
        one,
        '--out',
        out,
        '--augment',
        '1',
        '--adapt-steps',
        '2',
        '--ep',
        'cpu',
      ],
      io,
    );
    expect(logs).toContain('adapt: fitting 2 variant rows from 4 demonstration pairs: 2 steps of batch 4 on ort-cpu');
    expect(r!.summary.records.get('00576224')).toMatchObject({ status: 'solved', rows: 'fitted', variants: 2 });
    expect(r!.exitCode).toBe(0);
  }, 240_000);
});
