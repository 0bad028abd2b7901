// The block of TRM (TRM-SPEC §1.4-1.6) in tfjs, float32: weightless RMSNorm, SwiGLU with a [gate | up] split,
// bidirectional attention with RoPE (or the MLP-mixer over the sequence, mlp_t), post-norm residuals, and the
// reasoning module L_level(h, inj) = blocks(h + inj) that serves both the z_L and the z_H update.
import * as tf from '@tensorflow/tfjs';
import { linear, matmul } from '../ops/matmul.js';
import { param, type TrmNet } from './net.js';

/** x * rsqrt(mean(x^2) + eps) over the last axis. No gain: the reference's RMSNorm has none. */
export function rmsNorm(x: tf.Tensor, eps: number): tf.Tensor {
  return tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps)));
}

/**
 * down(silu(gate) * up) with [gate | up] = gate_up(x), the first half of gate_up's rows being the gate.
 * The weight is split rather than the activation: splitting the last axis of a large activation is slow on the
 * cpu backend (a strided copy per element), slicing the rows of a weight is a contiguous copy.
 */
export function swiglu(x: tf.Tensor, gateUp: tf.Tensor, down: tf.Tensor): tf.Tensor {
  const [wGate, wUp] = tf.split(gateUp, 2, 0) as [tf.Tensor, tf.Tensor];
  const gate = linear(x, wGate);
  return linear(tf.mul(tf.mul(gate, tf.sigmoid(gate)), linear(x, wUp)), down);
}

/**
 * rotate_half(x) = concat(-x2, x1) over the last axis, as a product with a signed permutation matrix [hd, hd]:
 * a plain matmul is fast on every backend, where slicing the last axis in halves is slow on cpu.
 */
export function rotateHalf(x: tf.Tensor): tf.Tensor {
  const hd = x.shape[x.rank - 1]!;
  const half = hd / 2;
  const r = new Float32Array(hd * hd);
  for (let e = 0; e < half; e++) {
    r[(e + half) * hd + e] = -1; // out[e] = -x[e + half]
    r[e * hd + e + half] = 1; // out[e + half] = x[e]
  }
  return matmul(x.reshape([-1, hd]), tf.tensor2d(r, [hd, hd])).reshape(x.shape);
}

/** RoPE in the rotate-half layout: x cos + rotate_half(x) sin, for x [B, H, L, hd] and tables [L, hd]. */
export function applyRope(x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor): tf.Tensor {
  return tf.add(tf.mul(x, cos), tf.mul(rotateHalf(x), sin));
}

/**
 * Bidirectional multi-head attention without mask. qkv rows are Q | K | V, each head a block of head_dim
 * consecutive rows; scores are scaled by 1/sqrt(head_dim).
 */
export function attention(net: TrmNet, prefix: string, h: tf.Tensor): tf.Tensor {
  const [B, L, D] = h.shape as [number, number, number];
  const heads = net.config.num_heads;
  const hd = D / heads;
  // Q, K, V from the row blocks of the fused weight, each to [B, heads, L, hd].
  const project = (w: tf.Tensor) => tf.transpose(linear(h, w).reshape([B, L, heads, hd]), [0, 2, 1, 3]);
  const [wq, wk, wv] = tf.split(param(net, `${prefix}.qkv_proj.weight`), 3, 0) as [tf.Tensor, tf.Tensor, tf.Tensor];
  let q = project(wq);
  let k = project(wk);
  const v = project(wv);
  if (net.rope) {
    q = applyRope(q, net.rope.cos, net.rope.sin);
    k = applyRope(k, net.rope.cos, net.rope.sin);
  }
  const scores = matmul(tf.mul(q, 1 / Math.sqrt(hd)), tf.transpose(k, [0, 1, 3, 2]));
  const out = matmul(tf.softmax(scores), v);
  return linear(tf.transpose(out, [0, 2, 1, 3]).reshape([B, L, D]), param(net, `${prefix}.o_proj.weight`));
}

/** One post-norm block. With mlp_t the token mixer is a SwiGLU over the sequence, normalised over the sequence. */
export function block(net: TrmNet, layer: number, h: tf.Tensor): tf.Tensor {
  const p = `L_level.layers.${layer}`;
  const eps = net.config.rms_norm_eps;
  let out: tf.Tensor;
  if (net.config.mlp_t) {
    const u = tf.transpose(h, [0, 2, 1]);
    const mixed = swiglu(u, param(net, `${p}.mlp_t.gate_up_proj.weight`), param(net, `${p}.mlp_t.down_proj.weight`));
    out = tf.transpose(rmsNorm(tf.add(u, mixed), eps), [0, 2, 1]);
  } else {
    out = rmsNorm(tf.add(h, attention(net, `${p}.self_attn`, h)), eps);
  }
  const mlp = swiglu(out, param(net, `${p}.mlp.gate_up_proj.weight`), param(net, `${p}.mlp.down_proj.weight`));
  return rmsNorm(tf.add(out, mlp), eps);
}

/** L_level(h, inj): the shared network applied to h + inj. */
export function reasoningModule(net: TrmNet, h: tf.Tensor, injection: tf.Tensor): tf.Tensor {
  let out = tf.add(h, injection);
  for (let i = 0; i < net.config.L_layers; i++) out = block(net, i, out);
  return out;
}
