// The plain supervision loop over a step graph: all puzzles in one batch, every step run for every row, each
// row's answer frozen at the step where it halted (or at maxSteps). It is the yardstick the server's batching
// engine is tested against, so it favours being obviously right over being fast.
import { type ModelConfig, stateLen } from '@trm/core';
import type * as ort from 'onnxruntime-node';
import { runStep } from '../runtime/ort-step.js';

export interface LoopPuzzle {
  tokens: ArrayLike<number>;
  puzzleEmb?: Float32Array;
}

export interface LoopOptions {
  /** 1..16 */
  maxSteps: number;
  /** halt once sigmoid(q_halt) > haltThreshold (>= 1: never) */
  haltThreshold: number;
}

export interface LoopAnswer {
  /** argmax of the logits at the step it stopped */
  tokens: Uint8Array;
  steps: number;
  haltProbability: number;
  halted: boolean;
  /** answer and halt probability after each step it ran */
  trace: { tokens: Uint8Array; haltProbability: number }[];
}

export const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** argmax over the vocabulary for every cell of row `b` (ties go to the first index, as in PyTorch). */
export function argmaxRow(logits: Float32Array, b: number, seqLen: number, vocab: number): Uint8Array {
  const out = new Uint8Array(seqLen);
  for (let i = 0; i < seqLen; i++) {
    const base = (b * seqLen + i) * vocab;
    let best = 0;
    for (let v = 1; v < vocab; v++) if (logits[base + v]! > logits[base + best]!) best = v;
    out[i] = best;
  }
  return out;
}

export async function referenceLoop(
  session: ort.InferenceSession,
  config: ModelConfig,
  puzzles: LoopPuzzle[],
  options: LoopOptions,
): Promise<LoopAnswer[]> {
  const B = puzzles.length;
  const size = B * stateLen(config) * config.hidden_size;
  let state: { zH: Float32Array; zL: Float32Array } = { zH: new Float32Array(size), zL: new Float32Array(size) };
  const answers: LoopAnswer[] = puzzles.map(() => ({
    tokens: new Uint8Array(config.seq_len),
    steps: 0,
    haltProbability: 0,
    halted: false,
    trace: [],
  }));
  const tokens = puzzles.map((p) => p.tokens);
  const puzzleEmb = puzzles.map((p) => p.puzzleEmb ?? new Float32Array(config.puzzle_emb_ndim));
  for (let step = 1; step <= options.maxSteps; step++) {
    const r = await runStep(session, config, {
      tokens,
      puzzleEmb,
      reset: Array(B).fill(step === 1),
      zH: state.zH,
      zL: state.zL,
    });
    state = r;
    answers.forEach((a, b) => {
      if (a.halted) return;
      a.steps = step;
      a.tokens = argmaxRow(r.logits, b, config.seq_len, config.vocab_size);
      a.haltProbability = sigmoid(r.qHalt[b]!);
      a.trace.push({ tokens: a.tokens, haltProbability: a.haltProbability });
      if (a.haltProbability > options.haltThreshold) a.halted = true;
    });
    if (answers.every((a) => a.halted)) break;
  }
  return answers;
}
