// Loading the tasks to solve from each layout; test outputs never get past loading; --only and --limit.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTasks, selectTasks } from './task-source.js';

const dir = mkdtempSync(join(tmpdir(), 'trm-arc-tasks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const solvedTask = { train: [{ input: [[1]], output: [[2]] }], test: [{ input: [[3]], output: [[4]] }] };
const openTask = { train: [{ input: [[1]], output: [[2]] }], test: [{ input: [[5]] }, { input: [[6]] }] };

describe('loadTasks', () => {
  it('reads a folder recursively, a challenges file and a single task, dropping test outputs', async () => {
    mkdirSync(join(dir, 'set', 'sub'), { recursive: true });
    writeFileSync(join(dir, 'set', 'b.json'), JSON.stringify(solvedTask));
    writeFileSync(join(dir, 'set', 'sub', 'a.json'), JSON.stringify(openTask));
    const folder = await loadTasks(join(dir, 'set'));
    expect([...folder.tasks.keys()]).toEqual(['a', 'b']);
    expect(folder.tasks.get('b')).toEqual({ train: solvedTask.train, test: [{ input: [[3]] }] });
    expect(folder.withOutputs).toBe(1);

    writeFileSync(join(dir, 'challenges.json'), JSON.stringify({ z: openTask, y: solvedTask }));
    const kaggle = await loadTasks(join(dir, 'challenges.json'));
    expect([...kaggle.tasks.keys()]).toEqual(['y', 'z']);
    expect(kaggle.tasks.get('z')!.test).toEqual([{ input: [[5]] }, { input: [[6]] }]);

    writeFileSync(join(dir, 'one.json'), JSON.stringify(solvedTask));
    const one = await loadTasks(join(dir, 'one.json'));
    expect([...one.tasks.keys()]).toEqual(['one']);
  });

  it('names the bad task and field', async () => {
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ t1: { train: [], test: [] } }));
    await expect(loadTasks(join(dir, 'bad.json'))).rejects.toThrow(/bad\.json\["t1"\]\.train is empty/);
    writeFileSync(join(dir, 'list.json'), '[1, 2]');
    await expect(loadTasks(join(dir, 'list.json'))).rejects.toThrow(/must hold a JSON object/);
  });
});

describe('selectTasks', () => {
  const all = new Map(['a', 'b', 'c', 'd'].map((id) => [id, openTask]));
  it('keeps the named tasks in id order, then the first `limit`', () => {
    expect([...selectTasks(all, { only: ['d', 'b'] }).keys()]).toEqual(['b', 'd']);
    expect([...selectTasks(all, { limit: 2 }).keys()]).toEqual(['a', 'b']);
    expect([...selectTasks(all, { only: ['d', 'c', 'a'], limit: 2 }).keys()]).toEqual(['a', 'c']);
    expect(() => selectTasks(all, { only: ['a', 'x', 'y'] })).toThrow('--only: no task named x, y among the 4 tasks');
  });
});
