// One supervision step of TRM as an ONNX graph (ARCHITECTURE.md "ONNX step graph", TRM-SPEC §1-2): input
// embedding, reset of the state to H_init/L_init, the H_cycles x (L_cycles + 1) applications of the shared
// network unrolled, and the heads. The functions mirror the trainer's model (packages/trainer/src/model), one per
// idea: rmsNorm, swiglu, attention, block, reasoningModule, step.
import { createHash } from 'node:crypto';
import {
  checkpointTensors,
  f32ToF16,
  type ModelConfig,
  type NamedArrays,
  puzzleEmbLen,
  ropeTables,
  stateLen,
} from '@trm/core';
import {
  IR_VERSION,
  METADATA_KEYS,
  ONNX_FORMAT_VERSION,
  opsetImports,
  STEP_INPUTS,
  STEP_OUTPUTS,
} from '../contract.js';
import { GraphBuilder } from '../onnx/graph-builder.js';
import { DataType, type DataTypeId, type Dim, encodeModel, type ValueInfoMsg } from '../onnx/onnx-proto.js';

/**
 * fp32: float32 weights and arithmetic. fp16-weights: weights stored as float16 and widened once at load (half the
 * file, float32 arithmetic). fp16: float16 weights, state and arithmetic (RMSNorm statistics in float32), for GPU
 * providers; logits and q_halt are still float32.
 */
export type GraphDtype = 'fp32' | 'fp16-weights' | 'fp16';
export const GRAPH_DTYPES: readonly GraphDtype[] = ['fp32', 'fp16-weights', 'fp16'];

/**
 * Op choices, measured per execution provider (README "Op choices"):
 * - norm: `decomposed` = Pow/ReduceMean/Add/Sqrt/Div (fused by ORT's CPU optimiser), `op` = RMSNormalization (opset 23),
 *   `skip` = the residual add and the norm over the last axis as one com.microsoft.SkipSimplifiedLayerNormalization
 *   (the MLP-mixer's norm over the sequence stays `op`'s form), `stats` = ONNX Runtime's SimplifiedLayerNormalization
 *   with its inverse-RMS output, which the training graph's gradient rule reads (the broadcast MLP-mixer's norm over
 *   the sequence between two transposes).
 * - attention: `decomposed` = MatMul/Softmax/MatMul, `mha` = com.microsoft.MultiHeadAttention.
 * - swiglu: `fused` = one MatMul for [gate | up] then Split, `split` = two MatMuls.
 * - rope (with attention = mha): `decomposed` (absent) = Split/Neg/Concat/Mul/Add per tensor, `op` = one
 *   com.microsoft.RotaryEmbedding for q and one for k (half-size tables; q's pre-scaled as in the decomposed form).
 * - mlpT (MLP-mixer only): `broadcast` = the weights multiply [B, L, D] from the left (no transposes),
 *   `transpose` = as the reference, [B, D, L] through a linear layer over L, then back.
 * - silu: `decomposed` (absent) = Sigmoid and Mul, `op` = one com.microsoft.QuickGelu at alpha 1.
 * - mlpTPad (MLP-mixer, broadcast form): `none` (absent), `align8` = the token mix's products over the sequence
 *   run on the state and weights padded with zeros to a multiple of 8 positions (97 -> 104 for sudoku), so that
 *   float16 matrix products see aligned leading dimensions; the same values.
 * - seqNorm (MLP-mixer, broadcast form): the norm over the sequence axis, `decomposed` (absent) = the state widened
 *   to float32, then Pow/ReduceMean/Add/Sqrt/Div and narrowed back (five passes over a float32 state), `l2` = one
 *   ReduceL2 over the sequence in the compute type (ONNX Runtime accumulates float16 reductions in float32), the
 *   [B, 1, D] statistic rms = sqrt(l2^2 / L + eps) in float32, and one Div of the state.
 */
export interface OpChoice {
  norm: 'decomposed' | 'op' | 'skip' | 'stats';
  attention: 'decomposed' | 'mha';
  swiglu: 'fused' | 'split';
  mlpT: 'broadcast' | 'transpose';
  /** absent: decomposed (the graphs written before this choice existed keep their bytes) */
  rope?: 'decomposed' | 'op';
  /** absent: decomposed */
  silu?: 'decomposed' | 'op';
  /** absent: none */
  mlpTPad?: 'none' | 'align8';
  /** absent: decomposed */
  seqNorm?: 'decomposed' | 'l2';
}
export const DEFAULT_OPS: OpChoice = { norm: 'op', attention: 'mha', swiglu: 'split', mlpT: 'broadcast' };

