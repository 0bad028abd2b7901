// Paths in model cards: relative to the repository root inside it, the name alone elsewhere, and
// command lines whose path flags read that way; never an absolute path of the machine.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cardCommand, cardPath, pathFlagNames, repositoryRoot } from './card-path.js';

const ROOT = '/home/ann/trm';

describe('cardPath', () => {
  it('is relative to the repository root inside it, the name alone elsewhere', () => {
    expect(cardPath('/home/ann/trm/data/sudoku-ds', ROOT)).toBe('data/sudoku-ds');
    expect(cardPath('/home/ann/trm', ROOT)).toBe('.');
    expect(cardPath('/home/ann/shared/data/arc-agi-1', ROOT)).toBe('arc-agi-1');
    expect(cardPath('/tmp/trm-e2e-x1/data', ROOT)).toBe('data');
    expect(cardPath('/home/ann', ROOT)).toBe('ann');
    expect(cardPath('/tmp/run/', null)).toBe('run');
  });

  it('finds the repository this file is in', () => {
    const root = repositoryRoot();
    expect(root).toBe(fileURLToPath(new URL('../../../..', import.meta.url)).replace(/\/$/, ''));
    expect(cardPath(join(root!, 'models', 'arc1-small'))).toBe('models/arc1-small');
    expect(cardPath(join(tmpdir(), 'trm-card', 'ds'))).toBe('ds');
    expect(repositoryRoot(tmpdir())).toBe(null);
  });

  it("holds for the shipped models' cards: no absolute path of a machine", () => {
    const models = join(repositoryRoot()!, 'models');
    const cards = readdirSync(models)
      .map((m) => join(models, m, 'README.md'))
      .filter((f) => existsSync(f));
    expect(cards.length).toBeGreaterThan(0);
    // a path from the file system root, not part of a URL (https://...)
    const absolute = /(?<![\w.:/-])\/(?:home|root|tmp|Users|work|mnt|srv|var|opt|data)\/[\w./-]+/g;
    expect(cards.flatMap((f) => (readFileSync(f, 'utf8').match(absolute) ?? []).map((p) => `${f}: ${p}`))).toEqual([]);
  });
});

describe('cardCommand', () => {
  const usage = 'pnpm --filter @trm/trainer train';

  it('shows the values of path flags from the repository root, in both spellings', () => {
    const argv = ['--data', '/tmp/x/ds', '--out=runs/a', '--steps', '300', '--init', '../shared/m'];
    expect(cardCommand(usage, argv, ['data', 'out', 'init'], { cwd: `${ROOT}/packages/trainer`, root: ROOT })).toBe(
      `${usage} --data ds --out=packages/trainer/runs/a --steps 300 --init packages/shared/m`,
    );
    expect(cardCommand(usage, ['--data', 'data/ds'], ['data'], { cwd: ROOT, root: ROOT })).toBe(
      `${usage} --data data/ds`,
    );
  });

  it('leaves other flags alone and quotes what a shell would split', () => {
    const argv = ['--out', '/srv/models/my model', '--adapt-args', '--lr 0.05', '--name', '/etc/x'];
    expect(cardCommand(usage, argv, ['out'], { cwd: '/', root: ROOT })).toBe(
      `${usage} --out 'my model' --adapt-args '--lr 0.05' --name /etc/x`,
    );
  });

  it('names the path flags of a command spec', () => {
    const spec = {
      flags: [
        { name: 'model', kind: 'path' },
        { name: 'steps', kind: 'int' },
        { name: 'out', kind: 'path' },
      ],
    };
    expect(pathFlagNames(spec)).toEqual(['model', 'out']);
  });
});
