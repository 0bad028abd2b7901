// Getting a chunk of ARC tasks ready for the engine, in two steps: plan each task's variants (a task with a grid
// larger than the model's canvas, or whose planning fails, is a failure), then fit puzzle rows for the planned tasks
// the model has not seen, in one adapt run in the chunk's scratch folder (if it fails, those tasks fail).
import { mkdir } from 'node:fs/promises';
import { type ArcTask, arcGridFits } from '@trm/core';
import type { RowFitter, RowLookup } from './adapt-rows.js';
import { freshVariants, type PlanOptions, planTask, type TaskPlan } from './variants.js';
import type { WorkFolder } from './work-folder.js';

export interface ChunkSetup {
  tasks: ReadonlyMap<string, ArcTask>;
  /** the model's canvas side */
  canvas: number;
  /** variant planning; `fit` is implied by `fitter` */
  plan: Omit<PlanOptions, 'fit'>;
  /** fits rows for tasks the model has not seen; null runs them with the blank row */
  fitter: RowFitter | null;
  work: WorkFolder;
  signal?: AbortSignal;
}

export interface PreparedChunk {
  index: number;
  /** the chunk's task ids, in the order of the run */
  ids: string[];
  plans: TaskPlan[];
  /** task id -> why it cannot be solved (planning or adaptation failed) */
  failures: Map<string, string>;
  /** the fitted rows, or null when no task needed them (or adaptation failed); the solver closes it */
  rows: RowLookup | null;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** "HxW" of the first grid of the task (demonstrations or test inputs) larger than the canvas, or null. */
function largestGrid(task: ArcTask, canvas: number): string | null {
  const grids = [...task.train.flatMap((p) => [p.input, p.output]), ...task.test.map((p) => p.input)];
  const big = grids.find((g) => !arcGridFits(g, canvas));
  return big ? `${big.length}x${big[0]?.length ?? 0}` : null;
}

/** The variants of each task of the chunk; the tasks that cannot be planned go to `failures` with the reason. */
function planChunk(ids: readonly string[], s: ChunkSetup, failures: Map<string, string>): TaskPlan[] {
  const plans: TaskPlan[] = [];
  for (const id of ids) {
    const tooBig = largestGrid(s.tasks.get(id)!, s.canvas);
    if (tooBig) {
      failures.set(id, `a ${tooBig} grid does not fit the model's ${s.canvas}x${s.canvas} canvas`);
      continue;
    }
    try {
      plans.push(planTask(id, s.tasks.get(id)!, { ...s.plan, fit: s.fitter !== null }));
    } catch (err) {
      failures.set(id, `planning its variants failed: ${message(err)}`);
    }
  }
  return plans;
}

/** Fits the rows of the plans that need fitted rows, in one adapt run; if it fails, those tasks go to `failures`. */
async function adaptChunk(
  index: number,
  plans: readonly TaskPlan[],
  s: ChunkSetup,
  failures: Map<string, string>,
): Promise<RowLookup | null> {
  const toFit = plans.filter((p) => p.rows === 'fitted');
  if (!s.fitter || toFit.length === 0 || s.signal?.aborted) return null;
  const dir = s.work.scratch(index);
  try {
    await mkdir(dir, { recursive: true });
    return await s.fitter.fit({
      dir,
      tasks: toFit.map((p) => ({
        taskId: p.taskId,
        variants: freshVariants(p.taskId, p.task, s.plan.augment, s.plan.seed),
      })),
      signal: s.signal,
    });
  } catch (err) {
    for (const p of toFit) failures.set(p.taskId, `adaptation failed: ${message(err)}`);
    return null;
  }
}

/** Plans the chunk's tasks, then adapts rows for those the model has not seen. */
export async function prepareChunk(index: number, ids: string[], s: ChunkSetup): Promise<PreparedChunk> {
  const failures = new Map<string, string>();
  const plans = planChunk(ids, s, failures);
  const rows = await adaptChunk(index, plans, s, failures);
  return { index, ids, plans, failures, rows };
}
