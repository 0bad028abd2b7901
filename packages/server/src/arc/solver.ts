// The batch ARC solver: the tasks still to solve go through in chunks. For each chunk the variants are planned,
// rows are fitted for the tasks the model has not seen (one adapt run per chunk, started while the previous
// chunk is still being solved; arc/prepare-chunk.ts), then every variant's every test input goes to the engine, at
// most `inFlight` at a time so that the batch slots stay full while the queue stays short. Each prediction is
// cropped, mapped back to the original task and voted on; a task is recorded in the work folder the moment its last
// prediction arrives, so an interruption loses only the tasks in flight. Memory holds one chunk (two while the next
// is prepared).
import { getMaxListeners, setMaxListeners } from 'node:events';
import { ARC, type ArcTask, applyArcAugmentation, BLANK_IDENTIFIER, encodeArc, Progress } from '@trm/core';
import type { PuzzleRowSource } from '../http/context.js';
import type { SolveEngine } from '../engine/types.js';
import type { RowFitter, RowLookup } from './adapt-rows.js';
import { type PreparedChunk, prepareChunk } from './prepare-chunk.js';
import { predictionGrid } from './prediction.js';
import type { PlanOptions, TaskPlan, VariantRef } from './variants.js';
import { VoteBox } from './vote.js';
import { type TaskRecord, taskFingerprint, type WorkFolder } from './work-folder.js';

/** Candidates kept per test input in the results (two are submitted; more help to judge the votes). */
export const KEPT_CANDIDATES = 10;

export type SolverEngine = SolveEngine & PuzzleRowSource;

export interface SolveArcOptions {
  /** the tasks of the run, without test outputs */
  tasks: ReadonlyMap<string, ArcTask>;
  engine: SolverEngine;
  work: WorkFolder;
  /** variant planning; `fit` is implied by `fitter` */
  plan: Omit<PlanOptions, 'fit'>;
  /** fits rows for tasks the model has not seen; null runs them with the blank row */
  fitter: RowFitter | null;
  /** tasks per chunk */
  chunkSize: number;
  maxSteps: number;
  haltThreshold: number;
  /** the model's canvas side, arcCanvasSide(config.seq_len) (default 30); tasks with a larger grid fail */
  canvas?: number;
  /** engine requests in flight at once (default: twice the engine's batch slots) */
  inFlight?: number;
  signal?: AbortSignal;
  log: (line: string) => void;
  /** no progress bar */
  quiet?: boolean;
  /** called after each task's record is written */
  onTask?: (record: TaskRecord) => void;
}

export interface SolveArcSummary {
  /** the latest record of every task of the run that has one */
  records: Map<string, TaskRecord>;
  /** tasks solved by this call, failed in this call, and solved by an earlier run */
  solved: string[];
  failed: string[];
  skipped: string[];
  /** engine requests answered */
  predictions: number;
  seconds: number;
  aborted: boolean;
}

/** Per task, while its predictions come in. */
interface TaskState {
  plan: TaskPlan;
  fingerprint: string;
  boxes: VoteBox[];
  remaining: number;
  error: string | null;
  started: number;
}

/** A task whose requests can go to the engine: its state and the puzzle row of each variant. */
interface ReadyTask {
  state: TaskState;
  rows: (Float32Array | undefined)[];
}

