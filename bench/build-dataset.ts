// Dataset building throughput: sudoku 1000 puzzles x 1000 augmentations (the reference's Sudoku-Extreme recipe)
// from the shared sudoku set, and optionally a full ARC-AGI-1 build. Prints a table and writes
// bench/results/build-dataset-<timestamp>.json.
//
//   pnpm exec tsx bench/build-dataset.ts                 # sudoku only (about 15 s on 2 cores)
//   pnpm exec tsx bench/build-dataset.ts --arc1          # plus arc1 with --augment 1000 (minutes, ~8 GB of disk)
//   pnpm exec tsx bench/build-dataset.ts --arc1 --arc-augment 100
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type BuildSummary,
  buildArcDataset,
  buildSudokuDataset,
  type CliSpec,
  type CommandIo,
  formatBytes,
  parseFlags,
  runCli,
} from '@trm/core';

const spec: CliSpec = {
  usage: 'pnpm exec tsx bench/build-dataset.ts',
  summary:
    "Dataset building throughput: sudoku puzzles x augmentations (the reference's Sudoku-Extreme recipe) from the\n" +
    'shared sudoku set, and optionally a full ARC-AGI-1 build, in a scratch folder that is removed afterwards.\n' +
    'Prints a table and writes bench/results/build-dataset-<time>.json.',
  flags: [
    {
      name: 'input',
      kind: 'path',
      default: '/work/shared/data/sudoku/train.csv',
      value: '<file>',
      help: 'the sudoku CSV',
    },
    {
      name: 'arc-input',
      kind: 'path',
      default: '/work/shared/data',
      value: '<dir>',
      help: 'with --arc1: the folder holding arc-agi-1 and conceptarc',
    },
    { name: 'puzzles', kind: 'int', min: 1, default: 1000, value: '<n>', help: 'sudoku: train puzzles kept' },
    {
      name: 'augment',
      kind: 'int',
      min: 0,
      default: 1000,
      value: '<n>',
      help: 'sudoku: random shuffles per puzzle besides the original',
    },
    { name: 'arc1', kind: 'bool', help: 'also build arc1 (minutes, ~8 GB of disk at --arc-augment 1000)' },
    {
      name: 'arc-augment',
      kind: 'int',
      min: 0,
      default: 1000,
      value: '<n>',
      help: 'arc1: augmented variants per task',
    },
    { name: 'quiet', kind: 'bool', help: 'no progress bar' },
  ],
  examples: [
    'pnpm exec tsx bench/build-dataset.ts',
    'pnpm exec tsx bench/build-dataset.ts --arc1',
    'pnpm exec tsx bench/build-dataset.ts --arc1 --arc-augment 100',
  ],
};

interface Row {
  name: string;
  rows: number;
  bytes: number;
  seconds: number;
  rowsPerSecond: number;
  peakRssMB: number;
}

function row(name: string, s: BuildSummary): Row {
  return {
    name,
    rows: s.examples,
    bytes: s.bytes,
    seconds: Number(s.seconds.toFixed(2)),
    rowsPerSecond: Math.round(s.examples / s.seconds),
    // Peak resident memory of the whole process so far (kB -> MB).
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

async function main(argv: readonly string[], io: CommandIo): Promise<void> {
  const { values, help } = parseFlags(argv, spec);
  if (help) return;
  const quiet = values.quiet as boolean;
  const scratch = mkdtempSync(join(tmpdir(), 'bench-build-dataset-'));
  const rows: Row[] = [];
  try {
    const puzzles = values.puzzles as number;
    const augment = values.augment as number;
    const sudoku = await buildSudokuDataset({
      input: values.input as string,
      out: join(scratch, 'sudoku'),
      subsample: puzzles,
      augment,
      seed: 0,
      quiet,
      log: () => {},
    });
    rows.push(row(`sudoku ${puzzles} x (1 + ${augment})`, sudoku));
    rmSync(join(scratch, 'sudoku'), { recursive: true });
    if (values.arc1) {
      const arcAugment = values['arc-augment'] as number;
      const arc = await buildArcDataset({
        task: 'arc1',
        input: values['arc-input'] as string,
        out: join(scratch, 'arc1'),
        augment: arcAugment,
        seed: 42,
        quiet,
        log: () => {},
      });
      rows.push(row(`arc1 augment ${arcAugment}`, arc));
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }

  const header = ['build', 'rows', 'bytes', 'seconds', 'rows/s', 'peak RSS MB'];
  const table = [
    header,
    ...rows.map((r) => [r.name, r.rows, formatBytes(r.bytes), r.seconds, r.rowsPerSecond, r.peakRssMB].map(String)),
  ];
  const widths = header.map((_, i) => Math.max(...table.map((t) => t[i]!.length)));
  for (const [k, t] of table.entries()) {
    io.out(t.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
    if (k === 0) io.out(widths.map((w) => '-'.repeat(w)).join('  '));
  }

  const result = {
    benchmark: 'build-dataset',
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpu: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      platform: process.platform,
    },
    command: `pnpm exec tsx bench/build-dataset.ts ${argv.join(' ')}`.trim(),
    results: rows,
  };
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `build-dataset-${result.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  io.out(`wrote ${file}`);
}

await runCli(spec, main);
