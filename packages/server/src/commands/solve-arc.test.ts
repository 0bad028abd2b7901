// The solve-arc command on the fake engine (which answers every ARC canvas with its input, so a task whose test
// output equals its test input is solved and any other is not) and a stand-in row fitter: a complete, valid
// submission and its score; known tasks on the model's rows, unknown ones on fitted or blank rows; resuming after
// an interruption or a cut-short write, repeating nothing; failures that still leave a complete submission.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ArcSubmission,
  type ArcTask,
  type CommandIo,
  getPreset,
  type ModelConfig,
  readSubmission,
  submissionProblems,
} from '@trm/core';
import { afterAll, describe, expect, it } from 'vitest';
import type { FitJob, RowFitter, RowLookup } from '../arc/adapt-rows.js';
import { RESULTS_FILE, type TaskRecord } from '../arc/work-folder.js';
import { FakeEngine } from '../testing/fake-engine.js';
import { solveArcCommand } from './solve-arc.js';

const root = mkdtempSync(join(tmpdir(), 'trm-solve-arc-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const config: ModelConfig = { ...getPreset('arc-tiny').model, puzzle_emb_ndim: 4, halt_max_steps: 2 };
const MODEL_ROW = 3;
const FITTED_ROW = 7;
const BLANK_ROW = 0.5;
const row = (v: number) => new Float32Array(config.puzzle_emb_ndim).fill(v);
const KNOWN_NAMES = ['known', 'known|||t1|||0213456789', 'known|||t6|||0987654321'];

// Echo solves `ident`, `known` and the first test of `multi`; `shift` and multi's second test stay unsolved.
const TASKS: Record<string, ArcTask> = {
  ident: {
    train: [{ input: [[1, 2]], output: [[1, 2]] }],
    test: [{ input: [[3, 4, 5]], output: [[3, 4, 5]] }],
  },
  known: {
    train: [{ input: [[6]], output: [[6]] }],
    test: [{ input: [[1], [2]], output: [[1], [2]] }],
  },
  multi: {
    train: [{ input: [[1, 1]], output: [[1, 1]] }],
    test: [
      { input: [[2, 3]], output: [[2, 3]] },
      { input: [[4], [5], [6]], output: [[6], [5], [4]] },
    ],
  },
  shift: {
    train: [{ input: [[1, 2]], output: [[2, 3]] }],
    test: [{ input: [[7, 8]], output: [[8, 9]] }],
  },
};
const COUNTS = { ident: 1, known: 1, multi: 2, shift: 1 };

const model = join(root, 'model');
const tasksDir = join(root, 'tasks');
mkdirSync(model);
mkdirSync(tasksDir);
writeFileSync(join(model, 'config.json'), JSON.stringify(config));
writeFileSync(join(model, 'identifiers.json'), JSON.stringify(['<blank>', 'other', ...KNOWN_NAMES]));
for (const [id, t] of Object.entries(TASKS)) writeFileSync(join(tasksDir, `${id}.json`), JSON.stringify(t));

function engine(): FakeEngine {
  return new FakeEngine({
    config,
    slots: 3,
    puzzleRows: new Map([['<blank>', row(BLANK_ROW)], ...KNOWN_NAMES.map((n) => [n, row(MODEL_ROW)] as const)]),
  });
}

/** Fits a constant row for every variant it is given and remembers which tasks and variants it saw. */
class StubFitter implements RowFitter {
  readonly jobs: { tasks: string[]; variants: string[] }[] = [];
  failNext: Error | null = null;
  async fit(job: FitJob): Promise<RowLookup> {
    const variants = job.tasks.flatMap((t) => [...t.variants].map((v) => v.name));
    this.jobs.push({ tasks: job.tasks.map((t) => t.taskId), variants });
    const failure = this.failNext;
    this.failNext = null;
    if (failure) throw failure;
    const names = new Set(variants);
    return { row: (name) => (names.has(name) ? row(FITTED_ROW) : undefined), close: () => {} };
  }
}

function capture(signal?: AbortSignal): CommandIo & { lines: string[]; logs: string[] } {
  const lines: string[] = [];
  const logs: string[] = [];
  return { out: (l) => lines.push(l), err: (l) => logs.push(l), quiet: true, signal, lines, logs };
}

const args = (out: string, ...more: string[]) => [
  '--model',
  model,
  '--tasks',
  tasksDir,
  '--out',
  out,
  '--augment',
  '3',
  '--chunk',
  '2',
  ...more,
];

/** Requests per task: variants x test inputs (known: the model's 3 variants; others 1 + 3). */
const REQUESTS = { ident: 4, known: 3, multi: 8, shift: 4 };

/** The engine's speed the tests pretend to have measured (sequence-steps per second). */
const RATE = 50;

let reference: ArcSubmission;

describe('solve-arc on the fake engine', () => {
  it('solves every task, writes a valid submission and scores it per task and per test output', async () => {
    const out = join(root, 'full', 'submission.json');
    const fake = engine();
    const fitter = new StubFitter();
    const io = capture();
    const r = await solveArcCommand(args(out, '--solutions', tasksDir), io, {
      startEngine: async () => fake,
      measure: async () => RATE,
      fitter,
    });
    const sub = await readSubmission(out, COUNTS);
    expect(submissionProblems(sub, COUNTS)).toEqual([]);
    reference = sub;
    expect(sub.ident).toEqual([{ attempt_1: [[3, 4, 5]], attempt_2: [[3, 4, 5]] }]);
    expect(sub.multi![1]!.attempt_1).toEqual([[4], [5], [6]]);

    // Chunks [ident, known] and [multi, shift]: the known task is not adapted.
    expect(fitter.jobs.map((j) => j.tasks)).toEqual([['ident'], ['multi', 'shift']]);
    expect(fitter.jobs[0]!.variants).toHaveLength(4);
    expect(fake.received).toHaveLength(4 + 3 + 8 + 4);
    const rows = fake.received.map((q) => q.puzzleEmb![0]);
    expect(rows.filter((v) => v === MODEL_ROW)).toHaveLength(REQUESTS.known);
    expect(rows.filter((v) => v === FITTED_ROW)).toHaveLength(4 + 8 + 4);
    expect(fake.received.every((q) => q.maxSteps === 2 && q.haltThreshold === 1)).toBe(true);

    // Every variant voted for the echo, mapped back to the original frame.
    const ident = r!.summary.records.get('ident')!;
    expect(ident.tests[0]!.candidates).toEqual([{ grid: [[3, 4, 5]], votes: 4, meanHalt: 0.75 }]);
    expect(r!.summary.records.get('known')!.rows).toBe('model');

    expect(r!.score).toMatchObject({ score: (1 + 1 + 0.5 + 0) / 4, outputScore: 3 / 5, pass1: 0.625 });
    const saved = JSON.parse(readFileSync(join(root, 'full', 'submission.score.json'), 'utf8'));
    expect(saved.score).toBe(0.625);
    expect(saved.tasks.map((t: { taskId: string; matched: unknown }) => [t.taskId, t.matched])).toEqual([
      ['ident', [1]],
      ['known', [1]],
      ['multi', [1, null]],
      ['shift', [null]],
    ]);
    const table = io.lines.join('\n');
    expect(table).toContain('per task:        pass@2 62.5 %  pass@1 62.5 %  (2 of 4 tasks fully solved)');
    expect(table).toContain('per test output: pass@2 60.0 %  pass@1 60.0 %  (3 of 5 outputs)');
    expect(io.lines.at(-1)).toMatch(
      /^solve-arc: 4 task\(s\): 4 solved now, 0 from earlier runs, 0 failed; 19 predictions/,
    );
    expect(r!.exitCode).toBe(0);
    expect(r!.failed).toEqual([]);

    // Before the run: the CPU defaults (the fake engine says cpu) and the work, in sequences and steps, with the
    // time at the measured rate: 19 puzzles x 2 steps; two adapt runs of 100 steps of 4 rows (4096 canvas cells
    // of 30x30), a training sequence counted as 5 sequence-steps: (38 + 800 x 5) / 50 s + 2 x 10 s = 1m41s.
    expect(io.logs).toContain(
      'solve-arc: 4 task(s), 3 augmented variants each, adaptation 100 steps of at most 4 rows per chunk of 2 on ort-cpu (defaults for cpu); 1 engine worker(s) x batch 3; work folder ' +
        join(root, 'full', 'submission.work'),
    );
    expect(io.logs).toContain(
      "solve-arc: work: adaptation 800 training sequences in 2 run(s); prediction 19 puzzles x steps = 38 sequence-steps at most; about 1m41s at the engine's measured 50.0 sequence-steps/s (a training sequence counted as 5, 10 s to start each adapt run)",
    );
    const settings = JSON.parse(readFileSync(join(root, 'full', 'submission.work', 'settings.json'), 'utf8'));
    expect(settings).toMatchObject({ augment: 3, adaptSteps: 100, adaptBackend: 'ort-cpu', adaptBatch: 4 });
  });

  it('resumes after an interruption: nothing lost, nothing repeated, the same submission', async () => {
    const out = join(root, 'resume', 'submission.json');
    const stop = new AbortController();
    const first = engine();
    const fitter = new StubFitter();
    const seen: TaskRecord[] = [];
    const onTask = (rec: TaskRecord) => {
      seen.push(rec);
      if (seen.length === 2) stop.abort();
    };
    const r1 = await solveArcCommand(args(out), capture(stop.signal), {
      startEngine: async () => first,
      measure: async () => RATE,
      fitter,
      onTask,
    });
    expect(r1!.summary.aborted).toBe(true);
    expect(r1!.submission).toBeNull();
    const lines = () =>
      readFileSync(join(root, 'resume', 'submission.work', RESULTS_FILE), 'utf8')
        .trimEnd()
        .split('\n');
    expect(lines()).toHaveLength(2);
    const done = seen.map((s) => s.taskId);
    expect(done).toEqual(['ident', 'known']);

    const second = engine();
    const fitter2 = new StubFitter();
    const r2 = await solveArcCommand(args(out), capture(), {
      startEngine: async () => second,
      measure: async () => RATE,
      fitter: fitter2,
    });
    expect(r2!.summary.skipped).toEqual(done);
    expect(r2!.summary.solved).toEqual(['multi', 'shift']);
    expect(second.received).toHaveLength(REQUESTS.multi + REQUESTS.shift);
    expect(fitter2.jobs.map((j) => j.tasks)).toEqual([['multi', 'shift']]);
    expect(await readSubmission(out, COUNTS)).toEqual(reference);

    // A kill in the middle of writing the last line loses that one task only.
    const all = lines();
    writeFileSync(
      join(root, 'resume', 'submission.work', RESULTS_FILE),
      `${all.slice(0, -1).join('\n')}\n${all.at(-1)!.slice(0, 40)}`,
    );
    const third = engine();
    const io3 = capture();
    const r3 = await solveArcCommand(args(out), io3, {
      startEngine: async () => third,
      measure: async () => RATE,
      fitter: new StubFitter(),
    });
    expect(io3.logs).toContain('work folder: dropped 1 incomplete result line(s) of an interrupted run');
    expect(r3!.summary.solved).toEqual(['shift']);
    expect(third.received).toHaveLength(REQUESTS.shift);
    expect(await readSubmission(out, COUNTS)).toEqual(reference);
  });

  it('records failures with their reason, still writes every task, and retries only those on a rerun', async () => {
    const out = join(root, 'fail', 'submission.json');
    const fake = engine();
    fake.failNext = { error: new Error('worker lost') };
    const fitter = new StubFitter();
    fitter.failNext = new Error('adapt exited with code 1: out of memory');
    const io = capture();
    const r = await solveArcCommand(args(out), io, {
      startEngine: async () => fake,
      measure: async () => RATE,
      fitter,
    });
    // The first chunk's adaptation failed (ident); the first engine request (known, variant 0) failed too.
    expect(r!.summary.failed.sort()).toEqual(['ident', 'known']);
    expect(io.logs).toContain('task ident failed: adaptation failed: adapt exited with code 1: out of memory');
    expect(io.logs).toContain('task known failed: variant known, test 0: worker lost');
    const sub = await readSubmission(out, COUNTS);
    expect(sub.ident).toEqual([{ attempt_1: [[0]], attempt_2: [[0]] }]);
    expect(sub.multi).toEqual(reference.multi);
    expect(io.lines.at(-1)).toContain('2 failed (ident, known; reasons above and in');
    // Failed tasks have no answer (not a wrong one): the run says so last and exits 1.
    expect(r!.exitCode).toBe(1);
    expect(r!.failed.sort()).toEqual(['ident', 'known']);
    expect(io.logs.at(-1)).toBe(
      `solve-arc: 2 of 4 task(s) failed (no answer, not a wrong one): 1 x adaptation failed: adapt exited with code 1: out of memory; 1 x variant known, test 0: worker lost. Their entries in ${out} are [[0]] placeholders; run the same command again to retry them`,
    );

    const again = engine();
    const r2 = await solveArcCommand(args(out), capture(), {
      startEngine: async () => again,
      measure: async () => RATE,
      fitter: new StubFitter(),
    });
    expect(r2!.summary.solved.sort()).toEqual(['ident', 'known']);
    expect(r2!.exitCode).toBe(0);
    expect(again.received).toHaveLength(REQUESTS.ident + REQUESTS.known);
    expect(await readSubmission(out, COUNTS)).toEqual(reference);
  });

  it('without adaptation runs unknown tasks on the blank row; --only and --limit pick tasks', async () => {
    const out = join(root, 'blank', 'submission.json');
    const fake = engine();
    const fitter = new StubFitter();
    const r = await solveArcCommand(args(out, '--no-adapt', '--only', 'shift,known,ident', '--limit', '2'), capture(), {
      startEngine: async () => fake,
      measure: async () => RATE,
      fitter,
    });
    expect(fitter.jobs).toEqual([]);
    expect([...r!.summary.records.keys()]).toEqual(['ident', 'known']);
    expect(Object.keys(r!.submission!)).toEqual(['ident', 'known']);
    const rows = fake.received.map((q) => q.puzzleEmb![0]);
    expect(rows.filter((v) => v === BLANK_ROW)).toHaveLength(REQUESTS.ident);
    expect(rows.filter((v) => v === MODEL_ROW)).toHaveLength(REQUESTS.known);
  });

  it('takes the reference defaults on a GPU provider, and the adapt flags from --adapt-args or their own flags', async () => {
    const onCuda = () => {
      const e = engine();
      (e.info as { executionProvider: string }).executionProvider = 'cuda';
      return e;
    };
    const out = join(root, 'cuda', 'submission.json');
    const io = capture();
    const r = await solveArcCommand(
      args(out, '--only', 'ident').filter((a) => a !== '--augment' && a !== '3'),
      io,
      {
        startEngine: async () => onCuda(),
        fitter: new StubFitter(),
        measure: async () => RATE,
      },
    );
    expect(r!.exitCode).toBe(0);
    // ident is a 1x2 grid of two colours: fewer than 1000 distinct variants exist (2 dihedral shapes x 72 colourings).
    expect(io.logs.find((l) => l.startsWith('solve-arc: 1 task(s)'))).toContain(
      '1000 augmented variants each, adaptation 500 steps of at most 16 rows per chunk of 2 on ort-cuda (defaults for cuda)',
    );
    const settings = (name: string) =>
      JSON.parse(readFileSync(join(root, name, 'submission.work', 'settings.json'), 'utf8'));
    expect(settings('cuda')).toMatchObject({
      augment: 1000,
      adaptSteps: 500,
      adaptBackend: 'ort-cuda',
      adaptBatch: 16,
    });

    // --batch and --backend inside --adapt-args are the same settings as --adapt-batch and --adapt-backend.
    const viaArgs = join(root, 'via-args', 'submission.json');
    await solveArcCommand(
      args(viaArgs, '--only', 'ident', '--adapt-args=--backend wasm --batch 2 --lr 0.05'),
      capture(),
      {
        startEngine: async () => engine(),
        fitter: new StubFitter(),
        measure: async () => RATE,
      },
    );
    expect(settings('via-args')).toMatchObject({ adaptBackend: 'wasm', adaptBatch: 2, adaptArgs: '--lr 0.05' });
    const start = { startEngine: async () => engine(), fitter: new StubFitter(), measure: async () => RATE };
    await expect(
      solveArcCommand(args(viaArgs, '--adapt-batch', '3', '--adapt-args=--batch 2'), capture(), start),
    ).rejects.toThrow(`--adapt-batch and --adapt-args="--batch ..." both set adapt's --batch: give one`);
    await expect(solveArcCommand(args(viaArgs, '--adapt-args=--backend gpu'), capture(), start)).rejects.toThrow(
      '--adapt-args: --backend must be one of auto, cpu, wasm, webgpu, tensorflow, ort-cuda, ort-webgpu, ort-cpu (got "gpu")',
    );
  });

  it('refuses a work folder of other settings and bad flags, naming them', async () => {
    const out = join(root, 'full', 'submission.json');
    const start = { startEngine: async () => engine(), measure: async () => RATE, fitter: new StubFitter() };
    await expect(solveArcCommand(args(out, '--seed', '5'), capture(), start)).rejects.toThrow(
      /holds results of a run with other settings \(seed: 42 then, 5 now\): pass --fresh/,
    );
    await expect(solveArcCommand(args(out, '--only', 'nope'), capture(), start)).rejects.toThrow(
      '--only: no task named nope among the 4 tasks of --tasks',
    );
    await expect(solveArcCommand(['--tasks', tasksDir, '--out', out], capture(), start)).rejects.toThrow(
      '--model <dir> is required',
    );
    const sudoku = join(root, 'sudoku-model');
    mkdirSync(sudoku);
    writeFileSync(join(sudoku, 'config.json'), JSON.stringify(getPreset('sudoku-tiny').model));
    await expect(
      solveArcCommand(['--model', sudoku, '--tasks', tasksDir, '--out', out], capture(), start),
    ).rejects.toThrow(`--model ${sudoku} is a sudoku model, expected an ARC model`);
    expect(await solveArcCommand(['--help'], capture(), start)).toBeNull();
  });
});
