// Easy sudoku end to end, through the packages as a user goes: core generates puzzles and builds the dataset, the
// trainer's `train` command fits sudoku-tiny-mlp on ONNX Runtime's CPU provider and its `eval` command scores the
// held-out puzzles, the exporter writes the step graph, and the server answers POST /solve for the same puzzles on
// the CPU provider. The server must score what `eval` scored: exact answers after each supervision step, and with
// early halting the same exact count and steps; an answer it calls valid passes core's sudoku check. About 20 s on
// an idle 2-core machine, most of it training (about 45 s while other work holds the cores).
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  buildSudokuDataset,
  type Grid,
  generateSudoku,
  isValidSudokuSolution,
  parseSudokuString,
  readPuzzleCsv,
  Rng,
  sudokuSource,
  writePuzzleCsv,
} from '@trm/core';
import { exportModelFolder } from '@trm/exporter';
import { Engine, type RunningServer, type SolveResponseBody, serve } from '@trm/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HELD_OUT = 64;
const STEPS = 300;

/**
 * Runs a package script as `pnpm --filter <name> <script> ...args` does: the command line of the package's
 * package.json, in the package's folder, with tsx from the repository root. Resolves with its stdout.
 */
async function runScript(name: string, script: string, args: readonly string[]): Promise<string> {
  const dir = readdirSync(join(ROOT, 'packages'))
    .map((d) => join(ROOT, 'packages', d))
    .find((d) => {
      try {
        return JSON.parse(readFileSync(join(d, 'package.json'), 'utf8')).name === name;
      } catch {
        return false;
      }
    });
  if (!dir) throw new Error(`no workspace package is called ${name}`);
  const line: string = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).scripts?.[script] ?? '';
  const [bin, ...rest] = line.split(/\s+/);
  if (bin !== 'tsx') throw new Error(`${name} ${script}: expected a tsx script, got ${JSON.stringify(line)}`);
  const tsx = createRequire(join(ROOT, 'package.json')).resolve('tsx/cli');
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [tsx, ...rest, ...args], {
      cwd: dir,
      env: { ...process.env, INIT_CWD: ROOT },
      maxBuffer: 16 << 20,
    });
    return stdout;
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`${name} ${script} ${args.join(' ')} failed: ${e.message}\n${e.stderr ?? ''}`);
  }
}

interface HeldOut {
  grid: Grid;
  solution: Grid;
}

interface SplitScore {
  examples: number;
  exact_accuracy: number;
  exact_accuracy_halted: number;
  steps_halted: number;
  exact_by_step: number[];
}

const root = mkdtempSync(join(tmpdir(), 'trm-e2e-'));
const modelDir = join(root, 'model');
const heldOut: HeldOut[] = [];
let score: SplitScore;
let haltMaxSteps: number;
let engine: Engine | undefined;
let server: RunningServer | undefined;
const engineWarnings: string[] = [];
const timings: string[] = [];

