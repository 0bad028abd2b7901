// A TRM model with its state: the parameters as tf.Variables under the reference's tensor names (PyTorch [out, in]
// layout), H_init/L_init as non-trainable variables, the puzzle table in host memory, and the RoPE tables.
// Creation follows the reference's initialisation (TRM-SPEC §1.2), seeded by core's Rng so it is reproducible.
import * as tf from '@tensorflow/tfjs';
import {
  checkpointTensors,
  type ModelConfig,
  type NamedArrays,
  puzzleEmbLen,
  Rng,
  stateLen,
  type TensorSpec,
} from '@trm/core';
import { toBfloat16, truncatedNormal } from './init.js';
import type { ParamSet, TrmNet } from './net.js';
import { PuzzleTable } from './puzzle-table.js';
import { ropeTables } from './rope.js';

export type { NamedArray, NamedArrays } from '@trm/core';

export const PUZZLE_TABLE_NAME = 'puzzle_emb.weights';

/** The reference initialisation of one tensor (std of its truncated normal, or a constant). */
function initialValues(spec: TensorSpec, config: ModelConfig, rng: Rng): Float32Array {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const D = config.hidden_size;
  switch (spec.name) {
    case 'H_init':
    case 'L_init':
      // The reference samples these bf16 buffers in bf16; we sample in float64 and round to bf16 values.
      return truncatedNormal(rng, n, 1).map(toBfloat16);
    case 'q_head.weight':
      return new Float32Array(n);
    case 'q_head.bias':
      return new Float32Array(n).fill(-5);
    case PUZZLE_TABLE_NAME:
      return new Float32Array(n);
    case 'embed_tokens.embedding_weight':
    case 'embed_pos.embedding_weight':
      return truncatedNormal(rng, n, 1 / Math.sqrt(D));
    default:
      // CastedLinear [out, in]: LeCun std 1/sqrt(in) (lm_head included).
      return truncatedNormal(rng, n, 1 / Math.sqrt(spec.shape[1]!));
  }
}

export class TrmModel implements TrmNet {
  readonly config: ModelConfig;
  readonly prefixLen: number;
  readonly rope: { cos: tf.Tensor2D; sin: tf.Tensor2D } | null;
  /** every checkpoint tensor except the puzzle table, by reference name */
  readonly variables: ReadonlyMap<string, tf.Variable>;
  readonly puzzleTable: PuzzleTable | null;
  /** names of the parameters trained by Adam and tracked by EMA (kind 'param'), in checkpoint order */
  readonly trainableNames: readonly string[];

  private constructor(config: ModelConfig, values: NamedArrays) {
    this.config = structuredClone(config);
    this.prefixLen = puzzleEmbLen(config);
    const specs = checkpointTensors(config);
    const vars = new Map<string, tf.Variable>();
    let table: PuzzleTable | null = null;
    for (const spec of specs) {
      const v = values[spec.name];
      if (!v) throw new Error(`weights lack ${spec.name} (expected shape [${spec.shape.join(', ')}])`);
      if (v.shape.length !== spec.shape.length || v.shape.some((d, i) => d !== spec.shape[i]))
        throw new Error(`${spec.name} must have shape [${spec.shape.join(', ')}] (got [${v.shape.join(', ')}])`);
      if (spec.name === PUZZLE_TABLE_NAME) {
        table = new PuzzleTable(spec.shape[0]!, spec.shape[1]!, v.data);
      } else {
        const initial = tf.tensor(v.data, spec.shape, 'float32');
        vars.set(spec.name, tf.variable(initial, spec.kind === 'param'));
        initial.dispose();
      }
    }
    this.variables = vars;
    this.puzzleTable = table;
    this.trainableNames = specs.filter((s) => s.kind === 'param').map((s) => s.name);
    if (config.pos_encodings === 'rope') {
      const hd = config.hidden_size / config.num_heads;
      const t = ropeTables(stateLen(config), hd, config.rope_theta);
      this.rope = { cos: tf.tensor2d(t.cos, [t.length, hd]), sin: tf.tensor2d(t.sin, [t.length, hd]) };
    } else {
      this.rope = null;
    }
  }

  /** A model with the reference initialisation, drawn from Rng(seed) in checkpoint order. */
  static create(config: ModelConfig, seed = 0): TrmModel {
    const rng = new Rng(seed);
    const values: NamedArrays = {};
    for (const spec of checkpointTensors(config))
      values[spec.name] = { shape: spec.shape, data: initialValues(spec, config, rng) };
    return new TrmModel(config, values);
  }

  /**
   * A model from weights under the reference names (e.g. a checkpoint); every tensor must be present. The puzzle
   * table's array is taken over, not copied (it can be gigabytes).
   */
  static fromWeights(config: ModelConfig, weights: NamedArrays): TrmModel {
    return new TrmModel(config, weights);
  }

  get params(): ParamSet {
    return Object.fromEntries(this.variables);
  }

  /** The same model with some parameters replaced (e.g. the EMA shadow for evaluation). */
  withParams(override: ParamSet): TrmNet {
    return { config: this.config, prefixLen: this.prefixLen, rope: this.rope, params: { ...this.params, ...override } };
  }

  trainableVariables(): tf.Variable[] {
    return this.trainableNames.map((n) => this.variables.get(n)!);
  }

  /** Every checkpoint tensor, puzzle table included, as float32 arrays under the reference names. */
  async exportWeights(): Promise<NamedArrays> {
    const out: NamedArrays = {};
    for (const [name, v] of this.variables)
      out[name] = { shape: v.shape.slice(), data: (await v.data()) as Float32Array };
    if (this.puzzleTable)
      out[PUZZLE_TABLE_NAME] = {
        shape: [this.puzzleTable.rows, this.puzzleTable.dim],
        data: this.puzzleTable.data.slice(),
      };
    return out;
  }

  /** Overwrites tensors by name (shapes must match); names not given keep their values. */
  importWeights(weights: NamedArrays): void {
    for (const [name, w] of Object.entries(weights)) {
      if (name === PUZZLE_TABLE_NAME) {
        if (!this.puzzleTable || w.data.length !== this.puzzleTable.data.length)
          throw new Error(`${name} must have shape [${this.puzzleTable?.rows}, ${this.puzzleTable?.dim}]`);
        this.puzzleTable.data.set(w.data);
        continue;
      }
      const v = this.variables.get(name);
      if (!v) throw new Error(`${name} is not a tensor of this model`);
      if (w.shape.length !== v.shape.length || w.shape.some((d, i) => d !== v.shape[i]))
        throw new Error(`${name} must have shape [${v.shape.join(', ')}] (got [${w.shape.join(', ')}])`);
      const value = tf.tensor(w.data, v.shape, 'float32');
      v.assign(value);
      value.dispose();
    }
  }

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
    if (this.rope) tf.dispose([this.rope.cos, this.rope.sin]);
  }
}
