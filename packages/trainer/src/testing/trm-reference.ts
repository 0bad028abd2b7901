// The float64 reference of TRM that the tests check against: one supervision step and its loss as plain loops
// over Float64Array with no tfjs, written independently and straight from TRM-SPEC §1-4. Tests compare the tfjs
// model against it (forward to 1e-5) and differentiate it numerically to check the tfjs gradients. It is slow by
// design (clarity over speed), so it is reached through `@trm/trainer/testing` and never from training code.
import type { ModelConfig } from '@trm/core';

export type RefParams = Record<string, { shape: number[]; data: Float64Array }>;

export interface RefState {
  /** [B, L, D] */
  zH: Float64Array;
  zL: Float64Array;
}

export interface RefBatch {
  batchSize: number;
  /** [B, seq_len] */
  tokens: ArrayLike<number>;
  /** [B, puzzle_emb_ndim], or null without a puzzle embedding */
  puzzleRows: Float64Array | null;
}

export interface RefStepResult {
  state: RefState;
  /** [B, seq_len, vocab] */
  logits: Float64Array;
  qHalt: Float64Array;
  qContinue: Float64Array;
}

/** Converts float32 weights (as exported by the model) to the reference's float64 parameters. */
export function toRefParams(weights: Record<string, { shape: number[]; data: Float32Array }>): RefParams {
  const out: RefParams = {};
  for (const [k, v] of Object.entries(weights)) out[k] = { shape: v.shape.slice(), data: Float64Array.from(v.data) };
  return out;
}

function w(p: RefParams, name: string): Float64Array {
  const t = p[name];
  if (!t) throw new Error(`reference: missing parameter ${name}`);
  return t.data;
}

function prefixLen(c: ModelConfig): number {
  if (c.puzzle_emb_ndim === 0) return 0;
  return c.puzzle_emb_len > 0 ? c.puzzle_emb_len : Math.ceil(c.puzzle_emb_ndim / c.hidden_size);
}

/** y[n, o] = sum_i x[n, i] W[o, i] for x [N, in], W [out, in]. */
function linear(x: Float64Array, N: number, W: Float64Array, inF: number, outF: number): Float64Array {
  const y = new Float64Array(N * outF);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < outF; o++) {
      let s = 0;
      for (let i = 0; i < inF; i++) s += x[n * inF + i]! * W[o * inF + i]!;
      y[n * outF + o] = s;
    }
  return y;
}

/** In place: each row of width `width` scaled by 1/sqrt(mean(row^2) + eps). */
function rmsNormRows(x: Float64Array, width: number, eps: number): Float64Array {
  for (let r = 0; r < x.length / width; r++) {
    let ss = 0;
    for (let i = 0; i < width; i++) ss += x[r * width + i]! ** 2;
    const scale = 1 / Math.sqrt(ss / width + eps);
    for (let i = 0; i < width; i++) x[r * width + i]! *= scale;
  }
  return x;
}

/** [B, R, C] -> [B, C, R] */
function transpose(x: Float64Array, B: number, R: number, C: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let b = 0; b < B; b++)
    for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) y[b * R * C + c * R + r] = x[b * R * C + r * C + c]!;
  return y;
}

function addArrays(a: Float64Array, b: Float64Array): Float64Array {
  const y = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) y[i] = a[i]! + b[i]!;
  return y;
}

/** SwiGLU on rows of width h: down(silu(gate) * up), gate = first I outputs of gate_up. */
function swiglu(x: Float64Array, N: number, h: number, gateUp: Float64Array, down: Float64Array): Float64Array {
  const I = gateUp.length / h / 2;
  const gu = linear(x, N, gateUp, h, 2 * I);
  const act = new Float64Array(N * I);
  for (let n = 0; n < N; n++)
    for (let i = 0; i < I; i++) {
      const g = gu[n * 2 * I + i]!;
      act[n * I + i] = (g / (1 + Math.exp(-g))) * gu[n * 2 * I + I + i]!;
    }
  return linear(act, N, down, I, h);
}

