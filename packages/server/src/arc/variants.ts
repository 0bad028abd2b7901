// Which augmented variants of a task the solver runs, and where each variant's puzzle-embedding row comes from.
// A task the model was trained on (its id appears in the model's identifiers.json) is run with the variants the
// model has rows for, since a row only means something for the exact augmentation it was trained with. Any other
// task gets fresh variants (the original, then up to --augment unique dihedral x colour variants, drawn as the
// reference's builder does), whose rows adaptation fits from the demonstration pairs, or which run with the
// blank row when adaptation is off. Fresh variants come from a generator seeded by (seed, task id), so that a
// task's variants never depend on which other tasks share its run or chunk, and can be drawn again identically.
import { createHash } from 'node:crypto';
import {
  type ArcAugmentation,
  type ArcTask,
  type ArcVariantPlan,
  arcTaskExamples,
  arcVariants,
  BLANK_IDENTIFIER,
  parseArcVariantName,
  Rng,
} from '@trm/core';

/** Where a task's rows come from: the model's table, adaptation now, or the blank row (zeros without one). */
export type RowSourceKind = 'model' | 'fitted' | 'blank';

/** A variant by name, with the augmentation that maps the original task to it. */
export interface VariantRef {
  name: string;
  aug: ArcAugmentation;
}

export interface TaskPlan {
  taskId: string;
  task: ArcTask;
  rows: RowSourceKind;
  /** the original (when run) first */
  variants: VariantRef[];
}

/** The seed of one task's variant draws: independent of the other tasks of the run. */
export function taskSeed(seed: number, taskId: string): number {
  return createHash('sha256').update(`${seed}/${taskId}`).digest().readUInt32LE(0);
}

/**
 * The original and up to `augment` unique augmented variants of a task the model does not know, with their
 * examples (demonstration pairs in train, test inputs with a [[0]] placeholder label in test). Lazy and
 * repeatable: the same arguments give the same variants.
 */
export function freshVariants(
  taskId: string,
  task: ArcTask,
  augment: number,
  seed: number,
): Generator<ArcVariantPlan, void, undefined> {
  const examples = arcTaskExamples(task, true, () => {});
  return arcVariants(taskId, examples, augment, new Rng(taskSeed(seed, taskId)));
}

/** Task id -> the names of the model's rows for it (the original first, then in table order). */
export function modelVariantIndex(identifiers: readonly string[]): Map<string, string[]> {
  const index = new Map<string, string[]>();
  for (const name of identifiers) {
    if (name === BLANK_IDENTIFIER) continue;
    let taskId: string;
    try {
      taskId = parseArcVariantName(name).taskId;
    } catch {
      continue; // not an ARC variant name: no task of ours can use the row
    }
    const names = index.get(taskId) ?? [];
    if (name === taskId) names.unshift(name);
    else names.push(name);
    index.set(taskId, names);
  }
  return index;
}

function ref(name: string): VariantRef {
  const { tid, perm } = parseArcVariantName(name);
  return { name, aug: { tid, perm } };
}

export interface PlanOptions {
  /** augmented variants per task besides the original */
  augment: number;
  seed: number;
  /** modelVariantIndex of the model's identifiers.json; null when the model names no rows */
  known: ReadonlyMap<string, readonly string[]> | null;
  /** fit rows for unknown tasks (false: run them with the blank row) */
  fit: boolean;
}

/** The variants to run for a task and where their rows come from. */
export function planTask(taskId: string, task: ArcTask, o: PlanOptions): TaskPlan {
  const known = o.known?.get(taskId);
  if (known && known.length > 0)
    return { taskId, task, rows: 'model', variants: known.slice(0, o.augment + 1).map(ref) };
  const variants = [...freshVariants(taskId, task, o.augment, o.seed)].map((v) => ref(v.name));
  return { taskId, task, rows: o.fit ? 'fitted' : 'blank', variants };
}
