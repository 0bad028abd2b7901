// Turning ranked predictions into a complete submission. Every expected task and every test input gets an
// entry, so the file is always accepted: a missing or malformed prediction becomes [[0]], and each such repair
// is reported in `warnings`. With a single candidate, attempt_2 repeats attempt_1 (as the reference evaluator
// pads its top-2 list).
import type { ArcTask } from '../tasks/arc.js';
import { validateArcGrid } from '../tasks/arc.js';
import type { Grid } from '../tasks/grid.js';
import type { ArcAttempts, ArcSubmission, ArcTestCounts } from './types.js';

/** Task id -> for each test input, candidate grids best first (only the first two are used). */
export type ArcPredictions =
  | Record<string, readonly (readonly Grid[] | undefined)[]>
  | ReadonlyMap<string, readonly (readonly Grid[] | undefined)[]>;

export interface BuiltSubmission {
  submission: ArcSubmission;
  /** One line per repair or ignored prediction, naming the task and test index. */
  warnings: string[];
}

/** Placeholder for a test input without a usable prediction. */
export const EMPTY_PREDICTION: Grid = [[0]];

/** Test-input counts of a set of tasks (e.g. loaded with loadArcTaskDir). */
export function testCountsOf(tasks: ReadonlyMap<string, ArcTask> | Record<string, ArcTask>): ArcTestCounts {
  const entries: [string, ArcTask][] = tasks instanceof Map ? [...tasks.entries()] : Object.entries(tasks);
  return Object.fromEntries(entries.map(([id, task]) => [id, task.test.length]));
}

/** Builds a submission covering exactly the tasks and test inputs of `expected`, in its order. */
export function buildSubmission(expected: ArcTestCounts, predictions: ArcPredictions): BuiltSubmission {
  const byTask = new Map<string, readonly (readonly Grid[] | undefined)[]>(
    predictions instanceof Map ? predictions : Object.entries(predictions),
  );
  const warnings: string[] = [];
  const submission: ArcSubmission = {};
  for (const [taskId, count] of Object.entries(expected)) {
    const perTest = byTask.get(taskId);
    if (perTest === undefined)
      warnings.push(`task ${taskId}: no predictions; wrote [[0]] for its ${count} test input(s)`);
    else if (perTest.length > count) {
      warnings.push(
        `task ${taskId}: ${perTest.length} predictions for ${count} test input(s); the extra ones are ignored`,
      );
    }
    const entries: ArcAttempts[] = [];
    for (let i = 0; i < count; i++) {
      const given: readonly Grid[] = perTest?.[i] ?? [];
      const candidates = given.flatMap((grid, k): Grid[] => {
        try {
          return [validateArcGrid(grid, `task ${taskId} test ${i} candidate ${k}`)];
        } catch (err) {
          warnings.push(`${(err as Error).message}; candidate dropped`);
          return [];
        }
      });
      if (candidates.length === 0 && perTest !== undefined) {
        warnings.push(`task ${taskId}: no usable prediction for test input ${i}; wrote [[0]]`);
      }
      const first = candidates[0] ?? EMPTY_PREDICTION;
      entries.push({ attempt_1: first, attempt_2: candidates[1] ?? first });
    }
    submission[taskId] = entries;
  }
  for (const taskId of byTask.keys()) {
    if (!Object.hasOwn(expected, taskId)) warnings.push(`task ${taskId}: not among the expected tasks; ignored`);
  }
  return { submission, warnings };
}