export interface StepGraphOptions {
  dtype?: GraphDtype;
  ops?: Partial<OpChoice>;
  /** extra metadata_props (e.g. the source model's name) */
  metadata?: Record<string, string>;
  /** called after each unrolled application of the shared network (done of total) */
  onProgress?: (done: number, total: number) => void;
}

// biome-ignore lint/suspicious/noApproximativeNumericConstant: the reference's literal, which is not exactly 1/sqrt(2)
const LEARNED_POS_SCALE = 0.707106781;

interface Ctx {
  g: GraphBuilder;
  c: ModelConfig;
  ops: OpChoice;
  dtype: GraphDtype;
  /** element type of the arithmetic */
  ct: DataTypeId;
  /** RoPE tables for q (pre-scaled by 1/sqrt(head_dim) when that is exact) and k, or null */
  rope: {
    cosQ: string;
    sinQ: string;
    cosK: string;
    sinK: string;
    qScaled: boolean;
    /** rope = op: [L, hd/2] caches of RotaryEmbedding (q's pre-scaled like cosQ) and its position offset */
    half?: { cosQ: string; sinQ: string; cosK: string; sinK: string; positions: string };
  } | null;
  /** weights already in the graph: stored name -> value in the compute type (the shared net is used many times) */
  cache: Map<string, string>;
  weights: NamedArrays;
  /**
   * Tensors that are graph inputs (PyTorch layout, float32) instead of constants: the trained parameters of a
   * training graph. Their transposed and sliced forms are computed in the graph.
   */
  inputs: ReadonlySet<string>;
}

/** How a stored tensor is used: rows [from, to) of it, transposed (2-D), reshaped, its columns padded with zeros. */
interface WeightView {
  rows?: [number, number];
  transpose?: boolean;
  dims?: number[];
  /** zero columns appended (2-D, not with transpose or dims) */
  padCols?: number;
}

/**
 * The value of a stored tensor (by reference name) in the compute type, in the form `view` asks for. A constant is
 * stored already in that form; a graph input (training) is sliced, transposed and reshaped in the graph.
 */
function weight(x: Ctx, name: string, view: WeightView = {}): string {
  const value = storedView(x, name, view);
  // A float32 master weight in a lower-precision graph: one cast per use, so that the gradients of the uses are
  // widened to float32 before they are summed (as autocast does).
  return x.inputs.has(name) && x.ct !== DataType.FLOAT ? x.g.op('Cast', [value], { to: x.ct }, 'w16') : value;
}

/** The view of `weight`, built once per label: a constant in the compute type, or a graph input's float32 view. */
function storedView(x: Ctx, name: string, view: WeightView): string {
  const { rows, transpose, dims, padCols = 0 } = view;
  const label = `${name}${rows ? `[${rows[0]}:${rows[1]}]` : ''}${transpose ? '^T' : ''}${dims ? `{${dims}}` : ''}${padCols ? `+${padCols}` : ''}`;
  const known = x.cache.get(label);
  if (known) return known;
  const t = tensor(x.weights, name);
  const rowSize = t.shape.slice(1).reduce((a, b) => a * b, 1);
  const [from, to] = rows ?? [0, t.shape[0]!];
  const sliced = [to - from, ...t.shape.slice(1)];
  const shape = dims ?? (transpose ? [sliced[1]!, sliced[0]!] : padCols ? [sliced[0]!, sliced[1]! + padCols] : sliced);
  let value: string;
  if (x.inputs.has(name)) {
    const { g } = x;
    value = name;
    if (rows) value = g.op('Slice', [value, g.ints([from]), g.ints([to]), g.ints([0])]);
    if (transpose) value = g.op('Transpose', [value], { perm: [1, 0] });
    if (dims) value = g.op('Reshape', [value, g.ints(dims)]);
    if (padCols) value = g.op('Pad', [value, g.ints([0, 0, 0, padCols])]);
  } else {
    let data = t.data.subarray(from * rowSize, to * rowSize);
    if (transpose) data = transpose2d(data, sliced[0]!, sliced[1]!);
    if (padCols) data = padColumns(data, sliced[0]!, sliced[1]!, padCols);
    if (x.dtype === 'fp32') value = x.g.initializer(label, shape, DataType.FLOAT, data);
    else {
      const stored = x.g.initializer(label, shape, DataType.FLOAT16, f32ToF16(data));
      value = x.dtype === 'fp16' ? stored : x.g.op('Cast', [stored], { to: DataType.FLOAT }, 'w32');
    }
  }
  x.cache.set(label, value);
  return value;
}

