// The work folder: records survive a reopen, a line cut short by a kill is dropped (and only that task is lost),
// results of other settings are refused unless --fresh, and leftover scratch folders are removed.
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RESULTS_FILE, type TaskRecord, taskFingerprint, WorkFolder } from './work-folder.js';

const root = mkdtempSync(join(tmpdir(), 'trm-arc-work-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const SETTINGS = { model: '/m', augment: 8, seed: 1, adaptSteps: null };

function rec(taskId: string, status: 'solved' | 'failed' = 'solved', fingerprint = `fp-${taskId}`): TaskRecord {
  return {
    taskId,
    fingerprint,
    status,
    ...(status === 'failed' ? { error: 'boom' } : {}),
    rows: 'blank',
    variants: 9,
    tests:
      status === 'solved' ? [{ predictions: 9, empty: 0, candidates: [{ grid: [[1]], votes: 9, meanHalt: 0.5 }] }] : [],
    seconds: 0.1,
    finished: '2026-11-29T00:00:00.000Z',
  };
}

describe('WorkFolder', () => {
  it('keeps records across reopening; a failed task or changed content is not solved', async () => {
    const dir = join(root, 'a');
    const w = await WorkFolder.open(dir, SETTINGS);
    await Promise.all([w.append(rec('t1')), w.append(rec('t2', 'failed')), w.append(rec('t3'))]);
    await w.close();
    const again = await WorkFolder.open(dir, SETTINGS);
    expect(again.dropped).toBe(0);
    expect(again.solved('t1', 'fp-t1')).toBe(true);
    expect(again.solved('t2', 'fp-t2')).toBe(false);
    expect(again.solved('t3', 'other content')).toBe(false);
    expect(again.record('t1')).toEqual(rec('t1'));
    // A later line for a task supersedes the earlier one.
    await again.append(rec('t2'));
    await again.close();
    const third = await WorkFolder.open(dir, SETTINGS);
    expect(third.solved('t2', 'fp-t2')).toBe(true);
    await third.close();
    expect(readFileSync(join(dir, RESULTS_FILE), 'utf8').trimEnd().split('\n')).toHaveLength(4);
  });

  it('drops a line cut short by a kill, rewrites the file, and appends after it cleanly', async () => {
    const dir = join(root, 'b');
    const w = await WorkFolder.open(dir, SETTINGS);
    await w.append(rec('t1'));
    await w.close();
    const line = JSON.stringify(rec('t2'));
    appendFileSync(join(dir, RESULTS_FILE), line.slice(0, line.length >> 1));
    const again = await WorkFolder.open(dir, SETTINGS);
    expect(again.dropped).toBe(1);
    expect(again.record('t2')).toBeUndefined();
    expect(readFileSync(join(dir, RESULTS_FILE), 'utf8')).toBe(`${JSON.stringify(rec('t1'))}\n`);
    await again.append(rec('t2'));
    await again.close();
    const third = await WorkFolder.open(dir, SETTINGS);
    expect([third.dropped, third.solved('t1', 'fp-t1'), third.solved('t2', 'fp-t2')]).toEqual([0, true, true]);
    await third.close();
  });

  it('refuses results of other settings unless fresh; removes leftover scratch folders', async () => {
    const dir = join(root, 'c');
    const w = await WorkFolder.open(dir, SETTINGS);
    await w.append(rec('t1'));
    await w.close();
    mkdirSync(join(w.scratch(3), 'data'), { recursive: true });
    writeFileSync(join(dir, 'keep.txt'), 'not ours');
    await expect(WorkFolder.open(dir, { ...SETTINGS, augment: 16, seed: undefined as never })).rejects.toThrow(
      `--work ${dir} holds results of a run with other settings (augment: 8 then, 16 now; seed: 1 then, unset now): pass --fresh`,
    );
    const fresh = await WorkFolder.open(dir, { ...SETTINGS, augment: 16 }, { fresh: true });
    expect(fresh.record('t1')).toBeUndefined();
    expect(existsSync(w.scratch(3))).toBe(false);
    expect(existsSync(join(dir, 'keep.txt'))).toBe(true);
    await fresh.close();
  });

  it('fingerprints the demonstration pairs and test inputs, not test outputs', () => {
    const task = { train: [{ input: [[1]], output: [[2]] }], test: [{ input: [[3]] }] };
    const fp = taskFingerprint(task);
    expect(fp).toMatch(/^[0-9a-f]{32}$/);
    expect(taskFingerprint({ ...task, test: [{ input: [[3]], output: [[9]] }] })).toBe(fp);
    expect(taskFingerprint({ ...task, test: [{ input: [[4]] }] })).not.toBe(fp);
  });
});
