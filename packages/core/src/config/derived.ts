// Sizes derived from a model config, defined once: the SwiGLU widths with the reference's rounding,
// the prefix length, and the names and shapes of every tensor in a checkpoint (TRM-SPEC §1.2, §8).
import type { ModelConfig } from './types.js';

/** Python's round(): halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Intermediate width of SwiGLU(hidden, expansion): ceil_to_multiple(round(expansion * hidden * 2 / 3), 256). */
export function swigluIntermediate(hidden: number, expansion: number): number {
  const raw = roundHalfEven((expansion * hidden * 2) / 3);
  return Math.ceil(raw / 256) * 256;
}

/** Number of prefix positions reserved for the puzzle embedding (P). */
export function puzzleEmbLen(c: ModelConfig): number {
  if (c.puzzle_emb_ndim === 0) return 0;
  return c.puzzle_emb_len > 0 ? c.puzzle_emb_len : Math.ceil(c.puzzle_emb_ndim / c.hidden_size);
}

/** Length of the recurrent state: task cells plus the puzzle prefix (L = seq_len + P). */
export function stateLen(c: ModelConfig): number {
  return c.seq_len + puzzleEmbLen(c);
}

export function headDim(c: ModelConfig): number {
  return c.hidden_size / c.num_heads;
}

export interface TensorSpec {
  name: string;
  shape: number[];
  /** dtype in the reference checkpoint */
  dtype: 'float32' | 'bfloat16';
  /** 'param': trained by Adam and tracked by EMA; 'buffer': H_init/L_init/puzzle table */
  kind: 'param' | 'buffer';
}

/**
 * Every tensor of a TRM checkpoint in the reference's naming (without the `_orig_mod.model.inner.` prefix),
 * with PyTorch's [out, in] layout for linear weights.
 */
export function checkpointTensors(c: ModelConfig): TensorSpec[] {
  const D = c.hidden_size;
  const V = c.vocab_size;
  const L = stateLen(c);
  const I = swigluIntermediate(D, c.expansion);
  const out: TensorSpec[] = [
    { name: 'H_init', shape: [D], dtype: 'bfloat16', kind: 'buffer' },
    { name: 'L_init', shape: [D], dtype: 'bfloat16', kind: 'buffer' },
    { name: 'embed_tokens.embedding_weight', shape: [V, D], dtype: 'float32', kind: 'param' },
    { name: 'lm_head.weight', shape: [V, D], dtype: 'float32', kind: 'param' },
    { name: 'q_head.weight', shape: [2, D], dtype: 'float32', kind: 'param' },
    { name: 'q_head.bias', shape: [2], dtype: 'float32', kind: 'param' },
  ];
  if (c.puzzle_emb_ndim > 0)
    out.push({
      name: 'puzzle_emb.weights',
      shape: [c.num_puzzle_identifiers, c.puzzle_emb_ndim],
      dtype: 'float32',
      kind: 'buffer',
    });
  if (c.pos_encodings === 'learned')
    out.push({ name: 'embed_pos.embedding_weight', shape: [L, D], dtype: 'float32', kind: 'param' });
  for (let i = 0; i < c.L_layers; i++) {
    const p = `L_level.layers.${i}`;
    if (c.mlp_t) {
      const IL = swigluIntermediate(L, c.expansion);
      out.push(
        { name: `${p}.mlp_t.gate_up_proj.weight`, shape: [2 * IL, L], dtype: 'float32', kind: 'param' },
        { name: `${p}.mlp_t.down_proj.weight`, shape: [L, IL], dtype: 'float32', kind: 'param' },
      );
    } else {
      out.push(
        { name: `${p}.self_attn.qkv_proj.weight`, shape: [3 * D, D], dtype: 'float32', kind: 'param' },
        { name: `${p}.self_attn.o_proj.weight`, shape: [D, D], dtype: 'float32', kind: 'param' },
      );
    }
    out.push(
      { name: `${p}.mlp.gate_up_proj.weight`, shape: [2 * I, D], dtype: 'float32', kind: 'param' },
      { name: `${p}.mlp.down_proj.weight`, shape: [D, I], dtype: 'float32', kind: 'param' },
    );
  }
  return out;
}

/** Number of trained parameters (`model.parameters()` in the reference: no buffers). */
export function countParameters(c: ModelConfig): number {
  return checkpointTensors(c)
    .filter((t) => t.kind === 'param')
    .reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
}
