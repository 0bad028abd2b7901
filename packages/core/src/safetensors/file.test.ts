import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { toFloat32 } from './cast.js';
import { readSafetensors, SafetensorsFile } from './reader.js';
import { parseSafetensors } from './serialize.js';
import { SafetensorsWriter, writeSafetensors } from './writer.js';

const dir = mkdtempSync(join(tmpdir(), 'trm-safetensors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ROWS = 20_000;
const COLS = 512;
const value = (r: number, c: number): number => r * 0.5 + c / 1024;

/** Row blocks of a ROWS x COLS table, produced one at a time. */
function* tableBlocks(rowsPerBlock: number): Generator<Float32Array> {
  for (let r0 = 0; r0 < ROWS; r0 += rowsPerBlock) {
    const n = Math.min(rowsPerBlock, ROWS - r0);
    const block = new Float32Array(n * COLS);
    for (let i = 0; i < n; i++) for (let c = 0; c < COLS; c++) block[i * COLS + c] = value(r0 + i, c);
    yield block;
  }
}

describe('streaming writer and random-access reader', () => {
  const path = join(dir, 'table.safetensors');

  it('writes a 20000x512 table from row blocks and reads a row range at its offset', async () => {
    await writeSafetensors(
      path,
      [
        { name: 'puzzle_emb.weights', dtype: 'F32', shape: [ROWS, COLS], data: () => tableBlocks(1000) },
        { name: 'H_init', dtype: 'BF16', shape: [4], data: Uint16Array.of(0x3f80, 0x4000, 0x4040, 0x4080) },
        { name: 'step', dtype: 'I64', shape: [], data: BigInt64Array.of(123456789n) },
      ],
      { metadata: { format: 'pt' } },
    );
    const file = await SafetensorsFile.open(path);
    try {
      expect(file.names).toEqual(['step', 'puzzle_emb.weights', 'H_init']);
      expect(file.metadata).toEqual({ format: 'pt' });
      const table = file.info('puzzle_emb.weights');
      expect(statSync(path).size).toBe(file.header.dataStart + 8 + ROWS * COLS * 4 + 8);
      expect(table.end - table.begin).toBe(ROWS * COLS * 4);

      const rows = await file.readRows('puzzle_emb.weights', 12_345, 12_348);
      expect(rows.dtype).toBe('F32');
      expect(rows.shape).toEqual([3, COLS]);
      const data = rows.data as Float32Array;
      expect(data.length).toBe(3 * COLS);
      expect(data.buffer.byteLength).toBe(3 * COLS * 4); // only the rows were read
      expect([data[0], data[COLS + 7], data[3 * COLS - 1]]).toEqual([
        Math.fround(value(12_345, 0)),
        Math.fround(value(12_346, 7)),
        Math.fround(value(12_347, COLS - 1)),
      ]);
      const last = await file.readRows('puzzle_emb.weights', ROWS - 1, ROWS);
      expect((last.data as Float32Array)[COLS - 1]).toBe(Math.fround(value(ROWS - 1, COLS - 1)));
      expect((await file.readRows('puzzle_emb.weights', 5, 5)).shape).toEqual([0, COLS]);

      expect(Array.from(toFloat32(await file.read('H_init')))).toEqual([1, 2, 3, 4]);
      expect((await file.read('step')).data).toEqual(BigInt64Array.of(123456789n));
      await expect(file.readRows('puzzle_emb.weights', 19_999, 20_001)).rejects.toThrow(
        /tensor 'puzzle_emb.weights': row range \[19999, 20001\) is outside \[0, 20000\]/,
      );
      await expect(file.readRows('step', 0, 1)).rejects.toThrow(/tensor 'step' is a scalar/);
      await expect(file.read('L_init')).rejects.toThrow(
        /tensor 'L_init' is not in .*holds: step, puzzle_emb.weights, H_init/,
      );
    } finally {
      await file.close();
    }
  });

  it('leaves no temporary file behind and matches the in-memory encoder byte for byte', async () => {
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const small = join(dir, 'small.safetensors');
    const tensors = {
      a: { dtype: 'F32' as const, shape: [2], data: Float32Array.of(1, 2) },
      b: { dtype: 'BOOL' as const, shape: [1], data: Uint8Array.of(1) },
    };
    await writeSafetensors(small, tensors);
    const back = parseSafetensors(new Uint8Array(readFileSync(small)));
    expect(Array.from(back.tensors.get('a')!.data as Float32Array)).toEqual([1, 2]);
    const whole = await readSafetensors(small);
    expect([...whole.tensors.keys()]).toEqual(['a', 'b']);
  });
});

describe('atomic writes and errors', () => {
  it('keeps the old file when the data source fails, and removes the temporary file', async () => {
    const path = join(dir, 'atomic.safetensors');
    writeFileSync(path, 'old contents');
    function* failing(): Generator<Float32Array> {
      yield new Float32Array(10);
      throw new Error('source broke');
    }
    await expect(writeSafetensors(path, [{ name: 'x', dtype: 'F32', shape: [100], data: failing }])).rejects.toThrow(
      'source broke',
    );
    expect(readFileSync(path, 'utf8')).toBe('old contents');
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('reports short, overlong and out-of-order tensor data by name', async () => {
    const path = join(dir, 'errors.safetensors');
    await expect(
      writeSafetensors(path, [{ name: 'w', dtype: 'F32', shape: [4], data: [new Float32Array(3)] }]),
    ).rejects.toThrow(/tensor 'w': data has 12 bytes but shape \[4\] of F32 needs 16/);
    const specs = [
      { name: 'a', dtype: 'F32' as const, shape: [2] },
      { name: 'b', dtype: 'F32' as const, shape: [2] },
    ];
    const w = await SafetensorsWriter.create(path, specs);
    await expect(w.write('b', new Float32Array(2))).rejects.toThrow(
      /tensor 'b' written out of order: tensor 'a' comes first/,
    );
    await expect(w.write('a', new Float32Array(3))).rejects.toThrow(
      /tensor 'a': 12 bytes written but shape \[2\] of F32 holds 8/,
    );
    await w.write('a', new Float32Array(1));
    await expect(w.write('b', new Float32Array(1))).rejects.toThrow(/tensor 'a' is incomplete: 4 of 8 bytes/);
    await w.write('a', Float32Array.of(5));
    await w.write('b', Float32Array.of(6, 7));
    expect(w.current).toBeUndefined();
    await w.close();
    const f = await SafetensorsFile.open(path);
    expect(Array.from((await f.read('a')).data as Float32Array)).toEqual([0, 5]);
    await f.close();

    const w2 = await SafetensorsWriter.create(join(dir, 'never.safetensors'), specs);
    await w2.write('a', new Float32Array(2));
    await expect(w2.close()).rejects.toThrow(/tensor 'b' is incomplete: 0 of 8 bytes written/);
    expect(readdirSync(dir).filter((f) => f.startsWith('never') || f.includes('.tmp-'))).toEqual([]);
  });

  it('refuses a truncated file on open, naming the tensor', async () => {
    const path = join(dir, 'truncated.safetensors');
    await writeSafetensors(path, { big: { dtype: 'F32', shape: [1000], data: new Float32Array(1000) } });
    truncateSync(path, statSync(path).size - 10);
    await expect(SafetensorsFile.open(path)).rejects.toThrow(/truncated\.safetensors: tensor 'big'.*file truncated/);
  });
});

// Cross-check with the reference implementation when an interpreter that has it is at hand
// (SAFETENSORS_PYTHON=/path/to/python, or a python3 with `safetensors` and `numpy`); the committed fixture
// in serialize.test.ts covers the byte layout everywhere else.
const python = process.env.SAFETENSORS_PYTHON ?? 'python3';
const hasReference = spawnSync(python, ['-c', 'import safetensors.numpy, numpy'], { stdio: 'ignore' }).status === 0;

describe.skipIf(!hasReference)('Python safetensors reads our files', () => {
  it('loads a file we wrote with every dtype it knows and the same values', async () => {
    const path = join(dir, 'for-python.safetensors');
    await writeSafetensors(path, {
      f32: { dtype: 'F32', shape: [2, 2], data: Float32Array.of(1, 2, 3, 4.5) },
      f16: { dtype: 'F16', shape: [2], data: Uint16Array.of(0x3c00, 0x0001) },
      i64: { dtype: 'I64', shape: [1], data: BigInt64Array.of(-(2n ** 62n)) },
      i32: { dtype: 'I32', shape: [1], data: Int32Array.of(-5) },
      m: { dtype: 'BOOL', shape: [2], data: Uint8Array.of(1, 0) },
    });
    const script =
      'import sys, json\nfrom safetensors.numpy import load_file\nd = load_file(sys.argv[1])\n' +
      'print(json.dumps({k: [str(v.dtype), list(v.shape), [float(x) for x in v.ravel()]] for k, v in sorted(d.items())}))';
    const r = spawnSync(python, ['-c', script, path], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      f16: ['float16', [2], [1, 2 ** -24]],
      f32: ['float32', [2, 2], [1, 2, 3, 4.5]],
      i32: ['int32', [1], [-5]],
      i64: ['int64', [1], [-(2 ** 62)]],
      m: ['bool', [2], [1, 0]],
    });
  });
});
