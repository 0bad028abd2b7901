import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dtypeSize, type StoredTensor } from './dtype.js';
import { parseSafetensors, parseSafetensorsHeader, serializeSafetensors } from './serialize.js';

const FIXTURE = new URL('./fixtures/reference.safetensors', import.meta.url);

/** The tensors that fixtures/make-reference.py writes with the reference implementation. */
function referenceTensors(): Record<string, StoredTensor> {
  return {
    'weights.f32': { dtype: 'F32', shape: [2, 3], data: Float32Array.of(1, -2.5, 3.25, 0, -0, 1e-30) },
    half: { dtype: 'F16', shape: [4], data: Uint16Array.of(0x3c00, 0xc000, 0x7bff, 0x0001) },
    brain: { dtype: 'BF16', shape: [4], data: Uint16Array.of(0x3f80, 0xc040, 0x7f80, 0x0001) },
    ints: { dtype: 'I32', shape: [2, 2], data: Int32Array.of(1, -2, 2147483647, -2147483648) },
    longs: { dtype: 'I64', shape: [4], data: BigInt64Array.of(1n, -1n, 9007199254740993n, -(2n ** 63n)) },
    mask: { dtype: 'BOOL', shape: [3], data: Uint8Array.of(1, 0, 1) },
    scalar: { dtype: 'F32', shape: [], data: Float32Array.of(7.5) },
    empty: { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
  };
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** A file assembled by hand: length prefix, header JSON, raw data. */
function handMade(header: object, data: Uint8Array, pad = true): Uint8Array {
  let json = JSON.stringify(header);
  if (pad) json = json.padEnd(Math.ceil(json.length / 8) * 8, ' ');
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(json.length), true);
  return concat(prefix, new TextEncoder().encode(json), data);
}

describe('reference implementation compatibility', () => {
  it('writes the same bytes as Python safetensors 0.8.0 (fixtures/reference.safetensors)', () => {
    const ours = serializeSafetensors(referenceTensors(), { metadata: { format: 'pt', note: 'reference' } });
    const theirs = new Uint8Array(readFileSync(FIXTURE));
    expect(ours.length).toBe(639);
    expect(Buffer.from(ours).equals(Buffer.from(theirs))).toBe(true);
  });

  it('reads the reference file back to the same values', () => {
    const { metadata, tensors } = parseSafetensors(new Uint8Array(readFileSync(FIXTURE)));
    expect(metadata).toEqual({ format: 'pt', note: 'reference' });
    const expected = referenceTensors();
    expect([...tensors.keys()]).toEqual(['longs', 'empty', 'scalar', 'weights.f32', 'ints', 'brain', 'half', 'mask']);
    for (const [name, t] of tensors) {
      expect(t.dtype, name).toBe(expected[name]!.dtype);
      expect(t.shape, name).toEqual(expected[name]!.shape);
      expect(Array.from(t.data as ArrayLike<unknown>), name).toEqual(
        Array.from(expected[name]!.data as ArrayLike<unknown>),
      );
    }
    expect(Object.is((tensors.get('weights.f32')!.data as Float32Array)[4], -0)).toBe(true);
  });
});

describe('round trip', () => {
  it('keeps every dtype, shape and value, in reference order by default and in the given order on request', () => {
    const tensors: Record<string, StoredTensor> = {
      b: { dtype: 'BOOL', shape: [2], data: Uint8Array.of(0, 1) },
      u8: { dtype: 'U8', shape: [3], data: Uint8Array.of(0, 128, 255) },
      i8: { dtype: 'I8', shape: [2], data: Int8Array.of(-128, 127) },
      i16: { dtype: 'I16', shape: [1, 2], data: Int16Array.of(-32768, 32767) },
      u16: { dtype: 'U16', shape: [1], data: Uint16Array.of(65535) },
      f16: { dtype: 'F16', shape: [2], data: Uint16Array.of(0x3c00, 0x7e00) },
      bf16: { dtype: 'BF16', shape: [2, 1], data: Uint16Array.of(0x3f80, 0xff80) },
      i32: { dtype: 'I32', shape: [1], data: Int32Array.of(-7) },
      u32: { dtype: 'U32', shape: [1], data: Uint32Array.of(4294967295) },
      f32: { dtype: 'F32', shape: [2, 2], data: Float32Array.of(0.1, Number.NaN, Number.NEGATIVE_INFINITY, 3) },
      f64: { dtype: 'F64', shape: [1], data: Float64Array.of(Math.PI) },
      i64: { dtype: 'I64', shape: [2], data: BigInt64Array.of(-(2n ** 63n), 2n ** 63n - 1n) },
      u64: { dtype: 'U64', shape: [1], data: BigUint64Array.of(2n ** 64n - 1n) },
    };
    for (const order of ['reference', 'given'] as const) {
      const bytes = serializeSafetensors(tensors, { order });
      const header = parseSafetensorsHeader(bytes);
      expect(header.dataStart % 8).toBe(0);
      expect(header.dataLength).toBe(2 + 3 + 2 + 4 + 2 + 4 + 4 + 4 + 4 + 16 + 8 + 16 + 8);
      const names = header.tensors.map((t) => t.name);
      expect(names).toEqual(
        order === 'given'
          ? Object.keys(tensors)
          : ['u64', 'i64', 'f64', 'f32', 'u32', 'i32', 'bf16', 'f16', 'u16', 'i16', 'i8', 'u8', 'b'],
      );
      // The reference layout keeps every tensor aligned to its element size.
      if (order === 'reference') expect(header.tensors.filter((t) => t.begin % dtypeSize(t.dtype) !== 0)).toEqual([]);
      const back = parseSafetensors(bytes).tensors;
      for (const [name, t] of Object.entries(tensors)) {
        const got = back.get(name)!;
        expect(got.dtype).toBe(t.dtype);
        expect(got.shape).toEqual(t.shape);
        expect(got.data.constructor).toBe(t.data.constructor);
        expect(Array.from(got.data as ArrayLike<unknown>)).toEqual(Array.from(t.data as ArrayLike<unknown>));
      }
    }
  });

  it('accepts raw bytes for any dtype and refuses a typed array of the wrong kind', () => {
    const raw = new Uint8Array(Float32Array.of(1.5, -2).buffer);
    const t = parseSafetensors(serializeSafetensors({ x: { dtype: 'F32', shape: [2], data: raw } })).tensors.get('x')!;
    expect(Array.from(t.data as Float32Array)).toEqual([1.5, -2]);
    expect(() =>
      serializeSafetensors({ h: { dtype: 'F16', shape: [2], data: Float32Array.of(1, 2) as unknown as Uint16Array } }),
    ).toThrow(/tensor 'h': got a Float32Array for dtype F16/);
    expect(() => serializeSafetensors({ w: { dtype: 'F32', shape: [2, 2], data: Float32Array.of(1, 2, 3) } })).toThrow(
      /tensor 'w': data has 12 bytes but shape \[2,2\] of F32 needs 16/,
    );
  });
});

describe('hand-made files', () => {
  const data = concat(
    new Uint8Array(Float32Array.of(1, 2, 3, 4, 5, 6).buffer),
    new Uint8Array(Int32Array.of(-9).buffer),
  );

  it('reads a header laid out by hand, with or without padding, in any key order', () => {
    for (const pad of [true, false]) {
      const bytes = handMade(
        {
          b: { dtype: 'I32', shape: [1], data_offsets: [24, 28] },
          __metadata__: { k: 'v' },
          a: { dtype: 'F32', shape: [3, 2], data_offsets: [0, 24] },
        },
        data,
        pad,
      );
      const { metadata, tensors } = parseSafetensors(bytes);
      expect(metadata).toEqual({ k: 'v' });
      expect(Array.from(tensors.get('a')!.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(tensors.get('a')!.shape).toEqual([3, 2]);
      expect(Array.from(tensors.get('b')!.data as Int32Array)).toEqual([-9]);
    }
  });

  it.each([
    [
      'an unknown dtype',
      { a: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } },
      /tensor 'a': unknown dtype "F8_E4M3"/,
    ],
    [
      'a size mismatch',
      { a: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 24] } },
      /tensor 'a': shape \[2,2\] of F32 needs 16 bytes, but data_offsets \[0,24\] span 24/,
    ],
    [
      'offsets past the data',
      { a: { dtype: 'F32', shape: [10], data_offsets: [0, 40] } },
      /tensor 'a': data_offsets \[0,40\] run past the 28 data bytes/,
    ],
    [
      'a gap',
      { a: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } },
      /tensor 'a': data_offsets \[4,12\] start at 4, expected 0/,
    ],
    [
      'leftover bytes',
      { a: { dtype: 'F32', shape: [6], data_offsets: [0, 24] } },
      /4 unexpected bytes after the last tensor/,
    ],
    [
      'reversed offsets',
      { a: { dtype: 'F32', shape: [0], data_offsets: [8, 0] } },
      /tensor 'a': data_offsets must be \[begin, end\]/,
    ],
    [
      'a bad shape',
      { a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } },
      /tensor 'a': shape must be an array of non-negative integers/,
    ],
    ['non-string metadata', { __metadata__: { n: 1 } }, /__metadata__\['n'\] must be a string/],
  ])('rejects %s, naming the tensor', (_, header, message) => {
    expect(() => parseSafetensors(handMade(header, data))).toThrow(message);
  });

  it('rejects truncated files and impossible header lengths', () => {
    const good = handMade({ a: { dtype: 'F32', shape: [7], data_offsets: [0, 28] } }, data);
    expect(parseSafetensors(good).tensors.get('a')!.shape).toEqual([7]);
    expect(() => parseSafetensors(good.subarray(0, good.length - 1))).toThrow(/tensor 'a'.*file truncated/);
    expect(() => parseSafetensors(good.subarray(0, 20))).toThrow(
      /runs past the end of the file \(20 bytes\): file truncated/,
    );
    expect(() => parseSafetensors(good.subarray(0, 5))).toThrow(/too short/);
    const bogus = new Uint8Array(16).fill(0xff);
    expect(() => parseSafetensors(bogus)).toThrow(/exceeds the 100000000-byte limit/);
    const notJson = handMade({}, new Uint8Array(0));
    notJson[8] = 0x78;
    expect(() => parseSafetensors(notJson)).toThrow(/header is not valid JSON/);
  });
});
