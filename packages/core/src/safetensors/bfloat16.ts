// bfloat16 (BF16: the top 16 bits of a binary32) <-> binary32 conversions on raw bit patterns. F32 -> BF16
// rounds to nearest, ties to even (which also rounds subnormals correctly and overflows to +-Inf), and keeps a
// NaN a quiet NaN instead of letting truncation turn a low-payload NaN into Inf. BF16 -> F32 is exact.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** BF16 bits of the binary32 value whose bits are `x` (an unsigned 32-bit integer). */
export function float32BitsToBfloat16Bits(x: number): number {
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) return ((x >>> 16) | 0x40) & 0xffff;
  // Every non-NaN pattern is <= 0xff800000 (-Inf), so adding at most 0x8000 stays below 2^32 and >>> is exact.
  return ((x >>> 0) + 0x7fff + ((x >>> 16) & 1)) >>> 16;
}

/** Binary32 bits of the BF16 value with bits `b` (exact). */
export function bfloat16BitsToFloat32Bits(b: number): number {
  return (b << 16) >>> 0;
}

/** BF16 bits of a number (first rounded to binary32). */
export function toBfloat16Bits(value: number): number {
  f32[0] = value;
  return float32BitsToBfloat16Bits(u32[0]!);
}

/** The number a BF16 bit pattern stands for. */
export function fromBfloat16Bits(b: number): number {
  u32[0] = bfloat16BitsToFloat32Bits(b);
  return f32[0]!;
}

/** F32 -> BF16 raw bits (round to nearest even). */
export function f32ToBf16(src: Float32Array): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < bits.length; i++) out[i] = float32BitsToBfloat16Bits(bits[i]!);
  return out;
}

/** BF16 raw bits -> F32 (exact). */
export function bf16ToF32(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < src.length; i++) bits[i] = src[i]! << 16;
  return out;
}
