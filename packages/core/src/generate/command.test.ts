import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkMazeAnswer } from '../check/maze.js';
import { parseArcTask } from '../tasks/arc.js';
import { parseGenerateArgs, runGenerate } from './command.js';
import { solveSudoku } from './sudoku-solver.js';

const dir = mkdtempSync(join(tmpdir(), 'trm-generate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('generate command line', () => {
  it('parses flags with defaults and resolves --out against the caller folder', () => {
    expect(
      parseGenerateArgs(['--task', 'sudoku', '--count', '3', '--out', 'a.csv', '--givens', '25..40'], '/home/x'),
    ).toEqual({
      kind: 'generate',
      task: 'sudoku',
      count: 3,
      out: '/home/x/a.csv',
      seed: 0,
      givens: [25, 40],
      minPathLength: 110,
      side: 30,
      quiet: false,
    });
    const maze = parseGenerateArgs(
      ['--task', 'maze', '--count', '1', '--out', '/o.csv', '--min-path', '20', '--walls', '10..20', '--side', '9'],
      '/',
    );
    expect(maze).toMatchObject({ task: 'maze', minPathLength: 20, walls: [10, 20], side: 9, out: '/o.csv' });
    expect(parseGenerateArgs(['--help'], '/')).toEqual({ kind: 'help' });
    expect(
      parseGenerateArgs(
        [
          '--task',
          'arc-simple',
          '--count',
          '14',
          '--out',
          'tasks',
          '--sizes',
          '3..5',
          '--families',
          'flip-h, gravity-down',
        ],
        '/w',
      ),
    ).toMatchObject({
      task: 'arc-simple',
      count: 14,
      out: '/w/tasks',
      sizes: [3, 5],
      demos: [3, 4],
      families: ['flip-h', 'gravity-down'],
    });
  });

  it.each([
    [['--count', '1', '--out', 'x'], /--task is required \(one of sudoku, maze, arc-simple\)/],
    [['--task', 'arc-simple', '--count', '1'], /--out is required/],
    [
      ['--task', 'sudoku', '--count', '1', '--out', 'x', '--sizes', '3..5'],
      /--sizes applies to --task arc-simple only/,
    ],
    [
      ['--task', 'arc-simple', '--count', '1', '--out', 'x', '--sizes', '2..5'],
      /--sizes must be a range A..B with 3 <= A/,
    ],
    [['--task', 'arc-simple', '--count', '1', '--out', 'x', '--demos', '3..0'], /--demos range 3..0 is empty/],
    [
      ['--task', 'arc-simple', '--count', '1', '--out', 'x', '--families', 'flip-h,spin'],
      /--families: unknown family "spin"/,
    ],
    [['--task', 'arc-simple', '--count', '1', '--out', 'x', '--families', ','], /--families needs at least one family/],
    [['--task', 'maze', '--out', 'x'], /--count is required/],
    [['--task', 'maze', '--count', '0', '--out', 'x'], /--count must be an integer >= 1/],
    [['--task', 'maze', '--count', '1'], /--out is required/],
    [['--task', 'sudoku', '--count', '1', '--out', 'x', '--givens', '10'], /--givens must lie in 17..81/],
    [['--task', 'sudoku', '--count', '1', '--out', 'x', '--givens', '40..30'], /range 40..30 is empty/],
    [['--task', 'maze', '--count', '1', '--out', 'x', '--side', '5', '--walls', '0..30'], /maxWalls <= 23/],
    [['--task', 'maze', '--bogus'], /unknown flag --bogus \(known: --task, --count, /],
  ])('rejects %j', (argv, message) => {
    expect(() => parseGenerateArgs(argv, '/')).toThrow(message);
  });
});

describe('generate run', () => {
  it('writes a reproducible maze CSV whose answers check as canonical shortest paths', async () => {
    const base = {
      kind: 'generate',
      task: 'maze',
      count: 4,
      seed: 5,
      givens: [30, 79],
      side: 30,
      quiet: true,
    } as const;
    const log: string[] = [];
    const a = join(dir, 'a.csv');
    const b = join(dir, 'b.csv');
    const summary = await runGenerate({ ...base, out: a, minPathLength: 50 }, { log: (l) => log.push(l) });
    await runGenerate({ ...base, out: b, minPathLength: 50 }, { log: () => undefined });
    expect(summary.rows).toBe(4);
    expect(summary.draws).toBeGreaterThanOrEqual(4);
    expect(log[0]).toMatch(/^generate: wrote 4 maze puzzles to .*a\.csv/);
    const text = readFileSync(a, 'utf8');
    expect(readFileSync(b, 'utf8')).toBe(text);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('source,question,answer,rating');
    expect(lines).toHaveLength(5);
    for (const line of lines.slice(1)) {
      const [source, q, ans, rating] = line.split(',') as [string, string, string, string];
      expect(source).toMatch(/^gen-seed5-try\d+-walls\d+-nshortest/);
      expect(Number(rating)).toBeGreaterThan(50);
      expect(checkMazeAnswer(q, ans)).toMatchObject({ valid: true, shortest: true, pathLength: Number(rating) });
    }
  });

  it('writes a folder of simple ARC tasks that parse, the same for the same seed', async () => {
    const cmd = {
      kind: 'generate',
      task: 'arc-simple',
      count: 7,
      seed: 4,
      givens: [30, 79],
      minPathLength: 110,
      side: 30,
      sizes: [3, 6],
      demos: [3, 4],
      families: ['flip-h', 'colour-map'],
      quiet: true,
    } as const;
    const log: string[] = [];
    const summary = await runGenerate({ ...cmd, out: join(dir, 'arc-a') }, { log: (l) => log.push(l) });
    await runGenerate({ ...cmd, out: join(dir, 'arc-b') }, { log: () => undefined });
    expect(summary.rows).toBe(7);
    expect(log[0]).toMatch(/^generate: wrote 7 arc-simple tasks to .*arc-a in .* \(flip-h 4, colour-map 3\)$/);
    const files = readdirSync(join(dir, 'arc-a')).sort();
    expect(files).toEqual([
      'simple-colour-map-s4-0.json',
      'simple-colour-map-s4-1.json',
      'simple-colour-map-s4-2.json',
      'simple-flip-h-s4-0.json',
      'simple-flip-h-s4-1.json',
      'simple-flip-h-s4-2.json',
      'simple-flip-h-s4-3.json',
    ]);
    for (const f of files) {
      const text = readFileSync(join(dir, 'arc-a', f), 'utf8');
      expect(readFileSync(join(dir, 'arc-b', f), 'utf8')).toBe(text);
      const task = parseArcTask(JSON.parse(text), f);
      expect(task.test[0]!.output).toBeDefined();
    }
    const stopped = new AbortController();
    stopped.abort();
    await expect(runGenerate({ ...cmd, out: join(dir, 'arc-never') }, { signal: stopped.signal })).rejects.toThrow(
      'interrupted',
    );
    expect(readdirSync(dir).filter((f) => f.includes('arc-never'))).toEqual([]);
  });

  it('writes sudoku puzzles with unique solutions and stops without a file when aborted', async () => {
    const out = join(dir, 's.csv');
    const cmd = {
      kind: 'generate',
      task: 'sudoku',
      count: 20,
      out,
      seed: 2,
      givens: [30, 35],
      minPathLength: 0,
      side: 30,
      quiet: true,
    } as const;
    await runGenerate(cmd, { log: () => undefined });
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n').slice(1);
    expect(lines).toHaveLength(20);
    for (const line of lines) {
      const [, q, ans] = line.split(',') as [string, string, string];
      const r = solveSudoku(Array.from(q, (c) => (c === '.' ? 0 : Number(c))));
      expect(r.solutions).toBe(1);
      expect(r.solution!.join('')).toBe(ans);
    }
    const stopped = new AbortController();
    stopped.abort();
    await expect(runGenerate({ ...cmd, out: join(dir, 'never.csv') }, { signal: stopped.signal })).rejects.toThrow(
      'interrupted',
    );
    expect(() => readFileSync(join(dir, 'never.csv'))).toThrow(/ENOENT/);
  });
});
