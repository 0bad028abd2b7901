// Evaluation on ONNX Runtime: the step graph of the weights to evaluate (exportStepGraph, float32) in a session of
// the training run's provider, driven batch by batch from a fresh carry (see evaluate/evaluate.ts).
import { type ModelConfig, type NamedArrays, stateLen } from '@trm/core';
import { exportStepGraph, STEP_INPUTS, STEP_OUTPUTS } from '@trm/graph';
import * as ort from 'onnxruntime-node';
import type { StepperFactory } from '../evaluate/evaluate.js';
import type { PuzzleTable } from '../model/puzzle-table.js';
import type { OrtStepOptions } from './train-step.js';
import { sessionOptions } from './train-step.js';

/** Index of the largest value of each row of `values` [rows, width] (first index on ties, as argmax). */
export function argmaxRows(values: Float32Array, width: number): Int32Array {
  const rows = values.length / width;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    let bestValue = values[r * width]!;
    for (let k = 1; k < width; k++) {
      const v = values[r * width + k]!;
      if (v > bestValue) {
        bestValue = v;
        best = k;
      }
    }
    out[r] = best;
  }
  return out;
}

export class OrtEvalSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly config: ModelConfig,
  ) {}

  /** `weights`: every tensor of the model but the puzzle table (the host gathers its rows). */
  static async create(config: ModelConfig, weights: NamedArrays, o: OrtStepOptions): Promise<OrtEvalSession> {
    const bytes = exportStepGraph(config, weights, { dtype: 'fp32' });
    const session = await ort.InferenceSession.create(bytes, sessionOptions(o));
    return new OrtEvalSession(session, config);
  }

  stepper(table: PuzzleTable | null): StepperFactory {
    const c = this.config;
    const S = c.seq_len;
    const L = stateLen(c);
    const D = c.hidden_size;
    return (batch, ids) => {
      const B = batch.puzzleIds.length;
      const tokens = new ort.Tensor(
        'int64',
        BigInt64Array.from(batch.inputs, (v) => BigInt(v)),
        [B, S],
      );
      const rows = table ? new ort.Tensor('float32', table.gather(ids), [B, c.puzzle_emb_ndim]) : null;
      let zH: ort.Tensor = new ort.Tensor('float32', new Float32Array(B * L * D), [B, L, D]);
      let zL: ort.Tensor = new ort.Tensor('float32', new Float32Array(B * L * D), [B, L, D]);
      let first = true;
      return {
        next: async () => {
          const feeds: Record<string, ort.Tensor> = {
            [STEP_INPUTS.tokens]: tokens,
            [STEP_INPUTS.reset]: new ort.Tensor('bool', new Uint8Array(B).fill(first ? 1 : 0), [B]),
            [STEP_INPUTS.zH]: zH,
            [STEP_INPUTS.zL]: zL,
          };
          if (rows) feeds[STEP_INPUTS.puzzleEmb] = rows;
          first = false;
          const out = await this.session.run(feeds);
          zH = out[STEP_OUTPUTS.zH]!;
          zL = out[STEP_OUTPUTS.zL]!;
          const logits = out[STEP_OUTPUTS.logits]!.data as Float32Array;
          return { pred: argmaxRows(logits, c.vocab_size), qHalt: out[STEP_OUTPUTS.qHalt]!.data as Float32Array };
        },
        dispose: () => {},
      };
    };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
