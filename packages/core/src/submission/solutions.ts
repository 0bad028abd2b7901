// Loading the expected test outputs for scoring, from either layout in use: a folder of task JSON files
// (`test[i].output`, as in the ARC-AGI repositories; the task id is the file name) or one JSON file, either the
// Kaggle solutions file ({taskId: [grid, ...]}) or a map of whole tasks ({taskId: {train, test}}).
import { readFile, stat } from 'node:fs/promises';
import { type ArcTask, loadArcTaskDir, parseArcTask, validateArcGrid } from '../tasks/arc.js';
import type { Grid } from '../tasks/grid.js';
import type { ArcSolutions } from './types.js';

/** Test outputs of tasks; throws naming the task when one has a test input without an output. */
export function solutionsFromTasks(tasks: ReadonlyMap<string, ArcTask> | Record<string, ArcTask>): ArcSolutions {
  const entries: [string, ArcTask][] = tasks instanceof Map ? [...tasks.entries()] : Object.entries(tasks);
  const out: ArcSolutions = {};
  for (const [id, task] of entries) {
    out[id] = task.test.map((pair, i) => {
      if (pair.output === undefined) throw new Error(`task ${id}: test[${i}] has no output, so it cannot be scored`);
      return pair.output;
    });
  }
  return out;
}

/** Validates a parsed solutions JSON value in either single-file layout. */
export function parseSolutions(json: unknown, source = 'solutions'): ArcSolutions {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new Error(`${source} must be a JSON object mapping task ids to output grids or tasks`);
  }
  const out: ArcSolutions = {};
  for (const [id, value] of Object.entries(json as Record<string, unknown>)) {
    const field = `${source}[${JSON.stringify(id)}]`;
    if (Array.isArray(value)) {
      if (value.length === 0) throw new Error(`${field} is empty, expected one output grid per test input`);
      out[id] = value.map((g: unknown, i): Grid => validateArcGrid(g, `${field}[${i}]`));
    } else {
      out[id] = solutionsFromTasks({ [id]: parseArcTask(value, field) })[id]!;
    }
  }
  return out;
}

/** Loads solutions from a folder of task files or from one JSON file. */
export async function loadSolutions(path: string): Promise<ArcSolutions> {
  if ((await stat(path)).isDirectory()) return solutionsFromTasks(await loadArcTaskDir(path));
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  return parseSolutions(json, path);
}