/** cos/sin [L, hd] with float32-rounded frequencies and angles, as the reference computes them. */
function rope(L: number, hd: number, theta: number): { cos: Float64Array; sin: Float64Array } {
  const cos = new Float64Array(L * hd);
  const sin = new Float64Array(L * hd);
  for (let i = 0; i < hd / 2; i++) {
    const inv = Math.fround(1 / Math.fround(theta ** Math.fround((2 * i) / hd)));
    for (let t = 0; t < L; t++) {
      const a = Math.fround(t * inv);
      cos[t * hd + i] = cos[t * hd + i + hd / 2] = Math.fround(Math.cos(a));
      sin[t * hd + i] = sin[t * hd + i + hd / 2] = Math.fround(Math.sin(a));
    }
  }
  return { cos, sin };
}

function attention(c: ModelConfig, p: RefParams, prefix: string, h: Float64Array, B: number, L: number): Float64Array {
  const D = c.hidden_size;
  const H = c.num_heads;
  const hd = D / H;
  const qkv = linear(h, B * L, w(p, `${prefix}.qkv_proj.weight`), D, 3 * D);
  // q, k, v as [B, H, L, hd]; qkv row layout per position: Q heads, then K heads, then V heads.
  const pick = (which: number) => {
    const out = new Float64Array(B * H * L * hd);
    for (let b = 0; b < B; b++)
      for (let hh = 0; hh < H; hh++)
        for (let t = 0; t < L; t++)
          for (let e = 0; e < hd; e++)
            out[((b * H + hh) * L + t) * hd + e] = qkv[(b * L + t) * 3 * D + which * D + hh * hd + e]!;
    return out;
  };
  const q = pick(0);
  const k = pick(1);
  const v = pick(2);
  if (c.pos_encodings === 'rope') {
    const { cos, sin } = rope(L, hd, c.rope_theta);
    for (const m of [q, k]) {
      for (let r = 0; r < B * H; r++)
        for (let t = 0; t < L; t++) {
          const base = (r * L + t) * hd;
          const orig = m.slice(base, base + hd);
          for (let e = 0; e < hd; e++) {
            const rot = e < hd / 2 ? -orig[e + hd / 2]! : orig[e - hd / 2]!;
            m[base + e] = orig[e]! * cos[t * hd + e]! + rot * sin[t * hd + e]!;
          }
        }
    }
  }
  const out = new Float64Array(B * L * D);
  const scale = 1 / Math.sqrt(hd);
  const scores = new Float64Array(L);
  for (let b = 0; b < B; b++)
    for (let hh = 0; hh < H; hh++) {
      const base = (b * H + hh) * L * hd;
      for (let i = 0; i < L; i++) {
        let max = -Infinity;
        for (let j = 0; j < L; j++) {
          let s = 0;
          for (let e = 0; e < hd; e++) s += q[base + i * hd + e]! * k[base + j * hd + e]!;
          scores[j] = s * scale;
          max = Math.max(max, scores[j]!);
        }
        let z = 0;
        for (let j = 0; j < L; j++) z += scores[j] = Math.exp(scores[j]! - max);
        for (let e = 0; e < hd; e++) {
          let s = 0;
          for (let j = 0; j < L; j++) s += scores[j]! * v[base + j * hd + e]!;
          out[(b * L + i) * D + hh * hd + e] = s / z;
        }
      }
    }
  return linear(out, B * L, w(p, `${prefix}.o_proj.weight`), D, D);
}

