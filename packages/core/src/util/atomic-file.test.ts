import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeAtomic, writeFileAtomic } from './atomic-file.js';

const dir = await mkdtemp(join(tmpdir(), 'trm-atomic-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('atomic files', () => {
  it('writes text and replaces an existing file', async () => {
    const path = join(dir, 'a.json');
    await writeFileAtomic(path, '{"v":1}');
    await writeFileAtomic(path, '{"v":2}');
    expect(await readFile(path, 'utf8')).toBe('{"v":2}');
  });

  it('creates a missing folder', async () => {
    const path = join(dir, 'new', 'deeper', 'c.csv');
    await writeFileAtomic(path, 'x');
    expect(await readFile(path, 'utf8')).toBe('x');
  });

  it('leaves the target untouched and no temporary file when writing fails', async () => {
    const path = join(dir, 'b.txt');
    await writeFileAtomic(path, 'old');
    await expect(
      writeAtomic(path, async (file) => {
        await file.writeFile('half');
        throw new Error('disk full');
      }),
    ).rejects.toThrow('disk full');
    expect(await readFile(path, 'utf8')).toBe('old');
    expect((await readdir(dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});
