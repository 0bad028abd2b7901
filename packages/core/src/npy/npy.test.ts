import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  decodeNpy,
  encodeNpy,
  encodeNpyHeader,
  type NpyArray,
  NpyStreamWriter,
  openNpy,
  parseNpyHeader,
  readNpy,
  writeNpy,
} from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'npy-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1');

describe('npy header', () => {
  it('matches numpy byte for byte (magic, dict, growth spaces, 64-byte padding)', () => {
    // Expected strings taken from numpy 2.4's np.save.
    const h = encodeNpyHeader('int32', [3]);
    expect(h.length).toBe(128);
    expect(latin1(h)).toBe(
      `\x93NUMPY\x01\x00v\x00{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }${' '.repeat(60)}\n`,
    );
    expect(latin1(encodeNpyHeader('uint8', [0, 900]))).toBe(
      `\x93NUMPY\x01\x00v\x00{'descr': '|u1', 'fortran_order': False, 'shape': (0, 900), }${' '.repeat(56)}\n`,
    );
    expect(latin1(encodeNpyHeader('float32', []))).toBe(
      `\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (), }${' '.repeat(62)}\n`,
    );
  });

  it('has the same length whatever the first dimension, so it can be patched in place', () => {
    const lengths = [0, 9, 12345678, 2 ** 52].map((n) => encodeNpyHeader('uint8', [n, 900]).length);
    expect(new Set(lengths)).toEqual(new Set([128]));
  });

  it('parses shapes and dtypes, and rejects what it cannot represent', () => {
    const h = parseNpyHeader(encodeNpyHeader('int64', [2, 3, 4]));
    expect(h).toEqual({ dtype: 'int64', shape: [2, 3, 4], dataOffset: 128, bigEndian: false });
    const fortran = latin1(encodeNpyHeader('int32', [2, 2])).replace('False', 'True ');
    expect(() => parseNpyHeader(Buffer.from(fortran, 'latin1'), 'f.npy')).toThrow('f.npy is stored in Fortran order');
    const complex = latin1(encodeNpyHeader('int64', [2])).replace('<i8', '<c8');
    expect(() => parseNpyHeader(Buffer.from(complex, 'latin1'), 'c.npy')).toThrow("c.npy has dtype '<c8'");
    expect(() => parseNpyHeader(new Uint8Array(64), 'z.npy')).toThrow('z.npy is not a .npy file');
    expect(() => encodeNpyHeader('uint8', [-1])).toThrow('shape[0] must be a non-negative integer');
  });
});

const samples: NpyArray[] = [
  { dtype: 'uint8', shape: [2, 3], data: Uint8Array.from([0, 1, 2, 253, 254, 255]) },
  { dtype: 'int32', shape: [4], data: Int32Array.from([0, -1, 2 ** 31 - 1, -(2 ** 31)]) },
  { dtype: 'int64', shape: [2], data: BigInt64Array.from([-(2n ** 63n), 2n ** 40n]) },
  { dtype: 'float32', shape: [1, 1, 3], data: Float32Array.from([1.5, -0, Number.POSITIVE_INFINITY]) },
  { dtype: 'bool', shape: [3], data: Uint8Array.from([1, 0, 1]) },
  { dtype: 'float16', shape: [2], data: Uint16Array.from([0x3c00, 0xc000]) }, // 1.0, -2.0
  { dtype: 'float64', shape: [], data: Float64Array.from([Math.PI]) },
  { dtype: 'uint8', shape: [0, 900], data: new Uint8Array(0) },
];

