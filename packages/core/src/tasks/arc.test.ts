import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng } from '../util/random.js';
import {
  arcCanvasSide,
  arcVariantName,
  decodeArc,
  encodeArc,
  loadArcTaskDir,
  loadArcTaskFile,
  parseArcTask,
  parseArcVariantName,
} from './arc.js';
import type { Grid } from './grid.js';

const canvasRow = (tokens: Uint8Array, r: number) => Array.from(tokens.slice(r * 30, r * 30 + 30));

function randomGrid(rng: Rng, h: number, w: number): Grid {
  return Array.from({ length: h }, () => Array.from({ length: w }, () => rng.int(0, 9)));
}

describe('encodeArc', () => {
  it('writes colour + 2 at the offset, EOS below and right, not in the corner, PAD elsewhere', () => {
    const tokens = encodeArc(
      [
        [0, 1, 2],
        [3, 4, 9],
      ],
      { row: 1, col: 2 },
    );
    expect(tokens).toHaveLength(900);
    expect(canvasRow(tokens, 0).every((t) => t === 0)).toBe(true);
    expect(canvasRow(tokens, 1).slice(0, 7)).toEqual([0, 0, 2, 3, 4, 1, 0]);
    expect(canvasRow(tokens, 2).slice(0, 7)).toEqual([0, 0, 5, 6, 11, 1, 0]);
    expect(canvasRow(tokens, 3).slice(0, 7)).toEqual([0, 0, 1, 1, 1, 0, 0]);
    expect(tokens.reduce((n, t) => n + (t === 1 ? 1 : 0), 0)).toBe(5);
    expect(tokens.reduce((n, t) => n + (t >= 2 ? 1 : 0), 0)).toBe(6);
  });

  it('drops the EOS row or column that would fall outside the canvas', () => {
    const full = encodeArc(Array.from({ length: 30 }, () => new Array(30).fill(5)));
    expect(full.every((t) => t === 7)).toBe(true);
    const wide = encodeArc([new Array(30).fill(0)]);
    expect(canvasRow(wide, 1)).toEqual(new Array(30).fill(1));
    expect(wide.reduce((n, t) => n + (t === 1 ? 1 : 0), 0)).toBe(30);
    const atBottom = encodeArc([[3]], { row: 29, col: 0 });
    expect(atBottom[29 * 30]).toBe(5);
    expect(atBottom[29 * 30 + 1]).toBe(1);
    expect(atBottom.reduce((n, t) => n + t, 0)).toBe(6);
  });

  it('rejects grids that do not fit at the offset', () => {
    expect(() => encodeArc([[1, 2]], { row: 0, col: 29 })).toThrow(
      'encodeArc: a 1x2 grid at offset (0, 29) does not fit the 30x30 canvas',
    );
    expect(() => encodeArc([])).toThrow('encodeArc: grid is empty');
    expect(() => encodeArc([[10]])).toThrow('grid[0][0] must be an integer 0..9 (got 10)');
  });
});

describe('decodeArc (the evaluator crop)', () => {
  it('round-trips a random grid of every size 1..30 x 1..30 at a random offset', () => {
    const rng = new Rng(7);
    for (let h = 1; h <= 30; h++) {
      for (let w = 1; w <= 30; w++) {
        const g = randomGrid(rng, h, w);
        expect(decodeArc(encodeArc(g))).toEqual(g);
        const offset = { row: rng.int(0, 30 - h), col: rng.int(0, 30 - w) };
        expect(decodeArc(encodeArc(g, offset), offset)).toEqual(g);
      }
    }
  });

  it('round-trips random grids (property)', () => {
    const grid = fc.tuple(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 30 })).chain(([h, w]) =>
      fc.array(fc.array(fc.integer({ min: 0, max: 9 }), { minLength: w, maxLength: w }), {
        minLength: h,
        maxLength: h,
      }),
    );
    fc.assert(
      fc.property(grid, (g) => {
        expect(decodeArc(encodeArc(g))).toEqual(g);
      }),
      { numRuns: 300 },
    );
  });

  it('takes the largest top-left rectangle with widths that only shrink', () => {
    const t = new Uint8Array(900);
    // row 0: 4 colours; row 1: 3 colours then EOS; row 2: 3 colours; row 3: 1 colour; then PAD.
    t.set([2, 3, 4, 5, 1], 0);
    t.set([6, 7, 8, 1, 9], 30);
    t.set([9, 10, 11, 11, 11, 11], 60); // widths cannot grow back to 6
    t.set([2], 90);
    // areas: 1x4 = 4, 2x3 = 6, 3x3 = 9, 4x1 = 4 -> 3 rows x 3 cols
    expect(decodeArc(t)).toEqual([
      [0, 1, 2],
      [4, 5, 6],
      [7, 8, 9],
    ]);
  });

  it('prefers fewer rows when two rectangles have the same area', () => {
    const t = new Uint8Array(900);
    t.set([2, 2, 1], 0);
    t.set([2, 1], 30);
    // 1x2 = 2 and 2x1 = 2: the first found (1 row) wins, as in the reference's strict '>' comparison
    expect(decodeArc(t)).toEqual([[0, 0]]);
  });

  it('returns the empty grid when the corner is not a colour', () => {
    expect(decodeArc(new Uint8Array(900))).toEqual([]);
    const t = encodeArc([[1, 2]], { row: 0, col: 1 });
    expect(decodeArc(t)).toEqual([]);
    expect(() => decodeArc(new Uint8Array(899))).toThrow(
      'ARC tokens: got 899, expected a square canvas of 2..30 on a side (900 for 30x30)',
    );
  });

  it('encodes on a smaller canvas the same layout as on 30x30, and decodes it by its size', () => {
    const g = [
      [1, 2, 3],
      [4, 5, 6],
    ];
    const small = encodeArc(g, { row: 1, col: 2 }, 6);
    expect(small.length).toBe(36);
    const full = encodeArc(g, { row: 1, col: 2 });
    // Every cell of the 6x6 canvas holds what the same cell of the 30x30 canvas holds.
    for (let r = 0; r < 6; r++) for (let c = 0; c < 6; c++) expect(small[r * 6 + c]).toBe(full[r * 30 + c]);
    expect(decodeArc(small, { row: 1, col: 2 })).toEqual(g);
    // A grid that fills the canvas has no EOS marks (they would fall outside), as on 30x30.
    const filled = encodeArc(
      [
        [7, 7],
        [7, 7],
      ],
      undefined,
      2,
    );
    expect([...filled]).toEqual([9, 9, 9, 9]);
    expect(() => encodeArc(g, { row: 0, col: 4 }, 6)).toThrow('does not fit the 6x6 canvas');
    expect(() => encodeArc(g, undefined, 31)).toThrow('canvas side must be an integer 2..30 (got 31)');
    expect(arcCanvasSide(900)).toBe(30);
    expect(arcCanvasSide(64)).toBe(8);
    expect(() => arcCanvasSide(81 + 1)).toThrow('got seq_len 82');
  });
});

