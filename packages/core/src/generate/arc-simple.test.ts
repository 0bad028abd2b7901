import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseArcTask } from '../tasks/arc.js';
import type { Grid } from '../tasks/grid.js';
import { ARC_SIMPLE_FAMILIES, applyFamily, type ArcSimpleFamily } from './arc-families.js';
import { writeArcTaskFolder } from './arc-folder.js';
import { arcSimpleTaskId, generateArcSimpleTask, generateArcSimpleTasks } from './arc-simple.js';

const dir = mkdtempSync(join(tmpdir(), 'trm-arc-simple-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const colours = (g: Grid) => new Set(g.flat().filter((v) => v !== 0));

describe('simple ARC task generation', () => {
  const tasks = [...generateArcSimpleTasks(70, 3)];

  it('spreads tasks round-robin over the families with ids simple-<family>-s<seed>-<n>', () => {
    expect(tasks.map((t) => t.id).slice(0, 8)).toEqual([
      ...ARC_SIMPLE_FAMILIES.map((f) => `simple-${f}-s3-0`),
      'simple-flip-h-s3-1',
    ]);
    for (const f of ARC_SIMPLE_FAMILIES) expect(tasks.filter((t) => t.family === f)).toHaveLength(10);
    expect(new Set(tasks.map((t) => t.id)).size).toBe(70);
  });

  it('makes 3-4 demonstrations and one test pair, all following the family rule, none a copy', () => {
    for (const t of tasks) {
      expect(t.task.train.length).toBeGreaterThanOrEqual(3);
      expect(t.task.train.length).toBeLessThanOrEqual(4);
      expect(t.task.test).toHaveLength(1);
      const pairs = [...t.task.train, ...t.task.test];
      expect(new Set(pairs.map((p) => JSON.stringify(p.input))).size).toBe(pairs.length);
      for (const p of pairs) {
        const h = p.input.length;
        const w = p.input[0]!.length;
        expect(h).toBeGreaterThanOrEqual(3);
        expect(Math.max(h, w)).toBeLessThanOrEqual(8);
        if (t.family === 'rotate-90' || t.family === 'transpose') expect(w).toBe(h);
        expect(p.output).toEqual(applyFamily(t.family, p.input, t.mapping));
        expect(p.output).not.toEqual(p.input);
        expect(colours(p.input).size).toBeGreaterThan(0);
      }
      // A few colours per task (2-4 besides the background).
      const used = new Set(pairs.flatMap((p) => [...colours(p.input)]));
      expect(used.size).toBeLessThanOrEqual(4);
    }
  });

  it('colour-map tasks permute their colours and show every test colour in a demonstration', () => {
    const maps = tasks.filter((t) => t.family === 'colour-map');
    for (const t of maps) {
      const m = t.mapping!;
      expect(m[0]).toBe(0);
      expect([...m].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      const moved = m.flatMap((to, from) => (to !== from ? [from] : []));
      expect(moved.length).toBeGreaterThanOrEqual(2);
      expect(new Set(moved.map((c) => m[c]))).toEqual(new Set(moved));
      const shown = new Set(t.task.train.flatMap((p) => [...colours(p.input)]));
      for (const c of colours(t.task.test[0]!.input)) expect(shown.has(c)).toBe(true);
    }
  });

  it('is deterministic per seed and per task id, and another seed gives other tasks', () => {
    expect([...generateArcSimpleTasks(70, 3)]).toEqual(tasks);
    // A task does not depend on how many tasks or which families were asked for.
    const alone = generateArcSimpleTask('gravity-down', 3, 4);
    expect(alone).toEqual(tasks.find((t) => t.id === 'simple-gravity-down-s3-4'));
    const other = generateArcSimpleTask('gravity-down', 4, 4);
    expect(other.id).toBe(arcSimpleTaskId('gravity-down', 4, 4));
    expect(other.task).not.toEqual(alone.task);
  });

  it('honours sizes, demos and families', () => {
    const small = [
      ...generateArcSimpleTasks(6, 1, { sizes: [3, 3], demos: [2, 2], families: ['flip-v', 'transpose'] }),
    ];
    expect(small.map((t) => t.family)).toEqual(['flip-v', 'transpose', 'flip-v', 'transpose', 'flip-v', 'transpose']);
    for (const t of small) {
      expect(t.task.train).toHaveLength(2);
      for (const p of [...t.task.train, ...t.task.test]) expect([p.input.length, p.input[0]!.length]).toEqual([3, 3]);
    }
  });

  it.each([
    [{ sizes: [2, 5] }, /sizes must be a range A..B with 3 <= A <= B <= 30 \(got 2..5\)/],
    [{ sizes: [6, 4] }, /sizes must be a range/],
    [{ demos: [0, 2] }, /demos must be a range A..B with 1 <= A <= B <= 100/],
    [{ families: [] }, /families must name at least one family/],
    [{ families: ['spin' as ArcSimpleFamily] }, /unknown family "spin"/],
  ] as const)('rejects options %j', (options, message) => {
    expect(() => generateArcSimpleTasks(1, 0, options as never).next()).toThrow(message);
  });
});

describe('simple ARC task folder', () => {
  it('writes one file per task that parses as an ARC task and holds the generated grids', async () => {
    const out = join(dir, 'tasks');
    const tasks = [...generateArcSimpleTasks(14, 9, { sizes: [3, 5] })];
    expect(await writeArcTaskFolder(out, tasks)).toBe(14);
    expect(readdirSync(out).sort()).toEqual(tasks.map((t) => `${t.id}.json`).sort());
    for (const t of tasks) {
      const json: unknown = JSON.parse(readFileSync(join(out, `${t.id}.json`), 'utf8'));
      expect(parseArcTask(json, t.id)).toEqual(t.task);
    }
  });

  it('refuses a folder that holds files and leaves nothing behind when generation fails', async () => {
    const full = join(dir, 'full');
    await writeArcTaskFolder(full, generateArcSimpleTasks(1, 0));
    await expect(writeArcTaskFolder(full, generateArcSimpleTasks(1, 0))).rejects.toThrow(
      /already holds files; expected a new or empty folder/,
    );
    const broken = join(dir, 'broken');
    function* failing() {
      yield generateArcSimpleTask('flip-h', 0, 0);
      throw new Error('generator failed');
    }
    await expect(writeArcTaskFolder(broken, failing())).rejects.toThrow('generator failed');
    await expect(
      writeArcTaskFolder(join(dir, 'twice'), [
        generateArcSimpleTask('flip-h', 0, 0),
        generateArcSimpleTask('flip-h', 0, 0),
      ]),
    ).rejects.toThrow('task id simple-flip-h-s0-0 was generated twice');
    expect(readdirSync(dir).sort()).toEqual(['full', 'tasks']);
  });
});
