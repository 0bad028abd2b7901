// Text files written atomically (a temporary file beside the target, synced, then renamed over it), so a crash or
// Ctrl-C during a save never leaves a half-written config.json or train-state.json.
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const file = await open(temp, 'wx');
  try {
    await file.writeFile(text, 'utf8');
    await file.sync();
    await file.close();
    await rename(temp, path);
  } catch (err) {
    await file.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw err;
  }
}
