// The block of TRM (TRM-SPEC §1.4-1.6) in tfjs, float32: weightless RMSNorm, SwiGLU with a [gate | up] split,
// bidirectional attention with RoPE (or the MLP-mixer over the sequence, mlp_t), post-norm residuals, and the
// reasoning module L_level(h, inj) = blocks(h + inj) that serves both the z_L and the z_H update.
import * as tf from '@tensorflow/tfjs';
import { linear, matmul } from '../autodiff/matmul.js';
import { param, type TrmNet } from './net.js';

/** x * rsqrt(mean(x^2) + eps) over the last axis. No gain: the reference's RMSNorm has none. */
export function rmsNorm(x: tf.Tensor, eps: number): tf.Tensor {
  return tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps)));
}

/** down(silu(gate) * up) with [gate | up] = gate_up(x), the first half of gate_up's rows being the gate. */
export function swiglu(x: tf.Tensor, gateUp: tf.Tensor, down: tf.Tensor): tf.Tensor {
  const [gate, up] = tf.split(linear(x, gateUp), 2, -1) as [tf.Tensor, tf.Tensor];
  return linear(tf.mul(tf.mul(gate, tf.sigmoid(gate)), up), down);
}

/** RoPE in the rotate-half layout: x cos + concat(-x2, x1) sin, for x [B, H, L, hd] and tables [L, hd]. */
export function applyRope(x: tf.Tensor, cos: tf.Tensor, sin: tf.Tensor): tf.Tensor {
  const [x1, x2] = tf.split(x, 2, -1) as [tf.Tensor, tf.Tensor];
  return tf.add(tf.mul(x, cos), tf.mul(tf.concat([tf.neg(x2), x1], -1), sin));
}

/**
 * Bidirectional multi-head attention without mask. qkv rows are Q | K | V, each head a block of head_dim
 * consecutive rows; scores are scaled by 1/sqrt(head_dim).
 */
export function attention(net: TrmNet, prefix: string, h: tf.Tensor): tf.Tensor {
  const [B, L, D] = h.shape as [number, number, number];
  const heads = net.config.num_heads;
  const hd = D / heads;
  const qkv = tf.transpose(
    linear(h, param(net, `${prefix}.qkv_proj.weight`)).reshape([B, L, 3 * heads, hd]),
    [0, 2, 1, 3],
  );
  let [q, k, v] = tf.split(qkv, 3, 1) as [tf.Tensor, tf.Tensor, tf.Tensor];
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
