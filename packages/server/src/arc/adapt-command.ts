// How the solver starts the trainer's `adapt` command. The server does not import the trainer (it would pull
// TensorFlow.js into the server), so adaptation runs as a child process: from the sources through tsx in a
// workspace checkout, else from the bundle that `pnpm build` writes (packages/trainer/dist/adapt.mjs) where only
// a copy of the tree with bundles exists. --adapt-cmd overrides both.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '@trm/core';

const ADAPT_SOURCE = 'packages/trainer/src/cli/adapt.ts';
const ADAPT_BUNDLE = 'packages/trainer/dist/adapt.mjs';

/** The repository root: the nearest folder at or above `from` that holds pnpm-workspace.yaml. */
export function findRepoRoot(from = dirname(fileURLToPath(import.meta.url))): string | null {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
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

/** A command line and where it runs. */
export interface ChildCommand {
  argv: string[];
  cwd: string;
}

/** The default adapt command of the checkout at `root`, or null when it has neither sources with tsx nor a bundle. */
export function defaultAdaptCommand(root: string): ChildCommand | null {
  const tsx = tsxCli(root);
  if (tsx && existsSync(join(root, ADAPT_SOURCE))) return { argv: [process.execPath, tsx, ADAPT_SOURCE], cwd: root };
  if (existsSync(join(root, ADAPT_BUNDLE))) return { argv: [process.execPath, ADAPT_BUNDLE], cwd: root };
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
      `cannot find the trainer's adapt command (neither ${ADAPT_SOURCE} with tsx nor ${ADAPT_BUNDLE} under ${root ?? 'a pnpm workspace'}): pass --adapt-cmd "<command>" or --no-adapt`,
    );
  return found;
}
