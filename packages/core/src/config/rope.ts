// Rotary position tables (TRM-SPEC §1.4), shared by the tfjs model and the float64 reference so that both use the
// reference's numbers. The reference computes inv_freq, the angles t * inv_freq and their cos/sin in float32; at
// position 900 the float32 angle differs from the exact one by up to 3e-5 rad, so the tables round each stage to
// float32 the same way instead of using exact angles.

export interface RopeTables {
  /** positions (L) */
  length: number;
  /** head_dim */
  dim: number;
  /** [L, head_dim] row-major: cos(concat(t*inv_freq, t*inv_freq)) */
  cos: Float32Array;
  sin: Float32Array;
}

export function ropeTables(length: number, dim: number, theta: number): RopeTables {
  if (dim % 2 !== 0) throw new Error(`RoPE needs an even head_dim (got ${dim})`);
  const half = dim / 2;
  const invFreq = new Float64Array(half);
  for (let i = 0; i < half; i++) {
    const exponent = Math.fround((2 * i) / dim);
    invFreq[i] = Math.fround(1 / Math.fround(theta ** exponent));
  }
  const cos = new Float32Array(length * dim);
  const sin = new Float32Array(length * dim);
  for (let t = 0; t < length; t++) {
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(t * invFreq[i]!);
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      cos[t * dim + i] = c;
      cos[t * dim + i + half] = c;
      sin[t * dim + i] = s;
      sin[t * dim + i + half] = s;
    }
  }
  return { length, dim, cos, sin };
}