interface Job {
  state: TaskState;
  variant: VariantRef;
  test: number;
  puzzleEmb: Float32Array | undefined;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Runs `fn` on the items, at most `limit` at a time, taking no new item once `signal` is aborted. */
async function forEachLimited<T>(
  items: Iterator<T>,
  limit: number,
  fn: (item: T) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const lane = async () => {
    for (;;) {
      if (signal?.aborted) return;
      const next = items.next();
      if (next.done) return;
      await fn(next.value);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, lane));
}

function newTaskState(plan: TaskPlan, fingerprint: string): TaskState {
  return {
    plan,
    fingerprint,
    boxes: plan.task.test.map(() => new VoteBox()),
    remaining: plan.variants.length * plan.task.test.length,
    error: null,
    started: performance.now(),
  };
}

/** Every variant's every test input of the ready tasks, task by task (a task's clock starts at its first job). */
function* jobsOf(ready: readonly ReadyTask[]): Generator<Job> {
  for (const { state, rows } of ready) {
    state.started = performance.now();
    for (const [v, variant] of state.plan.variants.entries())
      for (let test = 0; test < state.plan.task.test.length; test++) yield { state, variant, test, puzzleEmb: rows[v] };
  }
}

/** The work folder's line for a finished task: its ranked candidates when solved, the error when failed. */
function taskRecord(state: TaskState, error: string | null): TaskRecord {
  return {
    taskId: state.plan.taskId,
    fingerprint: state.fingerprint,
    status: error === null ? 'solved' : 'failed',
    ...(error === null ? {} : { error }),
    rows: state.plan.rows,
    variants: state.plan.variants.length,
    tests:
      error === null
        ? state.boxes.map((b) => ({
            predictions: b.predictions,
            empty: b.empty,
            candidates: b.ranked(KEPT_CANDIDATES),
          }))
        : [],
    seconds: Math.round((performance.now() - state.started) / 10) / 100,
    finished: new Date().toISOString(),
  };
}

/** One call of solveArcTasks: it works through the chunks and keeps the tallies of the summary and progress bar. */
class SolveRun {
  readonly solved: string[] = [];
  readonly failed: string[] = [];
  predictions = 0;
  private readonly canvas: number;
  private readonly inFlight: number;
  private readonly blankRow: Float32Array | undefined;
  private readonly progress: Progress;

  constructor(
    private readonly o: SolveArcOptions,
    private readonly fingerprints: ReadonlyMap<string, string>,
    pendingTasks: number,
  ) {
    this.canvas = o.canvas ?? ARC.side;
    this.blankRow = o.engine.puzzleRow(BLANK_IDENTIFIER);
    this.inFlight = o.inFlight ?? 2 * Math.max(1, o.engine.stats().totalSlots);
    // Every request in flight (and the adapt child) listens on the one signal: that is by design, not a leak.
    if (o.signal) setMaxListeners(Math.max(getMaxListeners(o.signal), this.inFlight + 8), o.signal);
    this.progress = new Progress('solve-arc', pendingTasks, { unit: 'tasks', silent: o.quiet });
  }

  /** Solves the chunks in turn, preparing each next one (its adapt run) while the current one is solved. */
  async solveChunks(chunks: readonly string[][]): Promise<void> {
    const signal = this.o.signal;
    let next: Promise<PreparedChunk> | null = chunks.length > 0 ? this.prepare(0, chunks) : null;
    try {
      for (let k = 0; k < chunks.length && !signal?.aborted; k++) {
        const chunk = await next!;
        next = k + 1 < chunks.length && !signal?.aborted ? this.prepare(k + 1, chunks) : null;
        this.progress.setFields({
          chunk: `${k + 1}/${chunks.length}`,
          failed: this.failed.length,
          predictions: this.predictions,
        });
        try {
          await this.solveChunk(chunk);
        } finally {
          await this.release(chunk);
        }
      }
    } finally {
      // A chunk prepared ahead but not solved (interrupted) must release its rows and scratch space.
      if (next) await this.release(await next);
    }
  }

  finish(): void {
    this.progress.finish();
  }

  private prepare(index: number, chunks: readonly string[][]): Promise<PreparedChunk> {
    const { tasks, plan, fitter, work, signal } = this.o;
    return prepareChunk(index, chunks[index]!, { tasks, canvas: this.canvas, plan, fitter, work, signal });
  }

  private async release(chunk: PreparedChunk): Promise<void> {
    chunk.rows?.close();
    await this.o.work.removeScratch(chunk.index);
  }

  /** Records the chunk's tasks that cannot run, then sends the others' jobs to the engine. */
  private async solveChunk(chunk: PreparedChunk): Promise<void> {
    const ready = await this.readyTasks(chunk);
    await forEachLimited(jobsOf(ready), this.inFlight, (job) => this.solveJob(job), this.o.signal);
  }

  /** The chunk's tasks with a plan and a row for every variant; the others are recorded as failed. */
  private async readyTasks(chunk: PreparedChunk): Promise<ReadyTask[]> {
    const ready: ReadyTask[] = [];
    for (const id of chunk.ids) {
      const plan = chunk.plans.find((p) => p.taskId === id);
      const state = newTaskState(
        plan ?? { taskId: id, task: this.o.tasks.get(id)!, rows: 'blank', variants: [] },
        this.fingerprints.get(id)!,
      );
      const failure = chunk.failures.get(id);
      if (failure !== undefined || !plan) {
        await this.record(state, failure ?? 'no plan');
        continue;
      }
      try {
        ready.push({ state, rows: this.rowsOf(plan, chunk.rows) });
      } catch (err) {
        await this.record(state, message(err));
      }
    }
    return ready;
  }

