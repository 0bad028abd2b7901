// Finding the trainer's adapt command from the server: the workspace root, tsx over the sources, the bundle where
// only a copy of the tree with bundles exists, and overrides.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  defaultAdaptCommand,
  findRepoRoot,
  resolveAdaptCommand,
  splitCommandLine,
  workspacePackage,
} from './adapt-command.js';

describe('adapt command', () => {
  it('finds the workspace root and runs the sources through tsx', () => {
    const root = findRepoRoot();
    expect(root).not.toBeNull();
    expect(existsSync(join(root!, 'pnpm-workspace.yaml'))).toBe(true);
    const cmd = defaultAdaptCommand(root!);
    expect(cmd?.cwd).toBe(root);
    expect(cmd?.argv[0]).toBe(process.execPath);
    expect(cmd?.argv[1]).toMatch(/tsx[/\\]dist[/\\]cli\.mjs$/);
    expect(cmd?.argv[2]).toBe('packages/trainer/src/cli/adapt.ts');
    expect(findRepoRoot('/')).toBeNull();
  });

  it("runs the trainer's trm-adapt bundle where the tree has no tsx, and finds packages by name", () => {
    // A copy of the tree as a GPU host gets it: the workspace file, package manifests and bundles, no node_modules.
    const root = mkdtempSync(join(tmpdir(), 'trm-adapt-cmd-'));
    try {
      writeFileSync(join(root, 'pnpm-workspace.yaml'), "packages:\n  - 'libs/*'\n  - tools\n# build settings\n");
      mkdirSync(join(root, 'libs', 'fit', 'dist'), { recursive: true });
      mkdirSync(join(root, 'tools'));
      const trainer = {
        name: '@trm/trainer',
        exports: { './cli/adapt': './src/cli/adapt.ts' },
        bin: { 'trm-adapt': './dist/adapt.mjs' },
      };
      writeFileSync(join(root, 'libs', 'fit', 'package.json'), JSON.stringify(trainer));
      writeFileSync(join(root, 'tools', 'package.json'), JSON.stringify({ name: 'tools' }));
      expect(defaultAdaptCommand(root)).toBeNull();
      writeFileSync(join(root, 'libs', 'fit', 'dist', 'adapt.mjs'), '');
      expect(defaultAdaptCommand(root)).toEqual({
        argv: [process.execPath, join('libs', 'fit', 'dist', 'adapt.mjs')],
        cwd: root,
      });
      expect(workspacePackage(root, 'tools')?.dir).toBe(join(root, 'tools'));
      expect(workspacePackage(root, '@trm/server')).toBeNull();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('splits --adapt-cmd and --adapt-args like a shell, quotes included', () => {
    expect(splitCommandLine('  node  dist/adapt.mjs ')).toEqual(['node', 'dist/adapt.mjs']);
    expect(splitCommandLine(`node "/opt/my dir/adapt.mjs" --backend='web gpu' -x`)).toEqual([
      'node',
      '/opt/my dir/adapt.mjs',
      '--backend=web gpu',
      '-x',
    ]);
    expect(splitCommandLine('')).toEqual([]);
    expect(resolveAdaptCommand('node x.mjs', '/tmp').argv).toEqual(['node', 'x.mjs']);
    expect(() => resolveAdaptCommand('   ', '/tmp')).toThrow('--adapt-cmd is empty');
  });
});