/** A scalar constant in the compute type. */
function scalar(x: Ctx, value: number): string {
  return x.g.scalar(value, x.ct);
}

/** [rows, cols] row-major -> [rows, cols + pad] with zeros in the new columns. */
function padColumns(data: Float32Array, rows: number, cols: number, pad: number): Float32Array {
  const out = new Float32Array(rows * (cols + pad));
  for (let r = 0; r < rows; r++) out.set(data.subarray(r * cols, (r + 1) * cols), r * (cols + pad));
  return out;
}

/** [rows, cols] row-major -> [cols, rows]: PyTorch's [out, in] linear weights become MatMul's [in, out]. */
function transpose2d(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let k = 0; k < cols; k++) out[k * rows + r] = data[r * cols + k]!;
  return out;
}

function tensor(weights: NamedArrays, name: string): { shape: number[]; data: Float32Array } {
  const t = weights[name];
  if (!t) throw new Error(`weights lack tensor ${name}`);
  return t;
}

/** MatMul by a PyTorch linear weight [out, in] (stored transposed); rows [from, to) of it when given. */
function linear(x: Ctx, input: string, name: string, rows?: [number, number]): string {
  return x.g.op('MatMul', [input, weight(x, name, { rows, transpose: true })]);
}

/** Ones of length `size` in the compute type: the scale of the norm ops, which TRM's gain-free norm leaves at 1. */
function normOnes(x: Ctx, size: number): string {
  const name = `rms_ones_${size}`;
  const ones =
    x.cache.get(name) ??
    (x.ct === DataType.FLOAT
      ? x.g.initializer(name, [size], DataType.FLOAT, new Float32Array(size).fill(1))
      : x.g.initializer(name, [size], DataType.FLOAT16, f32ToF16(new Float32Array(size).fill(1))));
  x.cache.set(name, ones);
  return ones;
}

/** rmsNorm(a + b) over `axis`: one SkipSimplifiedLayerNormalization under norm = skip (last axis only). */
function residualNorm(x: Ctx, a: string, b: string, axis: number, size = x.c.hidden_size): string {
  if (x.ops.norm !== 'skip' || axis !== -1) return rmsNorm(x, x.g.op('Add', [a, b]), axis, size);
  const out = x.g.op(
    'SkipSimplifiedLayerNormalization',
    [a, b, normOnes(x, size)],
    { epsilon: { float: x.c.rms_norm_eps } },
    'rms',
  );
  x.g.nodes.at(-1)!.domain = 'com.microsoft';
  x.g.domains.add('com.microsoft');
  return out;
}

/** RMSNorm without gain over `axis` (TRM-SPEC §1.5); statistics in float32 whatever the compute type. */
function rmsNorm(x: Ctx, input: string, axis: number, size = x.c.hidden_size): string {
  const { g, c } = x;
  if (x.ops.norm === 'stats') {
    // Another axis is moved last and back: two fp16 transposes cost less than the decomposed float32 form.
    const rank = 3; // every normalised value is a state [B, L, D] (or [B, D, L])
    const at = axis < 0 ? axis + rank : axis;
    const perm = Array.from({ length: rank }, (_, i) => (i === at ? rank - 1 : i === rank - 1 ? at : i));
    const moved = at === rank - 1 ? input : g.op('Transpose', [input], { perm });
    const [y] = g.node(
      'SimplifiedLayerNormalization',
      [moved, normOnes(x, size)],
      { axis: -1, epsilon: { float: c.rms_norm_eps }, stash_type: 1 },
      { outputs: 2, hint: 'rms' },
    ) as [string, string];
    return at === rank - 1 ? y : g.op('Transpose', [y], { perm });
  }
  if ((x.ops.norm === 'op' || x.ops.norm === 'skip') && axis === -1) {
    // RMSNormalization requires a scale; ones keep TRM's gain-free norm. Stored in the compute type, never widened.
    const ones = normOnes(x, size);
    return g.op(
      'RMSNormalization',
      [input, ones],
      { axis: -1, epsilon: { float: c.rms_norm_eps }, stash_type: 1 },
      'rms',
    );
  }
  if (x.ops.seqNorm === 'l2' && axis !== -1) {
    // The root of the sum of squares stays finite in float16 (at most 65504 * sqrt(L) before it would not); its
    // square, the mean and eps are taken in float32 on the small [B, 1, D] statistic.
    const l2 = g.op('ReduceL2', [input, g.ints([axis])], { keepdims: 1 });
    const l2f = x.ct === DataType.FLOAT ? l2 : g.op('Cast', [l2], { to: DataType.FLOAT });
    const meanSq = g.op('Mul', [g.op('Mul', [l2f, l2f]), g.scalar(1 / size)]);
    const rms = g.op('Sqrt', [g.op('Add', [meanSq, g.scalar(c.rms_norm_eps)])]);
    return g.op('Div', [input, x.ct === DataType.FLOAT ? rms : g.op('Cast', [rms], { to: x.ct })], {}, 'rms');
  }
  const h = x.ct === DataType.FLOAT ? input : g.op('Cast', [input], { to: DataType.FLOAT });
  const sq = g.op('Pow', [h, g.scalar(2)]);
  const mean = g.op('ReduceMean', [sq, g.ints([axis])], { keepdims: 1 });
  const std = g.op('Sqrt', [g.op('Add', [mean, g.scalar(c.rms_norm_eps)])]);
  const y = g.op('Div', [h, std], {}, 'rms');
  return x.ct === DataType.FLOAT ? y : g.op('Cast', [y], { to: x.ct });
}

