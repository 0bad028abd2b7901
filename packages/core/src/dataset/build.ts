// What every dataset builder takes and returns, and the pieces they share: option checks, the summary and the
// log line that ends a build.
import { formatDuration } from '../util/progress.js';
import type { SplitSummary } from './split-writer.js';

export type DatasetTask = 'sudoku' | 'maze' | 'arc1' | 'arc2' | 'arc';
export const DATASET_TASKS: readonly DatasetTask[] = ['sudoku', 'maze', 'arc1', 'arc2', 'arc'];

export interface BuildOptions {
  /** Source: a CSV file or folder (sudoku, maze), the folder holding the ARC task sets (arc1, arc2). */
  input: string;
  /** Output folder; written atomically. */
  out: string;
  /** Seed of every random choice (subsample, augmentations, translations). */
  seed?: number;
  /** Replace an existing output folder. */
  force?: boolean;
  /** Receives notes and the summary line (default: stderr). */
  log?: (line: string) => void;
  /** No progress bars (tests). */
  quiet?: boolean;
  /** Stops the build at the next puzzle or task; the partial output is removed. */
  signal?: AbortSignal;
}

export interface BuildSummary {
  task: DatasetTask;
  out: string;
  splits: SplitSummary[];
  examples: number;
  puzzles: number;
  groups: number;
  /** Size of the output folder. */
  bytes: number;
  seconds: number;
  notes: string[];
}

export const DEFAULT_SEED = 42;

export function defaultLog(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** Checks an integer option; `flag` is the CLI spelling used in the message. */
export function checkInteger(flag: string, value: number | undefined, min: number, max = Number.MAX_SAFE_INTEGER) {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max)
    throw new RangeError(
      `${flag} must be an integer ${max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in ${min}..${max}`} (got ${value})`,
    );
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
}

/** The one line that ends a build: per split counts, total size and time. */
export function summaryLine(s: BuildSummary): string {
  const parts = s.splits.map((p) => `${p.split} ${p.examples} examples / ${p.puzzles} puzzles / ${p.groups} groups`);
  return `${s.task} dataset -> ${s.out}: ${parts.join('; ')}; ${formatBytes(s.bytes)} in ${s.seconds.toFixed(1)} s (${formatDuration(s.seconds)})`;
}