function block(c: ModelConfig, p: RefParams, layer: number, h: Float64Array, B: number): Float64Array {
  const D = c.hidden_size;
  const L = h.length / B / D;
  const pre = `L_level.layers.${layer}`;
  let cur: Float64Array;
  if (c.mlp_t) {
    const u = transpose(h, B, L, D);
    const mixed = swiglu(u, B * D, L, w(p, `${pre}.mlp_t.gate_up_proj.weight`), w(p, `${pre}.mlp_t.down_proj.weight`));
    cur = transpose(rmsNormRows(addArrays(u, mixed), L, c.rms_norm_eps), B, D, L);
  } else {
    cur = rmsNormRows(addArrays(h, attention(c, p, `${pre}.self_attn`, h, B, L)), D, c.rms_norm_eps);
  }
  const mlp = swiglu(cur, B * L, D, w(p, `${pre}.mlp.gate_up_proj.weight`), w(p, `${pre}.mlp.down_proj.weight`));
  return rmsNormRows(addArrays(cur, mlp), D, c.rms_norm_eps);
}

function level(c: ModelConfig, p: RefParams, h: Float64Array, inj: Float64Array, B: number): Float64Array {
  let cur = addArrays(h, inj);
  for (let i = 0; i < c.L_layers; i++) cur = block(c, p, i, cur, B);
  return cur;
}

/** x [B, L, D] = sqrt(D) * [puzzle prefix | token embeddings] (learned positions mixed in when configured). */
export function refInputEmbeddings(c: ModelConfig, p: RefParams, batch: RefBatch): Float64Array {
  const D = c.hidden_size;
  const P = prefixLen(c);
  const S = c.seq_len;
  const L = S + P;
  const B = batch.batchSize;
  const emb = w(p, 'embed_tokens.embedding_weight');
  const x = new Float64Array(B * L * D);
  for (let b = 0; b < B; b++) {
    if (P > 0) {
      const rows = batch.puzzleRows;
      if (!rows) throw new Error('reference: puzzleRows required');
      const E = c.puzzle_emb_ndim;
      for (let e = 0; e < E; e++) x[b * L * D + e] = rows[b * E + e]!;
    }
    for (let s = 0; s < S; s++) {
      const tok = batch.tokens[b * S + s]!;
      for (let d = 0; d < D; d++) x[(b * L + P + s) * D + d] = emb[tok * D + d]!;
    }
  }
  const pos = c.pos_encodings === 'learned' ? w(p, 'embed_pos.embedding_weight') : null;
  for (let i = 0; i < x.length; i++) {
    // biome-ignore lint/suspicious/noApproximativeNumericConstant: the reference's literal, not exactly 1/sqrt(2)
    const v = pos ? 0.707106781 * (x[i]! + pos[i % (L * D)]!) : x[i]!;
    x[i] = Math.sqrt(D) * v;
  }
  return x;
}

/** One full recursion: n times z_L = L_level(z_L, z_H + x), then z_H = L_level(z_H, z_L). */
export function refRecursion(c: ModelConfig, p: RefParams, x: Float64Array, s: RefState, B: number): RefState {
  let zL = s.zL;
  for (let i = 0; i < c.L_cycles; i++) zL = level(c, p, zL, addArrays(s.zH, x), B);
  const zH = level(c, p, s.zH, zL, B);
  return { zH, zL };
}

export function refHeads(c: ModelConfig, p: RefParams, zH: Float64Array, B: number) {
  const D = c.hidden_size;
  const P = prefixLen(c);
  const L = zH.length / B / D;
  const V = c.vocab_size;
  const body = new Float64Array(B * (L - P) * D);
  const first = new Float64Array(B * D);
  for (let b = 0; b < B; b++) {
    body.set(zH.subarray((b * L + P) * D, (b + 1) * L * D), b * (L - P) * D);
    first.set(zH.subarray(b * L * D, (b * L + 1) * D), b * D);
  }
  const logits = linear(body, B * (L - P), w(p, 'lm_head.weight'), D, V);
  const q = linear(first, B, w(p, 'q_head.weight'), D, 2);
  const bias = w(p, 'q_head.bias');
  const qHalt = new Float64Array(B);
  const qContinue = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    qHalt[b] = q[b * 2]! + bias[0]!;
    qContinue[b] = q[b * 2 + 1]! + bias[1]!;
  }
  return { logits, qHalt, qContinue };
}

