import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { f32ToF16, writeSafetensors } from '@trm/core';
import { afterAll, describe, expect, it } from 'vitest';
import { PUZZLE_EMB_FILE, PuzzleTable } from './puzzle-table.js';

const dirs: string[] = [];
function folder(): string {
  const d = mkdtempSync(join(tmpdir(), 'trm-table-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const table = Float32Array.from({ length: 4 * 3 }, (_, i) => i + 0.5);

describe('PuzzleTable', () => {
  it('reads the row of a puzzle id from weights.safetensors', async () => {
    const dir = folder();
    writeFileSync(join(dir, 'identifiers.json'), JSON.stringify(['<blank>', 'a1b2', 'c3d4', 'e5f6']));
    await writeSafetensors(join(dir, 'weights.safetensors'), {
      'q_head.bias': { dtype: 'F32', shape: [2], data: Float32Array.from([-5, -5]) },
      'puzzle_emb.weights': { dtype: 'F32', shape: [4, 3], data: table },
    });
    const t = (await PuzzleTable.open(dir, 3))!;
    expect(t.size).toBe(4);
    expect(Array.from(t.row('c3d4')!)).toEqual([6.5, 7.5, 8.5]);
    expect(Array.from(t.row('<blank>')!)).toEqual([0.5, 1.5, 2.5]);
    expect(t.row('unknown')).toBeUndefined();
    t.close();
    expect(() => t.row('a1b2')).toThrow('closed');
  });

  it('prefers puzzle_emb.safetensors and widens float16 rows', async () => {
    const dir = folder();
    writeFileSync(join(dir, 'identifiers.json'), JSON.stringify(['x', 'y', 'z', 'w']));
    await writeSafetensors(join(dir, PUZZLE_EMB_FILE), {
      'puzzle_emb.weights': { dtype: 'F16', shape: [4, 3], data: f32ToF16(table) },
    });
    const t = (await PuzzleTable.open(dir, 3))!;
    expect(t.path.endsWith(PUZZLE_EMB_FILE)).toBe(true);
    expect(Array.from(t.row('w')!)).toEqual([9.5, 10.5, 11.5]);
    t.close();
  });

  it('is absent without identifiers.json or a table, and refuses a table of another width', async () => {
    const dir = folder();
    expect(await PuzzleTable.open(dir, 3)).toBeNull();
    writeFileSync(join(dir, 'identifiers.json'), JSON.stringify(['x']));
    await writeSafetensors(join(dir, 'weights.safetensors'), {
      'puzzle_emb.weights': { dtype: 'F32', shape: [1, 2], data: new Float32Array(2) },
    });
    expect(await PuzzleTable.open(dir, 0)).toBeNull();
    await expect(PuzzleTable.open(dir, 3)).rejects.toThrow('has shape [1,2], expected [rows, 3]');
    writeFileSync(join(dir, 'identifiers.json'), JSON.stringify({ x: 0 }));
    await expect(PuzzleTable.open(dir, 2)).rejects.toThrow('expected a JSON array of strings');
  });
});
