// The examples of every command's --help must run from the repository root as printed: each folder or file they
// read (--model, --data, --tasks, ...) is in the repository (or ../shared/data), or is written by an example or
// package script that comes with the commands (an --out), so that copying the examples in order works.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILD_DATASET_USAGE, GENERATE_USAGE } from '@trm/core';
import { exportSpec, IMPORT_OFFICIAL_USAGE, shipSpec } from '@trm/exporter/commands';
import { START_USAGE, solveArcSpec, splitCommandLine } from '@trm/server/commands';
import { adaptSpec, evalSpec, trainSpec } from '@trm/trainer/commands';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Flags whose value is read, not written. */
const INPUT_FLAGS = ['--model', '--data', '--tasks', '--solutions', '--input', '--test-tasks', '--init'];

/** The example lines of a usage text (after "Examples:", continuation lines ending in a backslash joined). */
function usageExamples(usage: string): string[] {
  const text = usage.slice(usage.indexOf('Examples:') + 'Examples:'.length).replace(/\\\n\s*/g, ' ');
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('pnpm') || l.startsWith('node'));
}

const examples: string[] = [
  ...[solveArcSpec, adaptSpec, trainSpec, evalSpec, exportSpec, shipSpec].flatMap((s) => s.examples),
  ...[GENERATE_USAGE, BUILD_DATASET_USAGE, IMPORT_OFFICIAL_USAGE, START_USAGE].flatMap(usageExamples),
];
const scripts = Object.values(
  (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts,
).flatMap((s) => s.split('&&').map((c) => c.trim()));

const valuesOf = (line: string, flags: readonly string[]): string[] => {
  const args = splitCommandLine(line);
  return args.flatMap((a, i) => (flags.includes(a) && args[i + 1] !== undefined ? [args[i + 1]!] : []));
};

describe('--help examples', () => {
  it('read only what the repository holds or what an example or package script writes', () => {
    const written = new Set([...examples, ...scripts].flatMap((l) => valuesOf(l, ['--out'])));
    const missing = examples.flatMap((line) =>
      valuesOf(line, INPUT_FLAGS)
        .filter((p) => !existsSync(join(ROOT, p)) && !written.has(p))
        .map((p) => `${p} in: ${line}`),
    );
    expect(examples.length).toBeGreaterThan(15);
    expect(missing).toEqual([]);
  });
});