describe('parseArcTask', () => {
  const task = {
    name: 'ignored',
    train: [{ input: [[1, 2]], output: [[3]] }],
    test: [{ input: [[0]], output: [[9]] }, { input: [[4, 4]] }],
  };

  it('keeps train and test pairs, ignores unknown keys, allows missing test outputs', () => {
    const parsed = parseArcTask(task, 'task');
    expect(parsed).toEqual({
      train: [{ input: [[1, 2]], output: [[3]] }],
      test: [{ input: [[0]], output: [[9]] }, { input: [[4, 4]] }],
    });
    expect(Object.keys(parsed)).toEqual(['train', 'test']);
  });

  it('names the bad field', () => {
    expect(() => parseArcTask([], 't')).toThrow('t must be an object with "train" and "test" arrays');
    expect(() => parseArcTask({ ...task, train: [] }, 't')).toThrow('t.train is empty');
    expect(() => parseArcTask({ ...task, train: [{ input: [[1]] }] }, 't')).toThrow(
      't.train[0].output is missing, expected a grid',
    );
    expect(() => parseArcTask({ ...task, test: [{ input: [[1, 12]] }] }, 't')).toThrow(
      't.test[0].input[0][1] must be an integer 0..9 (got 12)',
    );
    const big = Array.from({ length: 31 }, () => [0]);
    expect(() => parseArcTask({ ...task, test: [{ input: big }] }, 't')).toThrow(
      't.test[0].input has 31 rows, expected at most 30',
    );
  });

  it('loads task files and folders (recursively, sorted by id)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'arc-'));
    try {
      await writeFile(join(dir, 'b.json'), JSON.stringify(task));
      await writeFile(join(dir, 'notes.txt'), 'not a task');
      const { mkdir } = await import('node:fs/promises');
      await mkdir(join(dir, 'Concept'));
      await writeFile(join(dir, 'Concept', 'a.json'), JSON.stringify(task));
      expect((await loadArcTaskFile(join(dir, 'b.json'))).test).toHaveLength(2);
      const all = await loadArcTaskDir(dir);
      expect([...all.keys()]).toEqual(['a', 'b']);
      await writeFile(join(dir, 'bad.json'), '{"train": [');
      await expect(loadArcTaskFile(join(dir, 'bad.json'))).rejects.toThrow(/bad\.json is not valid JSON/);
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});

describe('variant names', () => {
  it('writes and reads the reference format', () => {
    const perm = [0, 3, 1, 2, 9, 8, 7, 6, 5, 4];
    const name = arcVariantName('007bbfb7', 5, perm);
    expect(name).toBe('007bbfb7|||t5|||0312987654');
    expect(parseArcVariantName(name)).toEqual({ taskId: '007bbfb7', tid: 5, perm });
    expect(parseArcVariantName('007bbfb7')).toEqual({
      taskId: '007bbfb7',
      tid: 0,
      perm: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    });
  });

  it('rejects malformed names and arguments', () => {
    expect(() => parseArcVariantName('x|||t8|||0123456789')).toThrow('expected "{id}|||t{0-7}|||{10 digits}"');
    expect(() => parseArcVariantName('x|||t1|||0123456788')).toThrow('perm must be a permutation of 0..9');
    expect(() => arcVariantName('x', 1, [0, 1, 2])).toThrow('perm must be a permutation of 0..9');
    expect(() => arcVariantName('x', 9, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])).toThrow('tid must be 0..7 (got 9)');
  });
});
