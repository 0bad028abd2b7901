// Evaluation of a model on a split (TRM-SPEC §7.1): every example runs halt_max_steps supervision steps from a
// fresh carry, as the reference's evaluation does, and the answer at the last step is scored (exact accuracy: every
// supervised cell right). Alongside, the answer at the first step whose halt logit is positive is scored too
// ("early halting", what a server would return), with the number of steps it used.
import * as tf from '@tensorflow/tfjs';
import type { HostBatch } from '../data/batch.js';
import { IGNORE_LABEL } from '../data/batch.js';
import type { SplitSource } from '../data/split.js';
import { testBatches } from '../data/test-batches.js';
import type { TrmNet } from '../model/net.js';
import type { PuzzleTable } from '../model/puzzle-table.js';
import { type Carry, initialCarry, supervisionStep } from '../model/step.js';

export interface EvalOptions {
  batchSize: number;
  /** evaluate only the first `limit` examples */
  limit?: number;
  /** supervision steps per example (halt_max_steps by default) */
  steps?: number;
  /** maps the data's puzzle identifiers to rows of the model's table */
  idMap?: Int32Array;
  /** called after each batch with the examples done so far */
  onBatch?: (done: number, total: number) => void;
}

export interface EvalResult {
  examples: number;
  /** exact accuracy of the answer after the last step (the reference's metric) */
  exact_accuracy: number;
  /** mean per-example fraction of supervised cells right after the last step */
  accuracy: number;
  /** exact accuracy when each example stops at its first step with q_halt > 0 (else at the last step) */
  exact_accuracy_halted: number;
  /** mean supervision steps used with early halting */
  steps_halted: number;
  /** fraction of examples whose halt logit is positive at the last step */
  halt_rate: number;
  /** (q_halt >= 0) == answer exact, at the last step (the reference's q_halt_accuracy) */
  q_halt_accuracy: number;
  /** exact accuracy after each step 1..steps */
  exact_by_step: number[];
}

/** Per-row scoring of argmax predictions against labels: [cells right, cells supervised]. */
export function scoreRows(
  pred: ArrayLike<number>,
  batch: HostBatch,
  rows: number,
): { right: Int32Array; total: Int32Array } {
  const S = batch.seqLen;
  const right = new Int32Array(rows);
  const total = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    for (let t = r * S; t < (r + 1) * S; t++) {
      const l = batch.labels[t]!;
      if (l === IGNORE_LABEL) continue;
      total[r]++;
      if (pred[t] === l) right[r]++;
    }
  }
  return { right, total };
}

/** One batch's supervision steps from a fresh carry: each call runs the next step. */
export interface EvalStepper {
  /** argmax token per cell [B * S] and halt logit per row [B] after the next step */
  next(): Promise<{ pred: ArrayLike<number>; qHalt: ArrayLike<number> }>;
  dispose(): void;
}

/** Opens the steps of one test batch (puzzle ids already mapped to table rows). */
export type StepperFactory = (batch: HostBatch, puzzleIds: Int32Array) => EvalStepper;

/** The tfjs net's steps (the portable path). */
function tfjsStepper(net: TrmNet, table: PuzzleTable | null): StepperFactory {
  return (batch, ids) => {
    const B = batch.puzzleIds.length;
    const tokens = tf.tensor2d(batch.inputs, [B, net.config.seq_len], 'int32');
    const rows = table ? table.gatherTensor(ids) : null;
    let carry: Carry = initialCarry(net, B);
    return {
      async next() {
        const out = supervisionStep(net, carry, { tokens, puzzleRows: rows });
        tf.dispose([carry.zH, carry.zL]);
        carry = out.carry;
        const predT = tf.argMax(out.logits, -1);
        const pred = await predT.data();
        const qHalt = await out.qHalt.data();
        tf.dispose([predT, out.logits, out.qHalt, out.qContinue]);
        return { pred, qHalt };
      },
      dispose() {
        tf.dispose([carry.zH, carry.zL, tokens]);
        if (rows) rows.dispose();
      },
    };
  };
}

export async function evaluate(
  net: TrmNet,
  table: PuzzleTable | null,
  split: SplitSource,
  opts: EvalOptions,
): Promise<EvalResult> {
  return evaluateSteps(tfjsStepper(net, table), net.config.halt_max_steps, split, opts);
}

/** evaluate() over any implementation of the supervision step (tfjs, ONNX Runtime). */
export async function evaluateSteps(
  open: StepperFactory,
  haltMaxSteps: number,
  split: SplitSource,
  opts: EvalOptions,
): Promise<EvalResult> {
  const steps = opts.steps ?? haltMaxSteps;
  const B = opts.batchSize;
  const total = Math.min(split.numExamples, opts.limit ?? Number.POSITIVE_INFINITY);
  opts.onBatch?.(0, total);
  let n = 0;
  let exact = 0;
  let acc = 0;
  let exactHalted = 0;
  let stepsHalted = 0;
  let halting = 0;
  let qAcc = 0;
  const byStep = new Array<number>(steps).fill(0);
  for (const { batch, count } of testBatches(split, B, total)) {
    const ids = opts.idMap ? batch.puzzleIds.map((id) => opts.idMap![id]!) : batch.puzzleIds;
    const stepper = open(batch, ids);
    const stoppedAt = new Int32Array(count); // 0 = not halted yet
    const haltedExact = new Uint8Array(count);
    try {
      for (let s = 1; s <= steps; s++) {
        const { pred, qHalt: q } = await stepper.next();
        const { right, total: cells } = scoreRows(pred, batch, count);
        for (let r = 0; r < count; r++) {
          const ok = right[r] === cells[r];
          if (ok) byStep[s - 1]!++;
          if (!stoppedAt[r] && (q[r]! > 0 || s === steps)) {
            stoppedAt[r] = s;
            haltedExact[r] = ok ? 1 : 0;
          }
          if (s === steps) {
            if (ok) exact++;
            acc += cells[r]! > 0 ? right[r]! / cells[r]! : 1;
            if (q[r]! > 0) halting++;
            if (q[r]! >= 0 === ok) qAcc++;
          }
        }
      }
    } finally {
      stepper.dispose();
    }
    for (let r = 0; r < count; r++) {
      exactHalted += haltedExact[r]!;
      stepsHalted += stoppedAt[r]!;
    }
    n += count;
    opts.onBatch?.(n, total);
  }
  const d = Math.max(n, 1);
  return {
    examples: n,
    exact_accuracy: exact / d,
    accuracy: acc / d,
    exact_accuracy_halted: exactHalted / d,
    steps_halted: stepsHalted / d,
    halt_rate: halting / d,
    q_halt_accuracy: qAcc / d,
    exact_by_step: byStep.map((x) => x / d),
  };
}
