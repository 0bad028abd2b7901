// Replacing every file of a save together, so that a process killed at any instant leaves one complete save. The
// new files are written into a staging folder beside them (`<dir>/.save-next/`); a manifest written atomically
// into it last is the commit point; then the files are renamed into `dir` one by one and the staging folder is
// removed. A kill before the commit leaves the previous save untouched (the staging folder is discarded later); a
// kill after it leaves a committed save whose remaining moves `finishPendingSave` completes. The files keep their
// names in `dir`, so readers of a model folder see the usual layout.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@trm/core';

export const STAGING_DIR = '.save-next';
const MANIFEST = 'manifest.json';

interface Manifest {
  files: string[];
}

/** Whether `dir` holds a save that was committed but whose files are not all in place yet. */
export function hasPendingSave(dir: string): boolean {
  return existsSync(join(dir, STAGING_DIR, MANIFEST));
}

async function readManifest(path: string): Promise<Manifest> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path} is not valid JSON (${(err as Error).message}); it should list the files of a save`);
  }
  const files = (json as Partial<Manifest> | null)?.files;
  if (!Array.isArray(files) || files.some((f) => typeof f !== 'string'))
    throw new Error(`${path}: expected {"files": [names of the save's files]}`);
  return { files };
}

async function moveIntoPlace(dir: string, files: readonly string[]): Promise<void> {
  const staging = join(dir, STAGING_DIR);
  // A file already moved by an earlier, interrupted attempt is no longer in the staging folder.
  for (const f of files) if (existsSync(join(staging, f))) await rename(join(staging, f), join(dir, f));
  // The manifest goes first: a staging folder without one is an uncommitted save and may be discarded.
  await rm(join(staging, MANIFEST), { force: true });
  await rm(staging, { recursive: true, force: true });
}

/**
 * Brings `dir` to its last complete save: completes the moves of a committed save, discards an uncommitted one.
 * Returns what it did, for the log.
 */
export async function finishPendingSave(dir: string): Promise<'none' | 'completed' | 'discarded'> {
  const staging = join(dir, STAGING_DIR);
  if (!existsSync(staging)) return 'none';
  if (hasPendingSave(dir)) {
    await moveIntoPlace(dir, (await readManifest(join(staging, MANIFEST))).files);
    return 'completed';
  }
  await rm(staging, { recursive: true, force: true });
  return 'discarded';
}

/**
 * Lets `write` put the files of a new save into the folder it is given, then replaces the save in `dir` with
 * them as one unit. Files of the previous save that the new one does not write stay as they are.
 */
export async function replaceSave(dir: string, write: (staging: string) => Promise<void>): Promise<void> {
  await finishPendingSave(dir);
  const staging = join(dir, STAGING_DIR);
  await mkdir(staging, { recursive: true });
  try {
    await write(staging);
  } catch (err) {
    // A failed write (disk full, ...) should not leave a second copy of the weights behind.
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    throw err;
  }
  const files = (await readdir(staging)).filter((f) => !f.startsWith('.'));
  await writeFileAtomic(join(staging, MANIFEST), `${JSON.stringify({ files } satisfies Manifest)}\n`);
  await moveIntoPlace(dir, files);
}
