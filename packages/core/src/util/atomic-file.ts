// Files written atomically: the content goes to a temporary file beside the target, is synced, and is renamed over
// the target only when complete. A crash or Ctrl-C mid-write never leaves a half-written file under the target's
// name; on failure the temporary file is removed and the target is untouched.
import { randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A fresh temporary path in the target's folder (same file system, so the rename is atomic). */
export function temporaryPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/**
 * Lets `fill` write through a file handle, then syncs and renames into place; returns what `fill` returns.
 * The target's folder is created when missing.
 */
export async function writeAtomic<T>(path: string, fill: (file: FileHandle) => Promise<T>): Promise<T> {
  await mkdir(dirname(path), { recursive: true });
  const temp = temporaryPathFor(path);
  const file = await open(temp, 'wx');
  try {
    const result = await fill(file);
    await file.sync();
    await file.close();
    await rename(temp, path);
    return result;
  } catch (err) {
    await file.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw err;
  }
}

/** Writes text or bytes atomically. */
export function writeFileAtomic(path: string, content: string | Uint8Array): Promise<void> {
  return writeAtomic(path, (file) => file.writeFile(content));
}