/** silu(gate) * up for [gate | up] along `axis`. */
function gatedSilu(x: Ctx, gate: string, up: string): string {
  const { g } = x;
  if (x.ops.silu === 'op') {
    const silu = g.op('QuickGelu', [gate], { alpha: { float: 1 } }, 'silu');
    g.nodes.at(-1)!.domain = 'com.microsoft';
    g.domains.add('com.microsoft');
    return g.op('Mul', [silu, up]);
  }
  return g.op('Mul', [g.op('Mul', [gate, g.op('Sigmoid', [gate])]), up]);
}

/** Channel SwiGLU over the last axis: down(silu(gate) * up), [gate | up] = gate_up(h). */
function swiglu(x: Ctx, h: string, prefix: string): string {
  const gu = `${prefix}.gate_up_proj.weight`;
  const I = tensor(x.weights, gu).shape[0]! / 2;
  let act: string;
  if (x.ops.swiglu === 'split') {
    act = gatedSilu(x, linear(x, h, gu, [0, I]), linear(x, h, gu, [I, 2 * I]));
  } else {
    const both = linear(x, h, gu);
    const [gate, up] = x.g.node('Split', [both, x.g.ints([I, I])], { axis: -1 }, { outputs: 2 }) as [string, string];
    act = gatedSilu(x, gate, up);
  }
  return linear(x, act, `${prefix}.down_proj.weight`);
}

/**
 * The MLP-mixer's SwiGLU over the sequence for h [B, L, D]: W_gate_up [2I, L] @ h and W_down [L, I] @ act, so no
 * transpose is needed (the reference transposes to [B, D, L] and applies a linear layer; the products are the same).
 */
function sequenceSwiglu(x: Ctx, h: string, prefix: string): string {
  const { g } = x;
  const gu = `${prefix}.gate_up_proj.weight`;
  const I = tensor(x.weights, gu).shape[0]! / 2;
  const L = stateLen(x.c);
  const pad = x.ops.mlpTPad === 'align8' && L % 8 !== 0 ? 8 - (L % 8) : 0;
  // zero columns in the weights (padded once per graph) meet zero rows in the state: the products are unchanged
  const wg = weight(x, gu, { rows: [0, I], padCols: pad });
  const wu = weight(x, gu, { rows: [I, 2 * I], padCols: pad });
  const hs = pad > 0 ? g.op('Pad', [h, g.ints([0, 0, 0, 0, pad, 0])]) : h;
  const act = gatedSilu(x, g.op('MatMul', [wg, hs]), g.op('MatMul', [wu, hs]));
  return g.op('MatMul', [weight(x, `${prefix}.down_proj.weight`), act]);
}

/** rotate_half(t) * sin + t * cos over the last axis (TRM-SPEC §1.4). */
function applyRope(x: Ctx, t: string, cos: string, sin: string): string {
  const { g } = x;
  const hd = x.c.hidden_size / x.c.num_heads;
  const [t1, t2] = g.node('Split', [t, g.ints([hd / 2, hd / 2])], { axis: -1 }, { outputs: 2 }) as [string, string];
  const rotated = g.op('Concat', [g.op('Neg', [t2]), t1], { axis: -1 });
  return g.op('Add', [g.op('Mul', [t, cos]), g.op('Mul', [rotated, sin])]);
}

