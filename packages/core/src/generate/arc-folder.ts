// Writing generated ARC tasks as a folder of task files (`<id>.json` in the ARC JSON layout), the form the ARC
// dataset builder and the batch solver read. The folder is filled under a temporary name beside the target and
// renamed into place when complete, so an interrupted run leaves no half-filled folder under the target's name.
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { temporaryPathFor } from '../util/atomic-file.js';
import type { GeneratedArcTask } from './arc-simple.js';

/** One task file's text: the ARC layout {train: [{input, output}], test: [{input, output}]}, one line. */
export function formatArcTaskFile(t: GeneratedArcTask): string {
  return `${JSON.stringify({ train: t.task.train, test: t.task.test })}\n`;
}

/**
 * Writes every task to `<dir>/<id>.json`; returns the number of files. `dir` must not exist or be empty, so that
 * tasks of an earlier run never mix with these.
 */
export async function writeArcTaskFolder(
  dir: string,
  tasks: Iterable<GeneratedArcTask> | AsyncIterable<GeneratedArcTask>,
): Promise<number> {
  if (existsSync(dir) && readdirSync(dir).length > 0)
    throw new Error(`--out ${dir} already holds files; expected a new or empty folder`);
  await mkdir(dirname(dir), { recursive: true });
  const temp = temporaryPathFor(dir);
  await mkdir(temp);
  try {
    let count = 0;
    const ids = new Set<string>();
    for await (const t of tasks) {
      if (ids.has(t.id)) throw new Error(`task id ${t.id} was generated twice`);
      ids.add(t.id);
      await writeFile(join(temp, `${t.id}.json`), formatArcTaskFile(t));
      count++;
    }
    await rm(dir, { recursive: true, force: true }); // an empty folder, checked above
    await rename(temp, dir);
    return count;
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    throw err;
  }
}
