import { describe, expect, it } from 'vitest';
import { f16ToF32, f32ToF16, float16BitsToFloat32Bits, fromFloat16Bits, toFloat16Bits } from './float16.js';

const bitsOf = (x: number): number => new Uint32Array(Float32Array.of(x).buffer)[0]!;
const fromBits = (b: number): number => new Float32Array(Uint32Array.of(b).buffer)[0]!;

describe('F32 -> F16', () => {
  it.each([
    [1, 0x3c00],
    [-2, 0xc000],
    [0.333251953125, 0x3555],
    [65504, 0x7bff], // largest finite
    [65519.99, 0x7bff], // just below the rounding midpoint to Inf
    [65520, 0x7c00], // the midpoint rounds to even = Inf
    [1e6, 0x7c00],
    [-1e6, 0xfc00],
    [Number.POSITIVE_INFINITY, 0x7c00],
    [Number.NEGATIVE_INFINITY, 0xfc00],
    [0, 0x0000],
    [-0, 0x8000],
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -25, 0x0000], // half of it: tie to even -> 0
    [1.5 * 2 ** -25, 0x0001],
    [3 * 2 ** -25, 0x0002], // 1.5 units: tie to even -> 2
    [5 * 2 ** -25, 0x0002], // 2.5 units: tie to even -> 2
    [2 ** -14 - 2 ** -25, 0x0400], // rounds up from the largest subnormal into the smallest normal
    [1 + 2 ** -11, 0x3c00], // tie between 1 and 1+2^-10: even
    [1 + 3 * 2 ** -11, 0x3c02], // tie between 1+2^-10 and 1+2^-9: even
    [1 + 2 ** -11 + 2 ** -20, 0x3c01], // above the tie
    [1e-10, 0x0000],
  ])('%s -> 0x%s', (x, bits) => {
    expect(toFloat16Bits(x)).toBe(bits);
  });

  it('keeps NaN a quiet NaN with its sign, including payloads that truncation would lose', () => {
    expect(toFloat16Bits(Number.NaN) & 0x7e00).toBe(0x7e00);
    expect(f32ToF16(new Float32Array(Uint32Array.of(0x7f800001).buffer))[0]).toBe(0x7e00); // signalling, low payload
    expect(f32ToF16(new Float32Array(Uint32Array.of(0xffc00000).buffer))[0]).toBe(0xfe00);
  });

  it('inverts F16 -> F32 on all 2^16 patterns (NaNs stay quiet NaNs)', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const widened = f16ToF32(all);
    const back = f32ToF16(widened);
    const wrong: number[] = [];
    for (let i = 0; i < 65536; i++) {
      const nan = (i & 0x7c00) === 0x7c00 && (i & 0x3ff) !== 0;
      if (nan ? back[i] !== (i | 0x200) : back[i] !== i) wrong.push(i);
    }
    expect(wrong).toEqual([]);
  });
});

describe('F16 -> F32', () => {
  it.each([
    [0x3c00, 1],
    [0x7bff, 65504],
    [0x0001, 2 ** -24],
    [0x03ff, 1023 * 2 ** -24], // largest subnormal
    [0x0400, 2 ** -14],
    [0x3555, 0.333251953125],
    [0xc000, -2],
    [0x7c00, Number.POSITIVE_INFINITY],
    [0xfc00, Number.NEGATIVE_INFINITY],
  ])('0x%s -> %s', (bits, x) => {
    expect(fromFloat16Bits(bits)).toBe(x);
  });

  it('maps signed zero and NaN', () => {
    expect(Object.is(fromFloat16Bits(0x8000), -0)).toBe(true);
    expect(Number.isNaN(fromFloat16Bits(0x7e00))).toBe(true);
    expect(float16BitsToFloat32Bits(0x7e00)).toBe(0x7fc00000);
    expect(fromBits(float16BitsToFloat32Bits(0x0001))).toBe(2 ** -24);
    expect(bitsOf(fromFloat16Bits(0x8001))).toBe(0xb3800000);
  });
});