  /** The row of each variant, or an error naming the first variant without one. */
  private rowsOf(plan: TaskPlan, lookup: RowLookup | null): (Float32Array | undefined)[] {
    return plan.variants.map((v) => {
      if (plan.rows === 'blank') return this.blankRow;
      const row = plan.rows === 'model' ? this.o.engine.puzzleRow(v.name) : lookup?.row(v.name);
      if (!row) throw new Error(`no puzzle row for variant ${v.name} (${plan.rows === 'model' ? 'model' : 'adapt'})`);
      return row;
    });
  }

  /** One engine request; its prediction, mapped back to the task, is a vote. The task's last job records it. */
  private async solveJob({ state, variant, test, puzzleEmb }: Job): Promise<void> {
    const { engine, signal } = this.o;
    // After a failure the task's remaining requests are counted off without running.
    if (state.error === null) {
      try {
        const input = state.plan.task.test[test]!.input;
        const r = await engine.solve({
          tokens: encodeArc(applyArcAugmentation(input, variant.aug), undefined, this.canvas),
          puzzleEmb,
          maxSteps: this.o.maxSteps,
          haltThreshold: this.o.haltThreshold,
          trace: false,
          signal,
        });
        this.predictions++;
        state.boxes[test]!.add(predictionGrid(r.tokens, variant.aug), r.haltProbability);
      } catch (err) {
        if (!signal?.aborted) state.error = `variant ${variant.name}, test ${test}: ${message(err)}`;
      }
    }
    if (--state.remaining === 0) await this.record(state, state.error);
  }

  /** Writes a finished task's record and counts it; an interrupted run leaves the task for the next run. */
  private async record(state: TaskState, error: string | null): Promise<void> {
    if (this.o.signal?.aborted) return; // the task may be incomplete: leave it for the next run
    const r = taskRecord(state, error);
    await this.o.work.append(r);
    (error === null ? this.solved : this.failed).push(r.taskId);
    if (error !== null) this.o.log(`task ${r.taskId} failed: ${error}`);
    this.progress.tick(1, { failed: this.failed.length, predictions: this.predictions });
    this.o.onTask?.(r);
  }
}

/** Where a run starts: the tasks an earlier run solved (same fingerprint) are skipped, the rest cut into chunks. */
function resumePoint(o: SolveArcOptions): {
  fingerprints: Map<string, string>;
  skipped: string[];
  pending: string[];
  chunks: string[][];
} {
  const fingerprints = new Map([...o.tasks].map(([id, t]) => [id, taskFingerprint(t)]));
  const skipped = [...o.tasks.keys()].filter((id) => o.work.solved(id, fingerprints.get(id)!));
  const done = new Set(skipped);
  const pending = [...o.tasks.keys()].filter((id) => !done.has(id));
  const chunks: string[][] = [];
  for (let i = 0; i < pending.length; i += o.chunkSize) chunks.push(pending.slice(i, i + o.chunkSize));
  return { fingerprints, skipped, pending, chunks };
}

/** The latest record of every task of the run that has one. */
function latestRecords(o: SolveArcOptions): Map<string, TaskRecord> {
  const records = new Map<string, TaskRecord>();
  for (const id of o.tasks.keys()) {
    const r = o.work.record(id);
    if (r) records.set(id, r);
  }
  return records;
}

export async function solveArcTasks(o: SolveArcOptions): Promise<SolveArcSummary> {
  const started = performance.now();
  const { fingerprints, skipped, pending, chunks } = resumePoint(o);
  if (o.work.dropped > 0)
    o.log(`work folder: dropped ${o.work.dropped} incomplete result line(s) of an interrupted run`);
  if (skipped.length > 0)
    o.log(`resuming: ${skipped.length} of ${o.tasks.size} tasks were solved before; ${pending.length} to go`);
  const run = new SolveRun(o, fingerprints, pending.length);
  await run.solveChunks(chunks);
  const aborted = o.signal?.aborted ?? false;
  run.finish();
  return {
    records: latestRecords(o),
    solved: run.solved,
    failed: run.failed,
    skipped,
    predictions: run.predictions,
    seconds: (performance.now() - started) / 1000,
    aborted,
  };
}
