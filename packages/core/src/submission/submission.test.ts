import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadArcTaskDir } from '../tasks/arc.js';
import type { Grid } from '../tasks/grid.js';
import { buildSubmission, testCountsOf } from './build.js';
import { readSubmission, writeSubmission } from './io.js';
import { scoreSubmission } from './score.js';
import { loadSolutions, parseSolutions } from './solutions.js';
import type { ArcSolutions, ArcSubmission } from './types.js';
import { parseSubmission, SubmissionError, submissionProblems } from './validate.js';

// The shared data folder sits beside the repository (TRM_DATA_DIR overrides).
const DATA = process.env.TRM_DATA_DIR ?? fileURLToPath(new URL('../../../../../shared/data', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'trm-submission-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const A: Grid = [
  [1, 2],
  [3, 4],
];
const B: Grid = [[5, 5, 5]];
const C: Grid = [[7], [8]];

describe('buildSubmission', () => {
  it('covers every expected task and test input, repairing and reporting what is missing', () => {
    const { submission, warnings } = buildSubmission(
      { t1: 2, t2: 1, t3: 1 },
      {
        t1: [[A, B, C], [B]], // three candidates: top two kept; one candidate: repeated
        t2: [[[[12]] as Grid, C]], // colour 12 is not a colour: dropped, C moves up
        t4: [[A]],
      },
    );
    expect(submission).toEqual({
      t1: [
        { attempt_1: A, attempt_2: B },
        { attempt_1: B, attempt_2: B },
      ],
      t2: [{ attempt_1: C, attempt_2: C }],
      t3: [{ attempt_1: [[0]], attempt_2: [[0]] }],
    });
    expect(Object.keys(submission)).toEqual(['t1', 't2', 't3']);
    expect(warnings).toEqual([
      'task t2 test 0 candidate 0[0][0] must be an integer 0..9 (got 12); candidate dropped',
      'task t3: no predictions; wrote [[0]] for its 1 test input(s)',
      'task t4: not among the expected tasks; ignored',
    ]);
  });

  it('fills absent test inputs and notes surplus predictions', () => {
    const counts = testCountsOf({
      x: { train: [{ input: A, output: A }], test: [{ input: A }, { input: B }] },
    });
    expect(counts).toEqual({ x: 2 });
    const short = buildSubmission(counts, { x: [[A]] });
    expect(short.submission.x![1]).toEqual({ attempt_1: [[0]], attempt_2: [[0]] });
    expect(short.warnings).toEqual(['task x: no usable prediction for test input 1; wrote [[0]]']);
    const long = buildSubmission({ x: 1 }, new Map([['x', [[A], [B]]]]));
    expect(long.warnings).toEqual(['task x: 2 predictions for 1 test input(s); the extra ones are ignored']);
  });
});

describe('submission validation and files', () => {
  const good: ArcSubmission = { t1: [{ attempt_1: A, attempt_2: B }], t2: [{ attempt_1: C, attempt_2: C }] };

  it('accepts a well-formed submission and lists every problem of a bad one by JSON path', () => {
    expect(submissionProblems(good, { t1: 1, t2: 1 })).toEqual([]);
    expect(parseSubmission(good)).toEqual(good);
    expect(submissionProblems([])).toEqual(['submission must be a JSON object mapping task ids to lists of attempts']);
    const bad = {
      t1: [{ attempt_1: A }],
      t2: [{ attempt_1: [[1, 2], [3]], attempt_2: 'grid' }],
      t3: [],
      t9: [{ attempt_1: A, attempt_2: A }],
    };
    expect(submissionProblems(bad, { t1: 2, t2: 1, t3: 1, t4: 1 })).toEqual([
      'submission["t1"][0].attempt_2 is missing',
      'submission["t1"] has 1 entries, expected 2 (one per test input)',
      'submission["t2"][0].attempt_1 row 1 has 1 cells, expected 2',
      'submission["t2"][0].attempt_2 must be an array of rows (got "grid")',
      'submission["t3"] must be a non-empty array with one {attempt_1, attempt_2} per test input',
      'submission["t9"]: task t9 is not in the task set',
      'missing tasks (1): t4',
    ]);
    expect(() => parseSubmission(bad)).toThrow(SubmissionError);
    expect(() => parseSubmission(bad)).toThrow(/invalid submission \(4 problems\)/);
  });

  it('writes atomically and reads back with validation', async () => {
    const path = join(dir, 'submission.json');
    await writeSubmission(path, good, { t1: 1, t2: 1 });
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(good);
    expect(await readSubmission(path, { t1: 1, t2: 1 })).toEqual(good);
    await expect(writeSubmission(path, { t1: [] })).rejects.toThrow(/submission\["t1"\] must be a non-empty array/);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(good);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    await expect(readSubmission(path, { t1: 1 })).rejects.toThrow(
      /submission\.json: submission\["t2"\]: task t2 is not in the task set/,
    );
    writeFileSync(join(dir, 'broken.json'), '{"t1": [');
    await expect(readSubmission(join(dir, 'broken.json'))).rejects.toThrow(/broken\.json is not valid JSON/);
  });
});

describe('solutions', () => {
  it('load from a folder of task files, a Kaggle solutions file, or a map of tasks', async () => {
    const tasks = join(dir, 'tasks');
    mkdirSync(tasks);
    writeFileSync(
      join(tasks, 'aa.json'),
      JSON.stringify({ train: [{ input: A, output: B }], test: [{ input: A, output: C }] }),
    );
    writeFileSync(
      join(tasks, 'bb.json'),
      JSON.stringify({
        train: [{ input: A, output: B }],
        test: [
          { input: A, output: A },
          { input: B, output: B },
        ],
      }),
    );
    const expected: ArcSolutions = { aa: [C], bb: [A, B] };
    expect(await loadSolutions(tasks)).toEqual(expected);
    const kaggle = join(dir, 'solutions.json');
    writeFileSync(kaggle, JSON.stringify(expected));
    expect(await loadSolutions(kaggle)).toEqual(expected);
    expect(parseSolutions({ aa: { train: [{ input: A, output: B }], test: [{ input: A, output: C }] } })).toEqual({
      aa: [C],
    });
    expect(() => parseSolutions({ aa: { train: [{ input: A, output: B }], test: [{ input: A }] } })).toThrow(
      /task aa: test\[0\] has no output/,
    );
    expect(() => parseSolutions({ aa: [[[1, 10]]] })).toThrow(
      /solutions\["aa"\]\[0\]\[0\]\[1\] must be an integer 0..9/,
    );
  });
});

describe('scoreSubmission', () => {
  const solutions: ArcSolutions = { one: [A], two: [B, C] };

  it('scores per task (leaderboard) and per output: 0.75 vs 2/3 when a 2-output task is half solved', () => {
    const submission: ArcSubmission = {
      one: [{ attempt_1: B, attempt_2: A }], // solved by the second attempt
      two: [
        { attempt_1: B, attempt_2: A }, // solved by the first attempt
        { attempt_1: A, attempt_2: B }, // wrong
      ],
    };
    const s = scoreSubmission(submission, solutions);
    expect(s.score).toBe(0.75);
    expect(s.outputScore).toBeCloseTo(2 / 3, 12);
    expect([s.solvedOutputs, s.totalOutputs]).toEqual([2, 3]);
    expect(s.tasks).toEqual([
      { taskId: 'one', matched: [2], score: 1, missing: false },
      { taskId: 'two', matched: [1, null], score: 0.5, missing: false },
    ]);
    expect([s.missingTasks, s.extraTasks]).toEqual([[], []]);
  });

  it('counts missing tasks and entries as unsolved and lists extra tasks', () => {
    const s = scoreSubmission(
      { two: [{ attempt_1: B, attempt_2: B }], zz: [{ attempt_1: A, attempt_2: A }] },
      solutions,
    );
    expect(s.tasks).toEqual([
      { taskId: 'one', matched: [null], score: 0, missing: true },
      { taskId: 'two', matched: [1, null], score: 0.5, missing: false },
    ]);
    expect(s.score).toBe(0.25);
    expect(s.outputScore).toBeCloseTo(1 / 3, 12);
    expect(s.missingTasks).toEqual(['one']);
    expect(s.extraTasks).toEqual(['zz']);
    // A grid of the right values but another shape does not count.
    expect(
      scoreSubmission({ one: [{ attempt_1: [[1, 2, 3, 4]], attempt_2: [[1], [2], [3], [4]] }] }, { one: [A] }).score,
    ).toBe(0);
  });

  it('scores the ARC-AGI-1 evaluation set end to end: 100 of 400 tasks answered right gives 0.25', async () => {
    const tasks = await loadArcTaskDir(join(DATA, 'arc-agi-1/evaluation'));
    const solutions = await loadSolutions(join(DATA, 'arc-agi-1/evaluation'));
    const counts = testCountsOf(tasks);
    expect(Object.keys(counts)).toHaveLength(400);
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(419);
    const ids = Object.keys(counts).sort().slice(0, 100);
    const predictions = Object.fromEntries(ids.map((id) => [id, solutions[id]!.map((g) => [[[0]], g])]));
    const { submission, warnings } = buildSubmission(counts, predictions);
    expect(warnings).toHaveLength(300);
    const path = join(dir, 'arc1.json');
    await writeSubmission(path, submission, counts);
    const s = scoreSubmission(await readSubmission(path, counts), solutions);
    expect(s.score).toBe(0.25);
    const outputs = ids.reduce((n, id) => n + counts[id]!, 0);
    expect([s.solvedOutputs, s.totalOutputs]).toEqual([outputs, 419]);
    expect(s.tasks.filter((t) => t.score === 1).map((t) => t.taskId)).toEqual(ids);
  });
});
