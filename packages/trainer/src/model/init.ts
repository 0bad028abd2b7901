// The reference initialisation (TRM-SPEC §1.2): a JAX-style truncated normal whose standard deviation is exactly
// `std` (not torch.nn.init.trunc_normal_, whose spread is smaller), and rounding to bfloat16 for H_init/L_init,
// which the reference samples as bf16 buffers. Pure functions driven by core's seeded Rng.
import type { Rng } from '@trm/core';

const SQRT2 = Math.SQRT2;
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/** erf by its Maclaurin series: accurate to ~1e-15 for |x| <= 3, which covers every use here. */
export function erf(x: number): number {
  if (Math.abs(x) > 3) throw new RangeError(`erf is implemented for |x| <= 3 (got ${x})`);
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (-x * x) / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
  }
  return TWO_OVER_SQRT_PI * sum;
}

/** Inverse of erf on (-erf(3), erf(3)): Winitzki's closed form, then Newton steps to double precision. */
export function erfinv(y: number): number {
  if (!(Math.abs(y) < erf(3))) throw new RangeError(`erfinv is implemented for |y| < erf(3) (got ${y})`);
  if (y === 0) return 0;
  const a = 0.147;
  const ln = Math.log(1 - y * y);
  const t = 2 / (Math.PI * a) + ln / 2;
  let x = Math.sign(y) * Math.sqrt(Math.sqrt(t * t - ln / a) - t);
  for (let i = 0; i < 4; i++) x -= (erf(x) - y) / (TWO_OVER_SQRT_PI * Math.exp(-x * x));
  return x;
}

/**
 * The scale c of the truncated normal on [-2c, 2c] whose standard deviation is `std`:
 * c = std / sqrt(1 - 4 phi(2) / erf(sqrt 2)) ~ 1.13686 std.
 */
export function truncNormalScale(std: number): number {
  const phi2 = Math.exp(-2) / Math.sqrt(2 * Math.PI);
  const z = erf(SQRT2);
  return std / Math.sqrt(1 - (4 * phi2) / z);
}

/**
 * n draws of the reference's truncated normal: u ~ U(erf(-sqrt2), erf(sqrt2)), x = sqrt2 c erfinv(u), clipped to
 * [-2c, 2c]. std = 0 gives zeros (and draws nothing from rng).
 */
export function truncatedNormal(rng: Rng, n: number, std: number): Float32Array {
  const out = new Float32Array(n);
  if (std === 0) return out;
  const c = truncNormalScale(std);
  const b = erf(SQRT2);
  for (let i = 0; i < n; i++) {
    const u = -b + 2 * b * rng.random();
    const x = SQRT2 * c * erfinv(u);
    out[i] = Math.min(2 * c, Math.max(-2 * c, x));
  }
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Rounds to the nearest bfloat16 value (round half to even), returned as a number. */
export function toBfloat16(x: number): number {
  f32[0] = x;
  const bits = u32[0]!;
  if ((bits & 0x7f800000) === 0x7f800000) return f32[0]!; // inf / nan unchanged
  const rounded = (bits + 0x7fff + ((bits >>> 16) & 1)) & 0xffff0000;
  u32[0] = rounded >>> 0;
  return f32[0]!;
}
