// Paths as a model card shows them. A card travels with its model folder to other machines, so it names folders
// the way the repository does (data/sudoku-ds, runs/arc1), or by their name alone when they lie elsewhere, never
// by the absolute path of the machine that wrote it.
import { existsSync } from 'node:fs';
import { basename, dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { userCwd } from '../command/flags.js';

/** The repository root: the nearest folder at or above `from` that holds pnpm-workspace.yaml, or null. */
export function repositoryRoot(from = dirname(fileURLToPath(import.meta.url))): string | null {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (existsSync(resolve(dir, 'pnpm-workspace.yaml'))) return dir;
    if (dirname(dir) === dir) return null;
  }
}

/**
 * `path` (absolute, or relative to the current folder) as a card shows it: relative to the repository root when it
 * lies inside the repository, else the folder's or file's name.
 */
export function cardPath(path: string, root: string | null = repositoryRoot()): string {
  const abs = resolve(path);
  if (root !== null) {
    const rel = relative(root, abs);
    if (rel === '') return '.';
    const parts = rel.split(sep);
    if (!isAbsolute(rel) && !parts.includes('..')) return parts.join('/');
  }
  return basename(abs) || '.';
}

/** One argument as a POSIX shell reads it back: quoted only when it needs to be. */
function shellWord(arg: string): string {
  return /^[\w./=:@+,-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

/**
 * A command line for a card's "Reproduce" section: `usage` and `argv`, with the value of every flag named in
 * `pathFlags` (without dashes; `--flag value` or `--flag=value`) resolved from the folder the command ran in and
 * shown as cardPath shows it, so that the line runs from the repository root.
 */
export function cardCommand(
  usage: string,
  argv: readonly string[],
  pathFlags: readonly string[],
  options: { cwd?: string; root?: string | null } = {},
): string {
  const cwd = options.cwd ?? userCwd();
  const root = options.root === undefined ? repositoryRoot() : options.root;
  const show = (value: string) => cardPath(isAbsolute(value) ? value : resolve(cwd, value), root);
  const isPathFlag = (arg: string) => arg.startsWith('--') && pathFlags.includes(arg.slice(2));
  const words = argv.map((arg, i) => {
    const eq = arg.indexOf('=');
    if (eq > 0 && isPathFlag(arg.slice(0, eq))) return `${arg.slice(0, eq)}=${show(arg.slice(eq + 1))}`;
    if (i > 0 && isPathFlag(argv[i - 1]!) && !argv[i - 1]!.includes('=') && !arg.startsWith('--')) return show(arg);
    return arg;
  });
  return [usage, ...words.map(shellWord)].join(' ');
}

/** The names of a command's path flags (kind 'path'), for cardCommand. */
export function pathFlagNames(spec: { flags: readonly { name: string; kind: string }[] }): string[] {
  return spec.flags.filter((f) => f.kind === 'path').map((f) => f.name);
}