/** Bidirectional attention without mask, fused QKV rows Q | K | V, RoPE on Q and K, then o_proj. */
function attention(x: Ctx, h: string, prefix: string): string {
  const { g, c } = x;
  const H = c.num_heads;
  const D = c.hidden_size;
  const hd = D / H;
  const qkv = linear(x, h, `${prefix}.qkv_proj.weight`);
  const scale = 1 / Math.sqrt(hd);
  let out: string;
  if (x.ops.attention === 'mha') {
    // [B, L, 3H, hd] -> q, k, v each [B, L, H, hd]; RoPE tables broadcast as [L, 1, hd].
    const split = g.op('Reshape', [qkv, g.ints([0, 0, 3 * H, hd])]);
    let [q, k, v] = g.node('Split', [split, g.ints([H, H, H])], { axis: 2 }, { outputs: 3 }) as [
      string,
      string,
      string,
    ];
    const flat = (t: string) => g.op('Reshape', [t, g.ints([0, 0, D])]);
    let [qf, kf] = [q, k];
    if (x.rope?.half) {
      // [B, L, D] in and out, rotate-half form (interleaved = 0), positions 0..L-1
      const h = x.rope.half;
      const rotary = (t: string, cos: string, sin: string) => {
        const out = g.op('RotaryEmbedding', [flat(t), h.positions, cos, sin], { num_heads: H, interleaved: 0 }, 'rope');
        g.nodes.at(-1)!.domain = 'com.microsoft';
        g.domains.add('com.microsoft');
        return out;
      };
      qf = rotary(q, h.cosQ, h.sinQ);
      kf = rotary(k, h.cosK, h.sinK);
    } else {
      if (x.rope) {
        q = applyRope(x, q, x.rope.cosQ, x.rope.sinQ);
        k = applyRope(x, k, x.rope.cosK, x.rope.sinK);
      }
      qf = flat(q);
      kf = flat(k);
    }
    out = g.op(
      'MultiHeadAttention',
      [qf, kf, flat(v)],
      { num_heads: H, scale: { float: x.rope?.qScaled ? 1 : scale } },
      'mha',
    );
    g.nodes.at(-1)!.domain = 'com.microsoft';
    g.domains.add('com.microsoft');
  } else {
    // [B, L, 3H, hd] -> [B, 3H, L, hd] -> q, k, v each [B, H, L, hd]; RoPE tables [L, hd].
    const heads = g.op('Transpose', [g.op('Reshape', [qkv, g.ints([0, 0, 3 * H, hd])])], { perm: [0, 2, 1, 3] });
    let [q, k, v] = g.node('Split', [heads, g.ints([H, H, H])], { axis: 1 }, { outputs: 3 }) as [
      string,
      string,
      string,
    ];
    if (x.rope) {
      q = applyRope(x, q, x.rope.cosQ, x.rope.sinQ);
      k = applyRope(x, k, x.rope.cosK, x.rope.sinK);
    }
    if (!x.rope?.qScaled) q = g.op('Mul', [q, scalar(x, scale)]);
    const scores = g.op('MatMul', [q, g.op('Transpose', [k], { perm: [0, 1, 3, 2] })]);
    const probs = g.op('Softmax', [scores], { axis: -1 });
    const o = g.op('Transpose', [g.op('MatMul', [probs, v])], { perm: [0, 2, 1, 3] });
    out = g.op('Reshape', [o, g.ints([0, 0, D])]);
  }
  return linear(x, out, `${prefix}.o_proj.weight`);
}

/** One post-norm block (TRM-SPEC §1.5). */
function block(x: Ctx, h: string, layer: number): string {
  const { g } = x;
  const p = `L_level.layers.${layer}`;
  let out: string;
  if (x.c.mlp_t && x.ops.mlpT === 'transpose') {
    // As the reference: u = h^T [B, D, L], a linear layer over L, the norm over L (last axis), then back.
    const u = g.op('Transpose', [h], { perm: [0, 2, 1] });
    const mixed = residualNorm(x, u, swiglu(x, u, `${p}.mlp_t`), -1, stateLen(x.c));
    out = g.op('Transpose', [mixed], { perm: [0, 2, 1] });
  } else if (x.c.mlp_t) {
    // The MLP-mixer normalises over the sequence (axis 1 of [B, L, D]).
    out = rmsNorm(x, g.op('Add', [h, sequenceSwiglu(x, h, `${p}.mlp_t`)]), 1, stateLen(x.c));
  } else {
    out = residualNorm(x, h, attention(x, h, `${p}.self_attn`), -1);
  }
  return residualNorm(x, out, swiglu(x, out, `${p}.mlp`), -1);
}

/** L_level(h, injection) = blocks(h + injection) (TRM-SPEC §1.6). */
function reasoningModule(x: Ctx, h: string, injection: string): string {
  let out = x.g.op('Add', [h, injection]);
  for (let i = 0; i < x.c.L_layers; i++) out = block(x, out, i);
  return out;
}