/** z_H <- H_init, z_L <- L_init on rows where reset is true. */
export function refReset(c: ModelConfig, p: RefParams, s: RefState, reset: readonly boolean[]): RefState {
  const D = c.hidden_size;
  const rowLen = s.zH.length / reset.length;
  const zH = s.zH.slice();
  const zL = s.zL.slice();
  const hi = w(p, 'H_init');
  const li = w(p, 'L_init');
  reset.forEach((r, b) => {
    if (!r) return;
    for (let i = 0; i < rowLen; i++) {
      zH[b * rowLen + i] = hi[i % D]!;
      zL[b * rowLen + i] = li[i % D]!;
    }
  });
  return { zH, zL };
}

/** A zero state of the right size (reset it to get H_init / L_init). */
export function refEmptyState(c: ModelConfig, B: number): RefState {
  const n = B * (c.seq_len + prefixLen(c)) * c.hidden_size;
  return { zH: new Float64Array(n), zL: new Float64Array(n) };
}

/** The state after the first H_cycles - 1 recursions (the part that gets no gradient). */
export function refRecurseWithoutGrad(c: ModelConfig, p: RefParams, x: Float64Array, s: RefState, B: number): RefState {
  let cur = s;
  for (let t = 0; t < c.H_cycles - 1; t++) cur = refRecursion(c, p, x, cur, B);
  return cur;
}

/** One supervision step: H_cycles recursions, then the heads. */
export function refStep(c: ModelConfig, p: RefParams, s: RefState, batch: RefBatch): RefStepResult {
  const B = batch.batchSize;
  const x = refInputEmbeddings(c, p, batch);
  const state = refRecursion(c, p, x, refRecurseWithoutGrad(c, p, x, s, B), B);
  return { state, ...refHeads(c, p, state.zH, B) };
}

export interface RefLoss {
  total: number;
  lmLoss: number;
  qHaltLoss: number;
  seqIsCorrect: boolean[];
}

/**
 * TRM-SPEC §4: per-sequence mean CE over labels != -100 (stable-max or softmax), summed over the batch, plus
 * 0.5 * sum BCE-with-logits(q_halt, whole sequence correct). Not divided by the batch size.
 */
export function refLoss(
  logits: Float64Array,
  labels: ArrayLike<number>,
  qHalt: Float64Array,
  B: number,
  V: number,
  lossType: ModelConfig['loss_type'],
): RefLoss {
  const S = labels.length / B;
  let lmLoss = 0;
  let qHaltLoss = 0;
  const seqIsCorrect: boolean[] = [];
  for (let b = 0; b < B; b++) {
    let count = 0;
    let correct = 0;
    let ce = 0;
    for (let s = 0; s < S; s++) {
      const label = labels[b * S + s]!;
      if (label === -100) continue;
      const row = logits.subarray((b * S + s) * V, (b * S + s + 1) * V);
      let arg = 0;
      for (let v = 1; v < V; v++) if (row[v]! > row[arg]!) arg = v;
      count++;
      if (arg === label) correct++;
      if (lossType === 'stablemax_cross_entropy') {
        const sx = (x: number) => (x < 0 ? 1 / (1 - x + 1e-30) : x + 1);
        let z = 0;
        for (let v = 0; v < V; v++) z += sx(row[v]!);
        ce -= Math.log(sx(row[label]!) / z);
      } else {
        const max = Math.max(...row);
        let z = 0;
        for (let v = 0; v < V; v++) z += Math.exp(row[v]! - max);
        ce -= row[label]! - max - Math.log(z);
      }
    }
    lmLoss += ce / Math.max(count, 1);
    const ok = correct === count;
    seqIsCorrect.push(ok);
    const x = qHalt[b]!;
    const y = ok ? 1 : 0;
    qHaltLoss += Math.max(x, 0) - x * y + Math.log(1 + Math.exp(-Math.abs(x)));
  }
  return { total: lmLoss + 0.5 * qHaltLoss, lmLoss, qHaltLoss, seqIsCorrect };
}