async function timed<T>(what: string, work: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const r = await work();
  timings.push(`${what} ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return r;
}

async function solve(body: object): Promise<SolveResponseBody> {
  const res = await fetch(`${server!.url}/solve`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`POST /solve answered ${res.status}: ${text}`);
  return JSON.parse(text) as SolveResponseBody;
}

/** What `eval` counts as exact: the model's own answer is the solution (no given had to be written back). */
const modelExact = (a: { answer: Grid; givensRestored?: number }, p: HeldOut) =>
  a.givensRestored === 0 && JSON.stringify(a.answer) === JSON.stringify(p.solution);

beforeAll(async () => {
  const csv = join(root, 'csv');
  // Train on 3-6 blanks; hold out puzzles with up to 11 blanks, so that some of them are beyond the model.
  await timed('generate', async () => {
    for (const [file, count, givens, seed] of [
      ['train.csv', 2000, [75, 78], 1],
      ['test.csv', HELD_OUT, [70, 78], 2],
    ] as const) {
      const rng = new Rng(seed);
      await writePuzzleCsv(
        join(csv, file),
        Array.from({ length: count }, () => {
          const p = generateSudoku(rng, { givens });
          return { source: sudokuSource(seed, p), question: p.question, answer: p.answer, rating: p.rating };
        }),
      );
    }
  });
  await readPuzzleCsv(join(csv, 'test.csv'), (row) =>
    heldOut.push({ grid: parseSudokuString(row.question), solution: parseSudokuString(row.answer) }),
  );
  const data = join(root, 'data');
  await timed('build-dataset', () => buildSudokuDataset({ input: csv, out: data, quiet: true, log: () => {} }));

  await timed('train', () =>
    runScript('@trm/trainer', 'train', [
      ...['--preset', 'sudoku-tiny-mlp', '--data', data, '--out', modelDir, '--steps', `${STEPS}`],
      // One thread: on a busy machine two spinning ONNX Runtime threads per core-pair run ~2.5x slower.
      ...['--backend', 'ort-cpu', '--threads', '1', '--eval-every', '0', '--eval-examples', '0', '--quiet'],
    ]),
  );
  const json = join(root, 'eval.json');
  await timed('eval', () =>
    runScript('@trm/trainer', 'eval', ['--model', modelDir, '--data', data, '--backend', 'ort-cpu', '--json', json]),
  );
  const evaluated = JSON.parse(readFileSync(json, 'utf8')) as { steps: number; splits: SplitScore[] };
  score = evaluated.splits[0]!;
  haltMaxSteps = evaluated.steps;

  await timed('export', () => exportModelFolder(modelDir));
  await timed('serve', async () => {
    engine = await Engine.start({
      modelDir,
      executionProvider: 'cpu',
      maxBatch: 16,
      threads: 1,
      onWarning: (m) => engineWarnings.push(m),
    });
    server = await serve(engine, { port: 0, signals: [], playgroundDir: null, info: () => {} });
  });
}, 300_000);

afterAll(async () => {
  if (server) await server.shutdown();
  else await engine?.drain();
  rmSync(root, { recursive: true, force: true });
  const exact = score ? ` (eval: ${Math.round(score.exact_accuracy * HELD_OUT)}/${HELD_OUT} exact)` : '';
  console.log(`sudoku end to end: ${timings.join(', ')}${exact}`);
});

describe('easy sudoku from generator to server', () => {
  it('trains a model that eval scores on every held-out puzzle', () => {
    expect(score.examples).toBe(HELD_OUT);
    expect(haltMaxSteps).toBe(4);
    expect(score.exact_by_step).toHaveLength(haltMaxSteps);
    expect(score.exact_accuracy).toBeGreaterThanOrEqual(0.75);
    expect(engineWarnings).toEqual([]);
  });

  it('answers as eval scored after each supervision step', async () => {
    const answers = await Promise.all(
      // the model's own step limit, as eval runs it (without maxSteps an invalid answer would get steps past it),
      // and the puzzle alone (views would answer some invalid ones through a copy)
      heldOut.map((p) =>
        solve({ task: 'sudoku', grid: p.grid, maxSteps: haltMaxSteps, haltThreshold: 1, trace: true, views: 1 }),
      ),
    );
    const exactByStep = Array.from(
      { length: haltMaxSteps },
      (_, s) => answers.filter((a, i) => a.trace?.[s] && modelExact(a.trace[s]!, heldOut[i]!)).length,
    );
    expect(answers.map((a) => [a.steps, a.halted, a.trace?.length])).toEqual(
      heldOut.map(() => [haltMaxSteps, false, haltMaxSteps]),
    );
    expect(exactByStep).toEqual(score.exact_by_step.map((x) => Math.round(x * HELD_OUT)));
    expect(answers.filter((a, i) => modelExact(a, heldOut[i]!)).length).toBe(
      Math.round(score.exact_accuracy * HELD_OUT),
    );
  });

  it('halts as eval scored with early halting', async () => {
    const answers = await Promise.all(heldOut.map((p) => solve({ task: 'sudoku', grid: p.grid, untilValid: false })));
    expect(answers.filter((a, i) => modelExact(a, heldOut[i]!)).length).toBe(
      Math.round(score.exact_accuracy_halted * HELD_OUT),
    );
    expect(answers.reduce((n, a) => n + a.steps, 0)).toBe(Math.round(score.steps_halted * HELD_OUT));
    expect(answers.every((a) => a.halted || a.steps === haltMaxSteps)).toBe(true);
  });

  it('calls an answer valid exactly when it is the solution, and a valid one passes the sudoku check', async () => {
    const answers = await Promise.all(heldOut.map((p) => solve({ task: 'sudoku', grid: p.grid })));
    // The generator's puzzles have one solution each: valid and solved are the same thing.
    const solved = answers.map((a, i) => JSON.stringify(a.answer) === JSON.stringify(heldOut[i]!.solution));
    expect(answers.map((a) => a.check.valid)).toEqual(solved);
    const valid = answers.flatMap((a, i) => (a.check.valid ? [i] : []));
    expect(valid.length).toBeGreaterThanOrEqual(Math.round(score.exact_accuracy * HELD_OUT));
    for (const i of valid) expect(isValidSudokuSolution(heldOut[i]!.grid, answers[i]!.answer)).toBe(true);
    for (const a of answers) if (!a.check.valid) expect(a.check.reason).toMatch(/^(row|column|the box|cell)/);
  });
});