/** RoPE tables as graph constants: [L, hd] for the decomposed attention, [L, 1, hd] for MultiHeadAttention. */
function ropeConstants(x: Ctx): Ctx['rope'] {
  const c = x.c;
  if (c.pos_encodings !== 'rope') return null;
  const L = stateLen(c);
  const hd = c.hidden_size / c.num_heads;
  const t = ropeTables(L, hd, c.rope_theta);
  const scale = 1 / Math.sqrt(hd);
  // Folding the score scale into q's tables is exact when it is a power of two (head_dim 4, 16, 64, 256).
  const qScaled = Number.isInteger(Math.log2(scale));
  const dims = x.ops.attention === 'mha' ? [L, 1, hd] : [L, hd];
  const add = (name: string, data: Float32Array) =>
    x.ct === DataType.FLOAT
      ? x.g.initializer(name, dims, DataType.FLOAT, data)
      : x.g.initializer(name, dims, DataType.FLOAT16, f32ToF16(data));
  const scaled = (a: Float32Array) => (qScaled ? a.map((v) => v * scale) : a);
  if (x.ops.rope === 'op' && x.ops.attention === 'mha') {
    // RotaryEmbedding's caches hold the first half of each row (the two halves of the tables are equal).
    const halfOf = (a: Float32Array) => {
      const out = new Float32Array(L * (hd / 2));
      for (let t = 0; t < L; t++) out.set(a.subarray(t * hd, t * hd + hd / 2), t * (hd / 2));
      return out;
    };
    const cache = (name: string, data: Float32Array) =>
      x.ct === DataType.FLOAT
        ? x.g.initializer(name, [L, hd / 2], DataType.FLOAT, data)
        : x.g.initializer(name, [L, hd / 2], DataType.FLOAT16, f32ToF16(data));
    const positions = x.g.initializer('rope_position_offset', [1], DataType.INT64, new BigInt64Array([0n]));
    const half = {
      cosQ: cache('rope_cos_q_half', halfOf(scaled(t.cos))),
      sinQ: cache('rope_sin_q_half', halfOf(scaled(t.sin))),
      cosK: cache('rope_cos_half', halfOf(t.cos)),
      sinK: cache('rope_sin_half', halfOf(t.sin)),
      positions,
    };
    return { cosQ: '', sinQ: '', cosK: '', sinK: '', qScaled, half };
  }
  return {
    cosQ: add('rope_cos_q', scaled(t.cos)),
    sinQ: add('rope_sin_q', scaled(t.sin)),
    cosK: add('rope_cos', t.cos),
    sinK: add('rope_sin', t.sin),
    qScaled,
  };
}

/** Checks that `weights` holds every tensor of the config with its shape. */
function checkWeights(config: ModelConfig, weights: NamedArrays): void {
  for (const spec of checkpointTensors(config)) {
    if (spec.name === 'puzzle_emb.weights') continue; // gathered by the host, not part of the graph
    const t = weights[spec.name];
    if (!t) throw new Error(`weights lack tensor ${spec.name} (shape [${spec.shape.join(', ')}])`);
    if (t.shape.length !== spec.shape.length || t.shape.some((d, i) => d !== spec.shape[i]))
      throw new Error(`${spec.name} has shape [${t.shape.join(', ')}], the config implies [${spec.shape.join(', ')}]`);
    if (t.data.length !== spec.shape.reduce((a, b) => a * b, 1))
      throw new Error(`${spec.name}: ${t.data.length} values for shape [${spec.shape.join(', ')}]`);
  }
}

/** The values of one supervision step inside a graph under construction. */
export interface StepValues {
  zH: string;
  zL: string;
  /** [B, S, V] in the compute type */
  logits: string;
  /** [B, 1, 1] in the compute type */
  qHalt: string;
}

export interface BuildStepOptions {
  dtype: GraphDtype;
  ops: OpChoice;
  /** trained tensors that are graph inputs under their reference names (training graphs) */
  inputs?: ReadonlySet<string>;
  /**
   * The carry inputs z_h and z_l are float32 whatever the compute type (training graphs keep float32 inputs and
   * cast inside); the returned zH and zL are in the compute type.
   */
  float32State?: boolean;
  /**
   * Training: the first H_cycles - 1 recursions carry no gradient (their results pass through stopGradient), as
   * the reference runs them under torch.no_grad() (TRM-SPEC §2).
   */
  truncateGradient?: boolean;
  /**
   * With truncateGradient: the op forms of the first H_cycles - 1 recursions, which no gradient flows through, so
   * they need no gradient rules (e.g. the fused RMSNormalization). Only norm, swiglu, mlpT and silu may differ from `ops`
   * (the attention form decides the shape of the RoPE tables both parts share).
   */
  noGradOps?: Partial<Pick<OpChoice, 'norm' | 'swiglu' | 'mlpT' | 'silu' | 'mlpTPad'>>;
  onProgress?: (done: number, total: number) => void;
}

