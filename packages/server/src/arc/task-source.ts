// The tasks a batch run solves: a folder of ARC task files (the ARC-AGI layout, searched recursively, the file
// name is the task id), a Kaggle challenges file ({taskId: task}), or a single task file. Test outputs, when the
// files carry them, are dropped here so that nothing downstream can see a solution; --only and --limit pick a
// subset.
import { stat, readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { type ArcTask, loadArcTaskDir, parseArcTask, UsageError } from '@trm/core';

export interface LoadedTasks {
  /** task id -> task without test outputs, in sorted id order */
  tasks: Map<string, ArcTask>;
  /** tasks whose every test input came with its output (they could be scored with --solutions <same path>) */
  withOutputs: number;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The task with its test outputs removed. */
export function withoutTestOutputs(task: ArcTask): ArcTask {
  return { train: task.train, test: task.test.map((p) => ({ input: p.input })) };
}

function strip(entries: [string, ArcTask][]): LoadedTasks {
  const sorted = entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    tasks: new Map(sorted.map(([id, t]) => [id, withoutTestOutputs(t)])),
    withOutputs: sorted.filter(([, t]) => t.test.every((p) => p.output !== undefined)).length,
  };
}

/** Loads and validates the tasks under `path` (a folder, a challenges file or one task file). */
export async function loadTasks(path: string): Promise<LoadedTasks> {
  if ((await stat(path)).isDirectory()) {
    const tasks = await loadArcTaskDir(path);
    if (tasks.size === 0) throw new UsageError(`--tasks ${path} holds no *.json task files`);
    return strip([...tasks.entries()]);
  }
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`--tasks ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (!isRecord(json)) throw new UsageError(`--tasks ${path} must hold a JSON object: {taskId: task} or one task`);
  // One task file has the train/test arrays at the top; a challenges file maps ids to such objects.
  if (Array.isArray(json.train) && Array.isArray(json.test))
    return strip([[basename(path, '.json'), parseArcTask(json, path)]]);
  const entries = Object.entries(json).map(([id, t]): [string, ArcTask] => [
    id,
    parseArcTask(t, `${path}[${JSON.stringify(id)}]`),
  ]);
  if (entries.length === 0) throw new UsageError(`--tasks ${path} holds no tasks`);
  return strip(entries);
}

/** The tasks named by `only` (all must exist), then the first `limit` of them. */
export function selectTasks(
  tasks: ReadonlyMap<string, ArcTask>,
  o: { only?: readonly string[]; limit?: number },
): Map<string, ArcTask> {
  let ids = [...tasks.keys()];
  if (o.only !== undefined) {
    const missing = o.only.filter((id) => !tasks.has(id));
    if (missing.length > 0)
      throw new UsageError(`--only: no task named ${missing.join(', ')} among the ${tasks.size} tasks of --tasks`);
    const wanted = new Set(o.only);
    ids = ids.filter((id) => wanted.has(id));
  }
  if (o.limit !== undefined) ids = ids.slice(0, o.limit);
  return new Map(ids.map((id) => [id, tasks.get(id)!]));
}
