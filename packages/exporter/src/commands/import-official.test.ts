// The import-official command line: flag parsing with paths from the caller's folder, the help text, and the real
// process: exit 0 with a summary line, 2 for a bad flag or a config that contradicts the checkpoint, 1 for a
// broken checkpoint.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readModelFolder } from '@trm/core';
import { afterAll, describe, expect, it } from 'vitest';
import { IMPORT_OFFICIAL_USAGE, parseImportOfficialArgs } from './import-official.js';

const root = mkdtempSync(join(tmpdir(), 'import-official-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const parse = (line: string) => parseImportOfficialArgs(line.split(' ').filter(Boolean), '/home/u');

describe('import-official command line', () => {
  it('parses flags and resolves paths from the caller folder', () => {
    expect(
      parse('--checkpoint ckpt/step_10 --out models/x --config all_config.yaml --task sudoku --seq-len 81'),
    ).toEqual({
      kind: 'import',
      checkpoint: '/home/u/ckpt/step_10',
      out: '/home/u/models/x',
      config: '/home/u/all_config.yaml',
      task: 'sudoku',
      seqLen: 81,
      force: false,
      quiet: false,
      argv: [
        '--checkpoint',
        'ckpt/step_10',
        '--out',
        'models/x',
        '--config',
        'all_config.yaml',
        '--task',
        'sudoku',
        '--seq-len',
        '81',
      ],
    });
    expect(parse('--checkpoint /c --out /o --force --quiet')).toMatchObject({
      config: undefined,
      force: true,
      quiet: true,
    });
    expect(parse('-h')).toEqual({ kind: 'help' });
  });

  it('names the bad flag in every error', () => {
    const cases: [string, string][] = [
      ['--out o', '--checkpoint is required'],
      ['--checkpoint c', '--out is required'],
      ['--checkpoint c --out o --task chess', '--task must be one of sudoku, maze, arc (got "chess")'],
      ['--checkpoint c --out o --seq-len 8x', '--seq-len must be an integer >= 1 (got "8x")'],
      ['--checkpoint c --out o --seq-len 0', '--seq-len must be an integer >= 1 (got "0")'],
      ['--checkpoint c --out o --cofig a', 'unknown flag --cofig (known: --checkpoint, --out, --config, '],
    ];
    for (const [line, message] of cases) expect(() => parse(line), line).toThrow(message);
  });

  it('documents every flag and gives examples', () => {
    for (const flag of ['--checkpoint', '--out', '--config', '--task', '--seq-len', '--force', '--quiet'])
      expect(IMPORT_OFFICIAL_USAGE).toContain(flag);
    expect(IMPORT_OFFICIAL_USAGE).toContain('Examples:');
  });

  it('runs as a command: exit 0 with INIT_CWD-relative paths, 2 on bad input, 1 on a broken checkpoint', () => {
    const fixtures = join(import.meta.dirname, '..', 'fixtures', 'official');
    const manifest = JSON.parse(readFileSync(join(fixtures, 'manifest.json'), 'utf8'));
    copyFileSync(join(fixtures, 'mlp', 'step_0'), join(root, 'step_0'));
    writeFileSync(join(root, 'config.json'), JSON.stringify(manifest.variants.mlp.official_config));
    writeFileSync(join(root, 'wrong.json'), JSON.stringify({ ...manifest.variants.mlp.official_config, L_layers: 3 }));
    writeFileSync(join(root, 'broken'), 'PK\u0003\u0004 not really a zip');
    const cli = join(import.meta.dirname, '..', 'cli', 'import-official.ts');
    const run = (args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], {
        encoding: 'utf8',
        env: { ...process.env, INIT_CWD: root },
      });

    const ok = run(['--checkpoint', 'step_0', '--config', 'config.json', '--out', 'imported', '--quiet']);
    expect(ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(
      /^imported 15 tensors \(2 bfloat16, 13 float32; key prefix "_orig_mod\.model\.inner\."\) from .*step_0 \(sha256 52bfd7cd9ded\.\.\.\): sudoku, mlp_t, hidden 64, 397,826 parameters, 3 puzzle ids -> .*imported \[/m,
    );
    const card = readFileSync(join(root, 'imported', 'README.md'), 'utf8');
    expect(card).toContain(
      'pnpm --filter @trm/exporter import-official --checkpoint step_0 --config config.json --out imported --quiet',
    );

    // Absolute paths as typed: the card names the files by name, not by this machine's paths.
    const abs = ['--checkpoint', join(root, 'step_0'), '--config', join(root, 'config.json')];
    expect(run([...abs, '--out', join(root, 'imported-abs'), '--quiet']).status).toBe(0);
    const absCard = readFileSync(join(root, 'imported-abs', 'README.md'), 'utf8');
    expect(absCard).toContain(
      'pnpm --filter @trm/exporter import-official --checkpoint step_0 --config config.json --out imported-abs --quiet',
    );
    expect(absCard).not.toContain(root);

    const badFlag = run(['--checkpoint', 'step_0']);
    expect(badFlag.status).toBe(2);
    expect(badFlag.stderr).toContain('import-official: --out is required');

    const wrong = run(['--checkpoint', 'step_0', '--config', 'wrong.json', '--out', 'w']);
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toContain('L_layers is 3 but the checkpoint has L_level.layers.0 to 1');

    const broken = run(['--checkpoint', 'broken', '--config', 'config.json', '--out', 'b']);
    expect(broken.status).toBe(1);
    expect(broken.stderr).toContain('is not a zip archive');
  });

  it('the folder it writes loads as a model folder', async () => {
    const folder = await readModelFolder(join(root, 'imported'));
    expect(folder.config.mlp_t).toBe(true);
    expect(folder.weights['puzzle_emb.weights']!.shape).toEqual([3, 64]);
  });
});
