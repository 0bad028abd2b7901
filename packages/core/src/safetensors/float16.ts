// IEEE 754 binary16 (F16) <-> binary32 conversions on raw bit patterns. F32 -> F16 rounds to nearest, ties
// to even, produces subnormals below 2^-14, overflows to +-Inf, and keeps NaN a (quiet) NaN with its sign;
// F16 -> F32 is exact. Array versions loop over shared scratch views, so they allocate only the result.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** F16 bits of the binary32 value whose bits are `x` (an unsigned 32-bit integer). */
export function float32BitsToFloat16Bits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) {
    // Inf stays Inf; a NaN keeps its top payload bits and is made quiet so it cannot collapse into Inf.
    return mant === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant >>> 13);
  }
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal result: the value in units of 2^-24 is (1.mant) * 2^(e-1+10) = m >> (14 - e).
    const shift = 14 - e;
    if (shift > 24) return sign; // below half the smallest subnormal (or exactly half: ties to even = 0)
    const m = mant | 0x800000;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1) === 1)) h++;
    return sign | h; // a carry into bit 10 correctly yields the smallest normal
  }
  let h = sign | (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h++; // a carry may reach the exponent: Inf is right
  return h;
}

/** Binary32 bits of the F16 value with bits `h` (exact). */
export function float16BitsToFloat32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0;
  if (exp === 0) {
    if (mant === 0) return sign >>> 0;
    // Subnormal: normalise the mantissa into an F32 normal.
    let e = -14;
    while ((mant & 0x400) === 0) {
      mant <<= 1;
      e--;
    }
    mant &= 0x3ff;
    return (sign | ((e + 127) << 23) | (mant << 13)) >>> 0;
  }
  return (sign | ((exp - 15 + 127) << 23) | (mant << 13)) >>> 0;
}

/** F16 bits of a number (first rounded to binary32, as a Float32Array store would). */
export function toFloat16Bits(value: number): number {
  f32[0] = value;
  return float32BitsToFloat16Bits(u32[0]!);
}

/** The number an F16 bit pattern stands for. */
export function fromFloat16Bits(h: number): number {
  u32[0] = float16BitsToFloat32Bits(h);
  return f32[0]!;
}

/** F32 -> F16 raw bits (round to nearest even). */
export function f32ToF16(src: Float32Array): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < bits.length; i++) out[i] = float32BitsToFloat16Bits(bits[i]!);
  return out;
}

/** F16 raw bits -> F32 (exact). */
export function f16ToF32(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < src.length; i++) bits[i] = float16BitsToFloat32Bits(src[i]!);
  return out;
}
