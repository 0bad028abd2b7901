// How the solver starts the trainer's `adapt` command. The server does not import the trainer (it would pull
// TensorFlow.js into the server), so adaptation runs as a child process, found through the trainer's package.json:
// the sources it exports as `@trm/trainer/cli/adapt`, through tsx, in a workspace checkout; else its `trm-adapt`
// program (`bin`: the bundle that `pnpm build` writes) where only a copy of the tree with bundles exists (no
// node_modules, so the package is found by name among the workspace's folders). --adapt-cmd overrides both.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '@trm/core';

const WORKSPACE_FILE = 'pnpm-workspace.yaml';
const TRAINER = '@trm/trainer';
/** The trainer's export of its adapt command's sources. */
const ADAPT_EXPORT = './cli/adapt';
/** The trainer's program name of its adapt bundle. */
const ADAPT_BIN = 'trm-adapt';

/** The repository root: the nearest folder at or above `from` that holds pnpm-workspace.yaml. */
export function findRepoRoot(from = dirname(fileURLToPath(import.meta.url))): string | null {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, WORKSPACE_FILE))) return dir;
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/** The JavaScript entry of tsx as installed at the repository root, or null. */
function tsxCli(root: string): string | null {
  try {
    return createRequire(join(root, 'package.json')).resolve('tsx/cli');
  } catch {
    return null;
  }
}

/** What the server reads of a package.json. */
interface PackageManifest {
  name?: string;
  exports?: Record<string, unknown>;
  bin?: Record<string, unknown>;
}

function readManifest(dir: string): PackageManifest | null {
  try {
    return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageManifest;
  } catch {
    return null;
  }
}

/** The package folders of the workspace at `root`: the `packages:` entries of pnpm-workspace.yaml (`dir/*` or `dir`). */
function workspaceFolders(root: string): string[] {
  const text = readFileSync(join(root, WORKSPACE_FILE), 'utf8');
  const block = text.match(/^packages:\s*\n((?:[ \t]+.*\n?|\s*\n)*)/m)?.[1] ?? '';
  return [...block.matchAll(/^\s*-\s*['"]?([^'"#\s]+)/gm)].flatMap(([, pattern]) => {
    if (pattern!.startsWith('!')) return [];
    if (!pattern!.endsWith('/*')) return [join(root, pattern!)];
    const parent = join(root, pattern!.slice(0, -2));
    if (!existsSync(parent)) return [];
    return readdirSync(parent, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => join(parent, e.name));
  });
}

/** The folder and package.json of the workspace package called `name`, or null. */
export function workspacePackage(root: string, name: string): { dir: string; manifest: PackageManifest } | null {
  for (const dir of workspaceFolders(root)) {
    const manifest = readManifest(dir);
    if (manifest?.name === name) return { dir, manifest };
  }
  return null;
}

/** A command line and where it runs. */
export interface ChildCommand {
  argv: string[];
  cwd: string;
}

/** The default adapt command of the checkout at `root`, or null when it has neither sources with tsx nor a bundle. */
export function defaultAdaptCommand(root: string): ChildCommand | null {
  const trainer = workspacePackage(root, TRAINER);
  if (!trainer) return null;
  // Paths relative to the root, where the command runs, so that a command line in a log reads as in the README.
  const file = (entry: unknown) =>
    typeof entry === 'string' && existsSync(join(trainer.dir, entry)) ? relative(root, join(trainer.dir, entry)) : null;
  const source = file(trainer.manifest.exports?.[ADAPT_EXPORT]);
  const tsx = tsxCli(root);
  if (tsx && source) return { argv: [process.execPath, tsx, source], cwd: root };
  const bundle = file(trainer.manifest.bin?.[ADAPT_BIN]);
  if (bundle) return { argv: [process.execPath, bundle], cwd: root };
  return null;
}

/** Splits a command line on whitespace; single or double quotes keep spaces inside an argument. */
export function splitCommandLine(line: string): string[] {
  const args: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|([^\s"']+)/g;
  let current: string | null = null;
  let lastEnd = -1;
  for (let m = re.exec(line); m !== null; m = re.exec(line)) {
    const part = m[1] ?? m[2] ?? m[3]!;
    // Adjacent pieces without a space between them (--x="a b") form one argument.
    if (current !== null && m.index === lastEnd) current += part;
    else {
      if (current !== null) args.push(current);
      current = part;
    }
    lastEnd = m.index + m[0].length;
  }
  if (current !== null) args.push(current);
  return args;
}

/** The adapt command to use: --adapt-cmd when given (run in the repository root or the current folder). */
export function resolveAdaptCommand(override: string | undefined, cwd: string): ChildCommand {
  const root = findRepoRoot();
  if (override !== undefined) {
    const argv = splitCommandLine(override);
    if (argv.length === 0) throw new UsageError('--adapt-cmd is empty, expected a command line');
    return { argv, cwd: root ?? cwd };
  }
  const found = root ? defaultAdaptCommand(root) : null;
  if (!found)
    throw new UsageError(
      `cannot find the trainer's adapt command (neither the sources of ${TRAINER}${ADAPT_EXPORT.slice(1)} with tsx nor its ${ADAPT_BIN} bundle from \`pnpm build\` in ${root ?? 'a pnpm workspace'}): pass --adapt-cmd "<command>" or --no-adapt`,
    );
  return found;
}
