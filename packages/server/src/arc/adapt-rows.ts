// Test-time training of puzzle rows for tasks the model has not seen: the chunk's fresh variants are written as a
// dataset of their demonstration pairs (train split only, one group per variant so that every row is trained in
// every epoch), the trainer's `adapt` command fits one row per variant
// with the weights frozen and writes an adapted model folder, and the rows are read back from that folder's
// weights by name. One child process per chunk fits every row of the chunk at once.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { type ArcTaskVariants, buildArcDatasetFromVariants } from '@trm/core';
import { PuzzleTable } from '../engine/puzzle-table.js';
import type { ChildCommand } from './adapt-command.js';
import { adaptBatch, argValue } from './run-defaults.js';

/** Puzzle rows by variant name. */
export interface RowLookup {
  row(name: string): Float32Array | undefined;
  close(): void;
}

export interface FitJob {
  /** an empty scratch folder for this job */
  dir: string;
  /** the variants to fit rows for, with their examples (only the train split is used) */
  tasks: ArcTaskVariants[];
  signal?: AbortSignal;
}

/** Something that fits rows for new variants (the adapt child process; tests use a stand-in). */
export interface RowFitter {
  fit(job: FitJob): Promise<RowLookup>;
}

export interface AdaptProcessOptions {
  command: ChildCommand;
  modelDir: string;
  /** optimiser steps of adapt */
  steps: number;
  seed: number;
  /** further flags for adapt, e.g. --lr 0.05; a --batch or --backend here replaces the one chosen below */
  extraArgs: readonly string[];
  puzzleEmbDim: number;
  /** adapt's --backend */
  backend: string;
  /**
   * the model's batch size: adapt's batch, at most the chunk's demonstration pairs and `rowLimit` (null: none;
   * see adaptRowLimit), unless extraArgs sets one
   */
  batchSize: number;
  rowLimit: number | null;
  /** the model's canvas side (default 30): the adapt dataset is encoded on it */
  canvas?: number;
  /** adapt's summary line and other notes */
  log: (line: string) => void;
}

/** Keeps the last `limit` characters of a stream's text (enough for an error message, bounded for long runs). */
class TextTail {
  private text = '';
  constructor(private readonly limit = 16_384) {}
  push(chunk: Buffer): void {
    this.text = (this.text + chunk.toString('utf8')).slice(-this.limit);
  }
  lines(n: number): string {
    return this.text.trimEnd().split('\n').slice(-n).join('\n');
  }
}

/** Runs a command to its end; resolves with its exit code and the tails of its output. */
function runChild(
  command: ChildCommand,
  args: readonly string[],
  signal: AbortSignal | undefined,
): Promise<{ code: number | null; stdout: TextTail; stderr: TextTail }> {
  return new Promise((resolve, reject) => {
    const [file, ...pre] = command.argv;
    const child = spawn(file!, [...pre, ...args], {
      cwd: command.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Relative paths of the child resolve where it runs; every path passed here is absolute anyway.
      env: { ...process.env, INIT_CWD: command.cwd },
      signal,
    });
    const stdout = new TextTail();
    const stderr = new TextTail();
    child.stdout.on('data', (c: Buffer) => stdout.push(c));
    child.stderr.on('data', (c: Buffer) => stderr.push(c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * What the wasm backend's failures mean: its heap (at most 4 GiB) ran out. The kernel that hits the limit reports
 * it as a trap ("memory access out of bounds", "remainder by zero") or Emscripten's "Aborted()", none of which
 * says memory.
 */
export function heapHint(why: string, backend: string, rows: number): string {
  if (!/memory access out of bounds|remainder by zero|Aborted\(\)|out of memory/i.test(why)) return '';
  if (backend === 'wasm' || backend === 'auto')
    return ` (the tfjs wasm backend's heap, at most 4 GiB, does not hold a training batch of ${rows} rows of this model: use --adapt-backend ort-cpu, which has no such limit, or a smaller --adapt-batch)`;
  return ` (adapt ran out of memory at a batch of ${rows} rows: pass a smaller --adapt-batch)`;
}

export class AdaptProcess implements RowFitter {
  constructor(private readonly o: AdaptProcessOptions) {}

  async fit(job: FitJob): Promise<RowLookup> {
    const data = join(job.dir, 'data');
    const model = join(job.dir, 'model');
    const summary = await buildArcDatasetFromVariants({
      out: data,
      tasks: job.tasks,
      splits: ['train'],
      seed: this.o.seed,
      force: true,
      quiet: true,
      log: () => {},
      signal: job.signal,
      source: 'tasks of a solve-arc chunk',
      groupPerVariant: true,
      canvas: this.o.canvas,
    });
    // The sampler needs one full batch per epoch, and an epoch here is every demonstration pair of the chunk once.
    const given = argValue(this.o.extraArgs, '--batch');
    const rows = given === undefined ? adaptBatch(this.o.batchSize, summary.examples, this.o.rowLimit) : Number(given);
    const batch = given === undefined ? ['--batch', String(rows)] : [];
    const backend = argValue(this.o.extraArgs, '--backend');
    const backendArgs = backend === undefined ? ['--backend', this.o.backend] : [];
    const args = [
      '--model',
      this.o.modelDir,
      '--data',
      data,
      '--out',
      model,
      '--steps',
      String(this.o.steps),
      '--seed',
      String(this.o.seed),
      '--quiet',
      ...batch,
      ...backendArgs,
      ...this.o.extraArgs,
    ];
    // adapt runs quietly (its bar would fight the solver's): say what it is doing, which may take minutes.
    this.o.log(
      `adapt: fitting ${summary.puzzles} variant rows from ${summary.examples} demonstration pairs: ${this.o.steps} steps of batch ${rows} on ${backend ?? this.o.backend}`,
    );
    const run = await runChild(this.o.command, args, job.signal);
    if (run.code !== 0) {
      const why = run.stderr.lines(8) || run.stdout.lines(8) || 'no output';
      throw new Error(`adapt exited with code ${run.code}: ${why}${heapHint(why, backend ?? this.o.backend, rows)}`);
    }
    const table = await PuzzleTable.open(model, this.o.puzzleEmbDim);
    if (!table) throw new Error(`adapt wrote no puzzle table with names to ${model}`);
    this.o.log(`adapt: ${run.stdout.lines(1)}`);
    return table;
  }
}
