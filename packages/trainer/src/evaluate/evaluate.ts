// Evaluation of a model on a split (TRM-SPEC §7.1): every example runs halt_max_steps supervision steps from a
// fresh carry, as the reference's evaluation does, and the answer at the last step is scored (exact accuracy: every
// supervised cell right). Alongside, the answer at the first step whose halt logit is positive is scored too
// ("early halting", what a server would return), with the number of steps it used.
import { answerFollowsRules, fromView, type PuzzleView, type TaskName, toView } from '@trm/core';
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
  /**
   * Also answer every example through these views of it (the first the example itself, `puzzleViews`): the answer
   * is the first view's answer, mapped back, that follows the task's rules, else the example's own. The graph runs
   * then hold batchSize / views.length examples of views.length rows each.
   */
  views?: { task: TaskName; views: readonly PuzzleView[] };
}

/** Answers through views (EvalOptions.views), after the last step and per step. */
export interface ViewsResult {
  /** views per example, the example itself included */
  count: number;
  /** exact accuracy of the chosen answers after the last step */
  exact_accuracy: number;
  /** the same after each step 1..steps */
  exact_by_step: number[];
  /** fraction of examples with an answer that follows the rules (in some view) after the last step */
  follows_rules: number;
  /** of those, the fraction that still differs from the label (a valid answer that is not the reference's) */
  follows_rules_not_exact: number;
  /** fraction of examples whose own answer (view 0) follows the rules after the last step */
  own_follows_rules: number;
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
  /** with EvalOptions.views */
  views?: ViewsResult;
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
  const K = opts.views?.views.length ?? 1;
  const B = K > 1 ? Math.max(1, Math.floor(opts.batchSize / K)) : opts.batchSize;
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
  const viewTally = opts.views && K > 1 ? new ViewTally(steps) : null;
  for (const { batch, count } of testBatches(split, B, total)) {
    const rows = viewTally ? viewRows(batch, count, opts.views!.views) : batch;
    const ids = opts.idMap ? rows.puzzleIds.map((id) => opts.idMap![id]!) : rows.puzzleIds;
    const stepper = open(rows, ids);
    const stoppedAt = new Int32Array(count); // 0 = not halted yet
    const haltedExact = new Uint8Array(count);
    try {
      for (let s = 1; s <= steps; s++) {
        const { pred, qHalt: q } = await stepper.next();
        // with views, rows [0, count) are the examples themselves (view 0)
        const { right, total: cells } = scoreRows(pred, batch, count);
        viewTally?.add(s, pred, batch, count, opts.views!);
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
    ...(viewTally ? { views: viewTally.result(K, d) } : {}),
  };
}

/** The rows of a test batch's `count` examples under each view: row v * count + r is view v of example r. */
function viewRows(batch: HostBatch, count: number, views: readonly PuzzleView[]): HostBatch {
  const S = batch.seqLen;
  const K = views.length;
  const inputs = new Int32Array(K * count * S);
  const puzzleIds = new Int32Array(K * count);
  for (let v = 0; v < K; v++)
    for (let r = 0; r < count; r++) {
      const row = batch.inputs.subarray(r * S, (r + 1) * S);
      inputs.set(v === 0 ? row : toView(views[v]!, row), (v * count + r) * S);
      puzzleIds[v * count + r] = batch.puzzleIds[r]!;
    }
  return { size: K * count, seqLen: S, inputs, labels: new Int32Array(K * count * S), puzzleIds };
}

/** Exact answers through views: per example, the first view whose answer (mapped back) follows the rules. */
class ViewTally {
  private readonly byStep: number[];
  private exact = 0;
  private follows = 0;
  private followsNotExact = 0;
  private ownFollows = 0;

  constructor(private readonly steps: number) {
    this.byStep = new Array<number>(steps).fill(0);
  }

  add(
    step: number,
    pred: ArrayLike<number>,
    batch: HostBatch,
    count: number,
    o: NonNullable<EvalOptions['views']>,
  ): void {
    const S = batch.seqLen;
    const all = pred instanceof Int32Array ? pred : Int32Array.from(pred);
    for (let r = 0; r < count; r++) {
      const question = batch.inputs.subarray(r * S, (r + 1) * S);
      let chosen: Int32Array | null = null;
      for (let v = 0; v < o.views.length && !chosen; v++) {
        const row = all.subarray((v * count + r) * S, (v * count + r + 1) * S);
        const answer = v === 0 ? row : fromView(o.views[v]!, row);
        if (answerFollowsRules(o.task, question, answer)) {
          chosen = answer;
          if (v === 0 && step === this.steps) this.ownFollows++;
        }
      }
      const follows = chosen !== null;
      chosen ??= all.subarray(r * S, (r + 1) * S);
      let ok = true;
      for (let t = 0; t < S && ok; t++) {
        const l = batch.labels[r * S + t]!;
        if (l !== IGNORE_LABEL && chosen[t] !== l) ok = false;
      }
      if (ok) this.byStep[step - 1]!++;
      if (step === this.steps) {
        if (ok) this.exact++;
        if (follows) this.follows++;
        if (follows && !ok) this.followsNotExact++;
      }
    }
  }

  result(count: number, examples: number): ViewsResult {
    return {
      count,
      exact_accuracy: this.exact / examples,
      exact_by_step: this.byStep.map((x) => x / examples),
      follows_rules: this.follows / examples,
      follows_rules_not_exact: this.follows > 0 ? this.followsNotExact / this.follows : 0,
      own_follows_rules: this.ownFollows / examples,
    };
  }
}