/** `ops` with the no-gradient part's choices; any other key is refused. */
function noGradChoice(ops: OpChoice, change: Partial<OpChoice>): OpChoice {
  for (const key of Object.keys(change))
    if (!['norm', 'swiglu', 'mlpT', 'silu', 'mlpTPad'].includes(key))
      throw new Error(`noGradOps may change norm, swiglu, mlpT, silu and mlpTPad only (got ${key})`);
  return { ...ops, ...change };
}

/**
 * Appends one supervision step (TRM-SPEC §1-2) to `g`, reading the inputs named by the step-graph contract
 * (tokens, puzzle_emb, reset, z_h, z_l), and returns its values.
 */
export function buildStep(g: GraphBuilder, config: ModelConfig, weights: NamedArrays, o: BuildStepOptions): StepValues {
  checkWeights(config, weights);
  const ct = o.dtype === 'fp16' ? DataType.FLOAT16 : DataType.FLOAT;
  const x: Ctx = {
    g,
    c: config,
    ops: o.ops,
    dtype: o.dtype,
    ct,
    rope: null,
    cache: new Map(),
    weights,
    inputs: o.inputs ?? new Set(),
  };
  x.rope = ropeConstants(x);
  const D = config.hidden_size;
  const L = stateLen(config);
  const P = puzzleEmbLen(config);
  const E = config.puzzle_emb_ndim;

  // Input embedding (TRM-SPEC §1.3): x = sqrt(D) * concat(puzzle prefix, token embeddings).
  let xs = g.op('Gather', [weight(x, 'embed_tokens.embedding_weight'), STEP_INPUTS.tokens], { axis: 0 });
  if (P > 0) {
    let pe = ct === DataType.FLOAT ? STEP_INPUTS.puzzleEmb : g.op('Cast', [STEP_INPUTS.puzzleEmb], { to: ct });
    if (P * D > E) pe = g.op('Pad', [pe, g.ints([0, 0, 0, P * D - E])]);
    xs = g.op('Concat', [g.op('Reshape', [pe, g.ints([0, P, D])]), xs], { axis: 1 });
  }
  if (config.pos_encodings === 'learned') {
    const added = g.op('Add', [xs, weight(x, 'embed_pos.embedding_weight')]);
    xs = g.op('Mul', [added, scalar(x, LEARNED_POS_SCALE)]);
  }
  xs = g.op('Mul', [xs, scalar(x, Math.sqrt(D))], {}, 'x');

  // Reset: rows where `reset` is true start from H_init / L_init (TRM-SPEC §2).
  const mask = g.op('Reshape', [STEP_INPUTS.reset, g.ints([-1, 1, 1])]);
  const init = (name: string) => weight(x, name, { dims: [1, 1, D] });
  const carried = (name: string) => (o.float32State && ct !== DataType.FLOAT ? g.op('Cast', [name], { to: ct }) : name);
  let zH = g.op('Where', [mask, init('H_init'), carried(STEP_INPUTS.zH)], {}, 'z_h');
  let zL = g.op('Where', [mask, init('L_init'), carried(STEP_INPUTS.zL)], {}, 'z_l');

  // The recursion (TRM-SPEC §2): H_cycles times, L_cycles z_L updates then one z_H update.
  const calls = config.H_cycles * (config.L_cycles + 1);
  let done = 0;
  const progress = () => o.onProgress?.(++done, calls);
  const noGradOps = o.truncateGradient && o.noGradOps ? noGradChoice(o.ops, o.noGradOps) : o.ops;
  for (let t = 0; t < config.H_cycles; t++) {
    x.ops = o.truncateGradient && t < config.H_cycles - 1 ? noGradOps : o.ops;
    if (o.truncateGradient && t === config.H_cycles - 1) {
      zH = g.stopGradient(zH);
      zL = g.stopGradient(zL);
    }
    for (let i = 0; i < config.L_cycles; i++) {
      zL = reasoningModule(x, zL, g.op('Add', [zH, xs]));
      progress();
    }
    zH = reasoningModule(x, zH, zL);
    progress();
  }

  // Heads (TRM-SPEC §1.7): logits from the grid positions, the halt logit from position 0.
  const grid = P > 0 ? g.op('Slice', [zH, g.ints([P]), g.ints([L]), g.ints([1])]) : zH;
  const logits = linear(x, grid, 'lm_head.weight');
  const first = g.op('Slice', [zH, g.ints([0]), g.ints([1]), g.ints([1])]); // [B, 1, D]
  const wHalt = weight(x, 'q_head.weight', { rows: [0, 1], transpose: true });
  const bHalt = weight(x, 'q_head.bias', { rows: [0, 1] });
  const qHalt = g.op('Add', [g.op('MatMul', [first, wHalt]), bHalt]); // [B, 1, 1]
  return { zH, zL, logits, qHalt };
}

