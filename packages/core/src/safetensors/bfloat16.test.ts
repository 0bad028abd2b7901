import { describe, expect, it } from 'vitest';
import { bf16ToF32, f32ToBf16, float32BitsToBfloat16Bits, fromBfloat16Bits, toBfloat16Bits } from './bfloat16.js';

describe('F32 -> BF16', () => {
  it.each([
    [0x3f800000, 0x3f80], // 1
    [0x40490fdb, 0x4049], // pi: the dropped half 0x0fdb < 0x8000 rounds down
    [0x3f808000, 0x3f80], // tie, even stays
    [0x3f818000, 0x3f82], // tie, odd rounds up
    [0x3f808001, 0x3f81], // above the tie
    [0x7f7fffff, 0x7f80], // largest finite rounds to Inf
    [0xff7fffff, 0xff80],
    [0x7f7f7fff, 0x7f7f], // largest value that stays finite
    [0x7f800000, 0x7f80], // Inf
    [0x00008000, 0x0000], // subnormal tie to even
    [0x00018000, 0x0002],
    [0x80000000, 0x8000], // -0
    [0x7fc00000, 0x7fc0], // quiet NaN
    [0x7f800001, 0x7fc0], // signalling NaN with a low payload stays NaN, not Inf
    [0xff800001, 0xffc0],
    [0x7fff8000, 0x7fff], // NaN with all payload bits: no carry into the sign
  ])('0x%s -> 0x%s', (bits, out) => {
    expect(float32BitsToBfloat16Bits(bits)).toBe(out);
  });

  it('rounds numbers and arrays the same way', () => {
    expect(toBfloat16Bits(-3)).toBe(0xc040);
    expect(toBfloat16Bits(1 / 3)).toBe(0x3eab);
    expect(Array.from(f32ToBf16(Float32Array.of(1, -3, 1 / 3, Number.POSITIVE_INFINITY)))).toEqual([
      0x3f80, 0xc040, 0x3eab, 0x7f80,
    ]);
  });
});

describe('BF16 -> F32', () => {
  it('is exact and inverts F32 -> BF16 on every non-NaN pattern', () => {
    expect(fromBfloat16Bits(0x3f80)).toBe(1);
    expect(fromBfloat16Bits(0x3eab)).toBe(0.333984375);
    expect(fromBfloat16Bits(0x0001)).toBe(2 ** -133);
    expect(Object.is(fromBfloat16Bits(0x8000), -0)).toBe(true);
    const all = new Uint16Array(65536).map((_, i) => i);
    const back = f32ToBf16(bf16ToF32(all));
    const wrong: number[] = [];
    for (let i = 0; i < 65536; i++) {
      const nan = (i & 0x7f80) === 0x7f80 && (i & 0x7f) !== 0;
      if (back[i] !== (nan ? i | 0x40 : i)) wrong.push(i);
    }
    expect(wrong).toEqual([]);
  });
});
