import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILD_DATASET_USAGE, parseBuildDatasetArgs } from './build-args.js';

const root = mkdtempSync(join(tmpdir(), 'build-args-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const parse = (line: string) => parseBuildDatasetArgs(line.split(' ').filter(Boolean), '/home/u');

describe('build-dataset command line', () => {
  it('parses flags, applies no hidden defaults and resolves paths from the caller folder', () => {
    expect(parse('--task sudoku --input data/train.csv --out out --subsample 1000 --augment 1000 --seed 0')).toEqual({
      kind: 'build',
      task: 'sudoku',
      input: '/home/u/data/train.csv',
      out: '/home/u/out',
      subsample: 1000,
      augment: 1000,
      seed: 0,
      limit: undefined,
      onlyIds: undefined,
      force: false,
      quiet: false,
    });
    expect(parse('--task arc2 --input /d --out /o --limit 3 --only-ids a,b --force')).toMatchObject({
      task: 'arc2',
      input: '/d',
      limit: 3,
      onlyIds: ['a', 'b'],
      force: true,
    });
    expect(parse('-h')).toEqual({ kind: 'help' });
  });

  it('names the bad flag in every error', () => {
    const cases: [string, string][] = [
      ['--task sudoku --input a --out b --augmnt 3', 'unknown flag --augmnt (known: --task, --input, '],
      ['--input a --out b', '--task is required (one of sudoku, maze, arc1, arc2, arc)'],
      ['--task chess --input a --out b', '--task must be one of sudoku, maze, arc1, arc2, arc (got "chess")'],
      ['--task maze --out b', '--input is required'],
      ['--task maze --input a', '--out is required'],
      ['--task maze --input a --out', '--out needs a value <dir>'],
      ['--task sudoku --input a --out b --augment many', '--augment must be an integer >= 0 (got "many")'],
      ['--task sudoku --input a --out b --seed -1', '--seed must be an integer 0..4294967295 (got "-1")'],
      ['--task maze --input a --out b --augment 9', '--augment for maze is the number of dihedral transforms, 0..8'],
      ['--task arc1 --input a --out b --subsample 5', '--subsample applies to sudoku and maze, not ARC'],
      ['--task sudoku --input a --out b --limit 5', '--limit applies to ARC tasks only'],
      ['--task sudoku --input a --out b --subsample 0', '--subsample must be an integer >= 1 (got "0")'],
      ['--task arc1 --input a --out b --only-ids ,', '--only-ids needs at least one task id'],
      ['--task sudoku --input a --out b --canvas 8', '--canvas applies to ARC tasks only'],
      ['--task arc --input a --out b --canvas 31', '--canvas must be an integer 2..30 (got "31")'],
      ['--task arc1 --input a --out b --test-tasks c', '--test-tasks applies to --task arc only'],
    ];
    expect(parse('--task arc --input t --out o --test-tasks h --canvas 8')).toMatchObject({
      task: 'arc',
      input: '/home/u/t',
      testTasks: '/home/u/h',
      canvas: 8,
    });
    for (const [line, message] of cases) expect(() => parse(line), line).toThrow(message);
  });

  it('documents every flag with its default and an example', () => {
    for (const flag of [
      '--task',
      '--input',
      '--out',
      '--augment',
      '--subsample',
      '--seed',
      '--limit',
      '--only-ids',
      '--force',
    ])
      expect(BUILD_DATASET_USAGE).toContain(flag);
    expect(BUILD_DATASET_USAGE).toContain('default 1000');
    expect(BUILD_DATASET_USAGE).toContain('(default: 42)');
    expect(BUILD_DATASET_USAGE).toContain('Examples:');
  });

  it('runs as a command: exit 2 on a bad flag, 1 on a failed build, 0 with INIT_CWD-relative paths', () => {
    const cli = join(import.meta.dirname, '..', 'cli', 'build-dataset.ts');
    const run = (args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], {
        encoding: 'utf8',
        env: { ...process.env, INIT_CWD: root },
      });
    const bad = run(['--task', 'sudoku', '--bogus']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('build-dataset: unknown flag --bogus');
    const failed = run(['--task', 'maze', '--input', 'missing', '--out', 'o']);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain(`build-dataset: --input ${join(root, 'missing')} does not exist`);
    const fixtures = join(import.meta.dirname, 'fixtures', 'maze');
    const ok = run(['--task', 'maze', '--input', fixtures, '--out', 'built', '--augment', '2', '--quiet']);
    expect(ok.stderr).toContain('maze dataset -> ');
    expect(ok.status).toBe(0);
    expect(existsSync(join(root, 'built', 'train', 'all__inputs.npy'))).toBe(true);
  });
});