/** The checksum of METADATA_KEYS.weightsSha256: SHA-256 (hex) of the initializers' raw_data in graph order. */
export function weightsSha256(rawData: Iterable<Uint8Array>): string {
  const hash = createHash('sha256');
  for (const bytes of rawData) hash.update(bytes);
  return hash.digest('hex');
}

/** Builds the step graph of a model and returns the bytes of its .onnx file. */
export function exportStepGraph(config: ModelConfig, weights: NamedArrays, options: StepGraphOptions = {}): Uint8Array {
  const dtype = options.dtype ?? 'fp32';
  const ops: OpChoice = { ...DEFAULT_OPS, ...options.ops };
  const g = new GraphBuilder();
  const ct = dtype === 'fp16' ? DataType.FLOAT16 : DataType.FLOAT;
  const D = config.hidden_size;
  const S = config.seq_len;
  const L = stateLen(config);
  const P = puzzleEmbLen(config);
  const E = config.puzzle_emb_ndim;
  const step = buildStep(g, config, weights, { dtype, ops, onProgress: options.onProgress });
  let { logits, qHalt } = step;
  if (ct !== DataType.FLOAT) {
    logits = g.op('Cast', [logits], { to: DataType.FLOAT });
    qHalt = g.op('Cast', [qHalt], { to: DataType.FLOAT });
  }
  g.node('Identity', [logits], {}, { outputs: [STEP_OUTPUTS.logits] });
  g.node('Reshape', [qHalt, g.ints([-1])], {}, { outputs: [STEP_OUTPUTS.qHalt] });
  g.node('Identity', [step.zH], {}, { outputs: [STEP_OUTPUTS.zH] });
  g.node('Identity', [step.zL], {}, { outputs: [STEP_OUTPUTS.zL] });

  const B: Dim = 'batch';
  const stateType = ct;
  const inputs: ValueInfoMsg[] = [{ name: STEP_INPUTS.tokens, elemType: DataType.INT64, shape: [B, S] }];
  if (P > 0) inputs.push({ name: STEP_INPUTS.puzzleEmb, elemType: DataType.FLOAT, shape: [B, E] });
  inputs.push(
    { name: STEP_INPUTS.reset, elemType: DataType.BOOL, shape: [B] },
    { name: STEP_INPUTS.zH, elemType: stateType, shape: [B, L, D] },
    { name: STEP_INPUTS.zL, elemType: stateType, shape: [B, L, D] },
  );
  const outputs: ValueInfoMsg[] = [
    { name: STEP_OUTPUTS.zH, elemType: stateType, shape: [B, L, D] },
    { name: STEP_OUTPUTS.zL, elemType: stateType, shape: [B, L, D] },
    { name: STEP_OUTPUTS.logits, elemType: DataType.FLOAT, shape: [B, S, config.vocab_size] },
    { name: STEP_OUTPUTS.qHalt, elemType: DataType.FLOAT, shape: [B] },
  ];
  return encodeModel({
    irVersion: IR_VERSION,
    opsets: opsetImports(g.domains),
    producerName: 'trm-exporter',
    producerVersion: ONNX_FORMAT_VERSION,
    docString: `TRM supervision step: ${config.task}, ${config.mlp_t ? 'MLP-mixer' : 'attention'}, D=${D}, T=${config.H_cycles}, n=${config.L_cycles}, ${dtype}`,
    graphName: 'trm_step',
    nodes: g.nodes,
    initializers: g.initializers,
    inputs,
    outputs,
    metadata: {
      ...options.metadata,
      [METADATA_KEYS.config]: JSON.stringify(config),
      [METADATA_KEYS.task]: config.task,
      [METADATA_KEYS.formatVersion]: ONNX_FORMAT_VERSION,
      [METADATA_KEYS.dtype]: dtype,
      [METADATA_KEYS.ops]: JSON.stringify(ops),
      [METADATA_KEYS.weightsSha256]: weightsSha256(g.initializers.map((t) => t.raw_data)),
    },
  });
}
