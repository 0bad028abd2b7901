// Finding the trainer's adapt command from the server: the workspace root, tsx over the sources, and overrides.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultAdaptCommand, findRepoRoot, resolveAdaptCommand, splitCommandLine } from './adapt-command.js';

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
