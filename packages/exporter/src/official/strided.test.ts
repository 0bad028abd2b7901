// Strided views: contiguity, the storage span a view reaches, and row-major copies of transposed, offset and
// broadcast views, with bit patterns kept.
import { describe, expect, it } from 'vitest';
import { contiguousStrides, gatherStrided, isContiguous, spanOf } from './strided.js';

const f32 = (xs: number[]) => new Uint8Array(Float32Array.from(xs).buffer);
const back = (b: Uint8Array) => Array.from(new Float32Array(b.buffer, b.byteOffset, b.length / 4));

describe('strided views', () => {
  it('knows row-major layouts, ignoring the stride of size-1 axes', () => {
    expect(contiguousStrides([2, 3, 4])).toEqual([12, 4, 1]);
    expect(isContiguous([2, 3], [3, 1])).toBe(true);
    expect(isContiguous([1, 3], [99, 1])).toBe(true);
    expect(isContiguous([3, 2], [1, 3])).toBe(false);
    expect(spanOf([3, 2], [1, 3])).toBe(6);
    expect(spanOf([2, 2], [4, 1])).toBe(6);
    expect(spanOf([0, 5], [5, 1])).toBe(0);
  });

  it('copies a transposed view, a row slice and a broadcast (stride 0) view', () => {
    const storage = f32([0, 1, 2, 3, 4, 5]);
    // x.t() of a [2, 3] tensor: shape [3, 2], strides [1, 3]
    expect(back(gatherStrided(storage, 4, [3, 2], [1, 3]))).toEqual([0, 3, 1, 4, 2, 5]);
    // x[:, 1:3] of a [2, 3] tensor: offset 1 (applied by the caller), shape [2, 2], strides [3, 1]
    expect(back(gatherStrided(storage.subarray(4), 4, [2, 2], [3, 1]))).toEqual([1, 2, 4, 5]);
    expect(back(gatherStrided(storage, 4, [2, 3], [0, 1]))).toEqual([0, 1, 2, 0, 1, 2]);
    expect(() => gatherStrided(storage.subarray(0, 8), 4, [3, 2], [1, 3])).toThrow('needs 24 bytes, got 8');
  });

  it('keeps NaN payloads and 2- and 8-byte elements exact', () => {
    const nan = new Uint32Array([0x7fc00001, 0xffc12345]);
    const out = gatherStrided(new Uint8Array(nan.buffer), 4, [2], [1]);
    expect(Array.from(new Uint32Array(out.buffer))).toEqual([0x7fc00001, 0xffc12345]);
    const halves = new Uint16Array([1, 2, 3, 4]);
    expect(Array.from(new Uint16Array(gatherStrided(new Uint8Array(halves.buffer), 2, [2, 2], [1, 2]).buffer))).toEqual(
      [1, 3, 2, 4],
    );
    const longs = new BigInt64Array([-1n, 2n ** 62n, 3n]);
    expect(Array.from(new BigInt64Array(gatherStrided(new Uint8Array(longs.buffer), 8, [2], [2]).buffer))).toEqual([
      -1n,
      3n,
    ]);
  });
});
