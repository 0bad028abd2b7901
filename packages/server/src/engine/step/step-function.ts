// The step graph as a function (ARCHITECTURE.md "ONNX step graph"): tokens, puzzle_emb, reset and the state in;
// the next state, logits and q_halt out. The ONNX Runtime session implements it, and so does a small fake for tests.
// `H` is how the implementation holds state: typed arrays on the host, or device tensors JavaScript cannot read.
import type { RowLayout } from './plan.js';

/** Host state: float32, or float16 bits for graphs with fp16 state. */
export type StateArray = Float32Array | Uint16Array;

/** Sizes of the step graph's tensors. */
export interface StepShape {
  /** S: task cells */
  seqLen: number;
  /** L = S + puzzle prefix: rows of the state per puzzle */
  stateLen: number;
  /** D */
  hidden: number;
  /** E: length of a puzzle-embedding row, 0 when the graph has no puzzle_emb input */
  puzzleEmbDim: number;
  /** V */
  vocab: number;
}

export interface StepFeeds<H> {
  batch: number;
  /** [B, S] */
  tokens: BigInt64Array;
  /** [B, E], null when E = 0 */
  puzzleEmb: Float32Array | null;
  /** [B], 1 where the row starts from H_init/L_init */
  reset: Uint8Array;
  /** [B, L, D]; null for a batch in which every row resets (the function supplies any values of the right shape) */
  zH: H | null;
  zL: H | null;
  /** StepPlan.limits: lets a function of several steps per run end the run early (absent: all k steps) */
  limits?: { haltLogit: Float32Array; stepsLeft: Int32Array };
}

export interface StepOutputs<H> {
  zH: H;
  zL: H;
  /** [B, S, V]: the logits of a function of one step per run */
  logits?: Float32Array;
  /** [B, k', S]: the argmax answer after each step of a function of k steps per run (k' <= k: it ended early) */
  answers?: Uint8Array;
  /** [B, k']: the halt logit after each step */
  qHalt: Float32Array;
}

export interface StepFunction<H> {
  readonly shape: StepShape;
  /**
   * k: supervision steps one run takes (1: the exported step graph). Rows that reset do so at the first of them;
   * zH and zL come back after the last.
   */
  readonly stepsPerRun: number;
  /** `compact` when `gather` can move state rows, `fixed` when state cannot be rearranged */
  readonly layout: RowLayout;
  run(feeds: StepFeeds<H>): Promise<StepOutputs<H>>;
  /**
   * State whose row i is row from[i] of `h` (from[i] = -1: any values, that row resets). May reuse `h`'s memory;
   * the caller then no longer uses `h`. Present when layout is `compact`.
   */
  gather?(h: H, from: Int32Array): H;
  /** Frees state that will not be fed again (device memory); a no-op for host arrays. */
  release(h: H): void;
  dispose(): Promise<void>;
}
