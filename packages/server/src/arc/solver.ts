// The batch ARC solver: the tasks still to solve go through in chunks. For each chunk the variants are planned,
// rows are fitted for the tasks the model has not seen (one adapt run per chunk, started while the previous
// chunk is still being solved), then every variant's every test input goes to the engine, at most `inFlight` at a
// time so that the batch slots stay full while the queue stays short. Each prediction is cropped, mapped back to
// the original task and voted on; a task is recorded in the work folder the moment its last prediction arrives,
// so an interruption loses only the tasks in flight. Memory holds one chunk (two while the next is prepared).
import { getMaxListeners, setMaxListeners } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { ARC, type ArcTask, applyArcAugmentation, arcGridFits, BLANK_IDENTIFIER, encodeArc, Progress } from '@trm/core';
import type { PuzzleRowSource } from '../http/context.js';
import type { SolveEngine } from '../engine/types.js';
import type { RowFitter, RowLookup } from './adapt-rows.js';
import { predictionGrid } from './prediction.js';
import { freshVariants, type PlanOptions, planTask, type TaskPlan, type VariantRef } from './variants.js';
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

interface PreparedChunk {
  index: number;
  plans: TaskPlan[];
  /** task id -> why it cannot be solved (planning or adaptation failed) */
  failures: Map<string, string>;
  rows: RowLookup | null;
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

interface Job {
  state: TaskState;
  variant: VariantRef;
  test: number;
  puzzleEmb: Float32Array | undefined;
}

/** "HxW" of the first grid of the task (demonstrations or test inputs) larger than the canvas, or null. */
function largestGrid(task: ArcTask, canvas: number): string | null {
  const grids = [...task.train.flatMap((p) => [p.input, p.output]), ...task.test.map((p) => p.input)];
  const big = grids.find((g) => !arcGridFits(g, canvas));
  return big ? `${big.length}x${big[0]?.length ?? 0}` : null;
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

export async function solveArcTasks(o: SolveArcOptions): Promise<SolveArcSummary> {
  const started = performance.now();
  const { engine, work, signal } = o;
  const canvas = o.canvas ?? ARC.side;
  const fingerprints = new Map([...o.tasks].map(([id, t]) => [id, taskFingerprint(t)]));
  const skipped = [...o.tasks.keys()].filter((id) => work.solved(id, fingerprints.get(id)!));
  const done = new Set(skipped);
  const pending = [...o.tasks.keys()].filter((id) => !done.has(id));
  const chunks: string[][] = [];
  for (let i = 0; i < pending.length; i += o.chunkSize) chunks.push(pending.slice(i, i + o.chunkSize));
  if (work.dropped > 0) o.log(`work folder: dropped ${work.dropped} incomplete result line(s) of an interrupted run`);
  if (skipped.length > 0)
    o.log(`resuming: ${skipped.length} of ${o.tasks.size} tasks were solved before; ${pending.length} to go`);

  const solved: string[] = [];
  const failed: string[] = [];
  let predictions = 0;
  const blankRow = engine.puzzleRow(BLANK_IDENTIFIER);
  const inFlight = o.inFlight ?? 2 * Math.max(1, engine.stats().totalSlots);
  // Every request in flight (and the adapt child) listens on the one signal: that is by design, not a leak.
  if (signal) setMaxListeners(Math.max(getMaxListeners(signal), inFlight + 8), signal);
  const progress = new Progress('solve-arc', pending.length, { unit: 'tasks', silent: o.quiet });

  const record = async (state: TaskState, error: string | null) => {
    if (signal?.aborted) return; // the task may be incomplete: leave it for the next run
    const r: TaskRecord = {
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
    await work.append(r);
    (error === null ? solved : failed).push(r.taskId);
    if (error !== null) o.log(`task ${r.taskId} failed: ${error}`);
    progress.tick(1, { failed: failed.length, predictions });
    o.onTask?.(r);
  };

  const newState = (plan: TaskPlan): TaskState => ({
    plan,
    fingerprint: fingerprints.get(plan.taskId)!,
    boxes: plan.task.test.map(() => new VoteBox()),
    remaining: plan.variants.length * plan.task.test.length,
    error: null,
    started: performance.now(),
  });

  const prepare = async (index: number): Promise<PreparedChunk> => {
    const failures = new Map<string, string>();
    const plans: TaskPlan[] = [];
    for (const id of chunks[index]!) {
      const tooBig = largestGrid(o.tasks.get(id)!, canvas);
      if (tooBig) {
        failures.set(id, `a ${tooBig} grid does not fit the model's ${canvas}x${canvas} canvas`);
        continue;
      }
      try {
        plans.push(planTask(id, o.tasks.get(id)!, { ...o.plan, fit: o.fitter !== null }));
      } catch (err) {
        failures.set(id, `planning its variants failed: ${message(err)}`);
      }
    }
    const toFit = plans.filter((p) => p.rows === 'fitted');
    let rows: RowLookup | null = null;
    if (o.fitter && toFit.length > 0 && !signal?.aborted) {
      const dir = work.scratch(index);
      try {
        await mkdir(dir, { recursive: true });
        rows = await o.fitter.fit({
          dir,
          tasks: toFit.map((p) => ({
            taskId: p.taskId,
            variants: freshVariants(p.taskId, p.task, o.plan.augment, o.plan.seed),
          })),
          signal,
        });
      } catch (err) {
        for (const p of toFit) failures.set(p.taskId, `adaptation failed: ${message(err)}`);
      }
    }
    return { index, plans, failures, rows };
  };

  /** The row of each variant, or an error naming the first variant without one. */
  const rowsOf = (plan: TaskPlan, lookup: RowLookup | null): (Float32Array | undefined)[] => {
    return plan.variants.map((v) => {
      if (plan.rows === 'blank') return blankRow;
      const row = plan.rows === 'model' ? engine.puzzleRow(v.name) : lookup?.row(v.name);
      if (!row) throw new Error(`no puzzle row for variant ${v.name} (${plan.rows === 'model' ? 'model' : 'adapt'})`);
      return row;
    });
  };

  const solveChunk = async (chunk: PreparedChunk) => {
    const ready: { state: TaskState; rows: (Float32Array | undefined)[] }[] = [];
    for (const id of chunks[chunk.index]!) {
      const plan = chunk.plans.find((p) => p.taskId === id);
      const state = newState(plan ?? { taskId: id, task: o.tasks.get(id)!, rows: 'blank', variants: [] });
      const failure = chunk.failures.get(id);
      if (failure !== undefined || !plan) {
        await record(state, failure ?? 'no plan');
        continue;
      }
      try {
        ready.push({ state, rows: rowsOf(plan, chunk.rows) });
      } catch (err) {
        await record(state, message(err));
      }
    }
    function* jobs(): Generator<Job> {
      for (const { state, rows } of ready) {
        state.started = performance.now();
        for (const [v, variant] of state.plan.variants.entries())
          for (let test = 0; test < state.plan.task.test.length; test++)
            yield { state, variant, test, puzzleEmb: rows[v] };
      }
    }
    await forEachLimited(
      jobs(),
      inFlight,
      async ({ state, variant, test, puzzleEmb }) => {
        // After a failure the task's remaining requests are counted off without running.
        if (state.error === null) {
          try {
            const input = state.plan.task.test[test]!.input;
            const r = await engine.solve({
              tokens: encodeArc(applyArcAugmentation(input, variant.aug), undefined, canvas),
              puzzleEmb,
              maxSteps: o.maxSteps,
              haltThreshold: o.haltThreshold,
              trace: false,
              signal,
            });
            predictions++;
            state.boxes[test]!.add(predictionGrid(r.tokens, variant.aug), r.haltProbability);
          } catch (err) {
            if (!signal?.aborted) state.error = `variant ${variant.name}, test ${test}: ${message(err)}`;
          }
        }
        if (--state.remaining === 0) await record(state, state.error);
      },
      signal,
    );
  };

  let next: Promise<PreparedChunk> | null = chunks.length > 0 ? prepare(0) : null;
  try {
    for (let k = 0; k < chunks.length && !signal?.aborted; k++) {
      const chunk = await next!;
      next = k + 1 < chunks.length && !signal?.aborted ? prepare(k + 1) : null;
      progress.setFields({ chunk: `${k + 1}/${chunks.length}`, failed: failed.length, predictions });
      try {
        await solveChunk(chunk);
      } finally {
        chunk.rows?.close();
        await work.removeScratch(chunk.index);
      }
    }
  } finally {
    // A chunk prepared ahead but not solved (interrupted) must release its rows and scratch space.
    if (next) {
      const left = await next;
      left.rows?.close();
      await work.removeScratch(left.index);
    }
  }
  const aborted = signal?.aborted ?? false;
  progress.finish();
  const records = new Map<string, TaskRecord>();
  for (const id of o.tasks.keys()) {
    const r = work.record(id);
    if (r) records.set(id, r);
  }
  return {
    records,
    solved,
    failed,
    skipped,
    predictions,
    seconds: (performance.now() - started) / 1000,
    aborted,
  };
}