describe('npy arrays', () => {
  it('round-trips every dtype in memory and through files', () => {
    for (const [i, a] of samples.entries()) {
      const bytes = encodeNpy(a);
      expect(bytes.length - a.data.byteLength).toBe(128);
      const back = decodeNpy(bytes);
      expect(back).toEqual(a);
      const path = join(dir, `s${i}.npy`);
      writeNpy(path, a);
      expect(new Uint8Array(readFileSync(path))).toEqual(bytes);
      const read = readNpy(path);
      expect(read.dtype).toBe(a.dtype);
      expect(read.shape).toEqual(a.shape);
      expect(Array.from(read.data as ArrayLike<number | bigint>)).toEqual(
        Array.from(a.data as ArrayLike<number | bigint>),
      );
    }
  });

  it('copies only when the data is misaligned', () => {
    const bytes = encodeNpy({ dtype: 'int32', shape: [3], data: Int32Array.from([7, 8, 9]) });
    const shared = decodeNpy(bytes);
    expect(shared.data.buffer).toBe(bytes.buffer);
    const odd = new Uint8Array(bytes.length + 1);
    odd.set(bytes, 1);
    const copied = decodeNpy(odd.subarray(1));
    expect(Array.from(copied.data as Int32Array)).toEqual([7, 8, 9]);
  });

  it('reads big-endian files by swapping bytes', () => {
    const header = latin1(encodeNpyHeader('int32', [2])).replace('<i4', '>i4');
    const bytes = Buffer.concat([Buffer.from(header, 'latin1'), Buffer.from([0, 0, 1, 2, 0xff, 0xff, 0xff, 0xfe])]);
    expect(Array.from(decodeNpy(bytes).data as Int32Array)).toEqual([258, -2]);
  });

  it('rejects size mismatches with the file name and the numbers', () => {
    const a = { dtype: 'int32' as const, shape: [3], data: Int32Array.from([1, 2]) };
    expect(() => encodeNpy(a)).toThrow('npy data has 2 elements but shape [3] needs 3');
    const path = join(dir, 'trunc.npy');
    writeFileSync(path, encodeNpy(samples[0]!).subarray(0, 130));
    expect(() => readNpy(path)).toThrow(`${path} has 130 bytes but its header (uint8 [2, 3]) needs 134`);
  });

  it('reads row ranges on demand', () => {
    const path = join(dir, 'rows.npy');
    const data = Int32Array.from({ length: 5 * 4 }, (_, i) => i);
    writeNpy(path, { dtype: 'int32', shape: [5, 4], data });
    const f = openNpy(path);
    expect([f.rows, f.rowSize]).toEqual([5, 4]);
    expect(Array.from(f.readRows(2, 2) as Int32Array)).toEqual([8, 9, 10, 11, 12, 13, 14, 15]);
    expect(() => f.readRows(4, 2)).toThrow('rows [4, 6) are outside [0, 5)');
    f.close();
  });
});

describe('npy stream writer', () => {
  it('writes chunks that cross row and buffer boundaries, patching an unknown row count', () => {
    const path = join(dir, 'stream.npy');
    const w = new NpyStreamWriter(path, 'uint8', [7], { bufferBytes: 16 });
    const all = Uint8Array.from({ length: 7 * 11 }, (_, i) => (i * 13) % 256);
    // 5, 40 (bigger than the buffer), 1, then the rest: exercises buffered, direct and mixed writes.
    w.write(all.subarray(0, 5));
    w.write(all.subarray(5, 45));
    w.write(all.subarray(45, 46));
    w.write(all.subarray(46));
    expect(w.rows).toBe(11);
    expect(w.close()).toEqual([11, 7]);
    expect(new Uint8Array(readFileSync(path))).toEqual(encodeNpy({ dtype: 'uint8', shape: [11, 7], data: all }));
  });

  it('checks a known row count on close and removes the file on abort', () => {
    const path = join(dir, 'known.npy');
    const w = new NpyStreamWriter(path, 'int32', [], { rows: 3 });
    w.write(Int32Array.from([1, 2]));
    expect(() => w.close()).toThrow(`${path}: wrote 2 int32 elements, expected 3 rows`);
    const partial = new NpyStreamWriter(join(dir, 'partial.npy'), 'uint8', [4]);
    partial.write(Uint8Array.from([1, 2, 3]));
    expect(() => partial.close()).toThrow('expected a whole number of rows of 4');
    const gone = new NpyStreamWriter(join(dir, 'gone.npy'), 'uint8', [4]);
    gone.abort();
    expect(() => statSync(join(dir, 'gone.npy'))).toThrow();
  });
});
