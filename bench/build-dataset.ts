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
import { parseArgs } from 'node:util';
import { type BuildSummary, buildArcDataset, buildSudokuDataset, formatBytes } from '@trm/core';

const { values } = parseArgs({
  options: {
    input: { type: 'string', default: '/work/shared/data/sudoku/train.csv' },
    'arc-input': { type: 'string', default: '/work/shared/data' },
    puzzles: { type: 'string', default: '1000' },
    augment: { type: 'string', default: '1000' },
    arc1: { type: 'boolean', default: false },
    'arc-augment': { type: 'string', default: '1000' },
    quiet: { type: 'boolean', default: false },
  },
});

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

const scratch = mkdtempSync(join(tmpdir(), 'bench-build-dataset-'));
const rows: Row[] = [];
try {
  const puzzles = Number(values.puzzles);
  const augment = Number(values.augment);
  const sudoku = await buildSudokuDataset({
    input: values.input!,
    out: join(scratch, 'sudoku'),
    subsample: puzzles,
    augment,
    seed: 0,
    quiet: values.quiet,
    log: () => {},
  });
  rows.push(row(`sudoku ${puzzles} x (1 + ${augment})`, sudoku));
  rmSync(join(scratch, 'sudoku'), { recursive: true });
  if (values.arc1) {
    const arcAugment = Number(values['arc-augment']);
    const arc = await buildArcDataset({
      task: 'arc1',
      input: values['arc-input']!,
      out: join(scratch, 'arc1'),
      augment: arcAugment,
      seed: 42,
      quiet: values.quiet,
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
  console.log(t.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  if (k === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
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
  command: `pnpm exec tsx bench/build-dataset.ts ${process.argv.slice(2).join(' ')}`.trim(),
  results: rows,
};
const dir = join(import.meta.dirname, 'results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `build-dataset-${result.date.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${file}`);
