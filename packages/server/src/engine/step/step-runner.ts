// Runs step plans against a step function: keeps the recurrent state between steps (moving its rows as the plan
// says), remembers each row's tokens and puzzle embedding so a continuing puzzle is not sent again, and reduces the
// logits to the argmax answer, so only the answer and the halt logit leave the worker.
import { checkPlan, type StepPlan, type StepResult } from './plan.js';
import type { StepFunction } from './step-function.js';

export class StepRunner<H> {
  private rows = 0;
  private zH: H | null = null;
  private zL: H | null = null;
  private tokenRows: BigInt64Array[] = [];
  private embRows: Float32Array[] = [];
  private readonly padRow: BigInt64Array;
  private readonly zeroEmb: Float32Array;

  constructor(readonly fn: StepFunction<H>) {
    this.padRow = new BigInt64Array(fn.shape.seqLen);
    this.zeroEmb = new Float32Array(fn.shape.puzzleEmbDim);
  }

  /** Rows of the last step's batch (what `keep` rows of the next plan refer to). */
  get batchRows(): number {
    return this.rows;
  }

  async step(plan: StepPlan): Promise<StepResult> {
    const { seqLen: S, puzzleEmbDim: E, vocab: V } = this.fn.shape;
    checkPlan(plan, this.fn.layout, this.rows);
    const B = plan.rows.length;
    const from = new Int32Array(B).fill(-1);
    const tokenRows: BigInt64Array[] = [];
    const embRows: Float32Array[] = [];
    const reset = new Uint8Array(B);
    plan.rows.forEach((r, i) => {
      if (r.kind === 'keep') {
        from[i] = r.from;
        tokenRows.push(this.tokenRows[r.from]!);
        embRows.push(this.embRows[r.from]!);
        return;
      }
      reset[i] = 1;
      if (r.kind === 'idle') {
        tokenRows.push(this.padRow);
        embRows.push(this.zeroEmb);
        return;
      }
      if (r.tokens.length !== S) throw new Error(`row ${i}: tokens has ${r.tokens.length} values, expected ${S}`);
      tokenRows.push(BigInt64Array.from(r.tokens, (t) => BigInt(t)));
      if (r.puzzleEmb && r.puzzleEmb.length !== E)
        throw new Error(`row ${i}: puzzleEmb has ${r.puzzleEmb.length} values, expected ${E}`);
      embRows.push(r.puzzleEmb ?? this.zeroEmb);
    });
    this.arrangeState(from, B);

    const tokens = new BigInt64Array(B * S);
    for (let i = 0; i < B; i++) tokens.set(tokenRows[i]!, i * S);
    let puzzleEmb: Float32Array | null = null;
    if (E > 0) {
      puzzleEmb = new Float32Array(B * E);
      for (let i = 0; i < B; i++) puzzleEmb.set(embRows[i]!, i * E);
    }
    let out: Awaited<ReturnType<StepFunction<H>['run']>>;
    try {
      out = await this.fn.run({ batch: B, tokens, puzzleEmb, reset, zH: this.zH, zL: this.zL, limits: plan.limits });
    } catch (err) {
      // The state fed to a failed run may be half consumed; start over rather than continue from it.
      this.clear();
      throw err;
    }
    this.releaseState();
    this.zH = out.zH;
    this.zL = out.zL;
    this.rows = B;
    this.tokenRows = tokenRows;
    this.embRows = embRows;
    // a run of several steps may end early: k' steps, 1 <= k' <= stepsPerRun
    const k = out.qHalt.length / B;
    if (!Number.isInteger(k) || k < 1 || k > this.fn.stepsPerRun)
      throw new Error(`q_halt has ${out.qHalt.length} values, expected ${B} x 1..${this.fn.stepsPerRun}`);
    if (out.answers) {
      if (out.answers.length !== B * k * S)
        throw new Error(`answers has ${out.answers.length} values, expected ${B} x ${k} x ${S}`);
      return { steps: k, tokens: out.answers, qHalt: out.qHalt };
    }
    if (!out.logits || k !== 1) throw new Error(`a function of ${k} steps per run must return answers`);
    return { steps: 1, tokens: argmaxRows(out.logits, B * S, V), qHalt: out.qHalt };
  }

  /** Forgets the state (after a failed step, or when the batch empties). */
  clear(): void {
    this.releaseState();
    this.rows = 0;
    this.tokenRows = [];
    this.embRows = [];
  }

  private arrangeState(from: Int32Array, B: number): void {
    const anyKept = from.some((f) => f >= 0);
    if (!anyKept) {
      this.releaseState();
      return;
    }
    const identity = B === this.rows && from.every((f, i) => f < 0 || f === i);
    if (identity) return;
    const gather = this.fn.gather;
    if (!gather) throw new Error('this step function cannot move state rows');
    const h = gather.call(this.fn, this.zH!, from);
    const l = gather.call(this.fn, this.zL!, from);
    if (h !== this.zH) this.fn.release(this.zH!);
    if (l !== this.zL) this.fn.release(this.zL!);
    this.zH = h;
    this.zL = l;
  }

  private releaseState(): void {
    if (this.zH !== null) this.fn.release(this.zH);
    if (this.zL !== null) this.fn.release(this.zL);
    this.zH = null;
    this.zL = null;
  }
}

/** Index of the largest of each run of `vocab` logits (first index on ties, as torch.argmax). */
export function argmaxRows(logits: Float32Array, positions: number, vocab: number): Uint8Array {
  if (logits.length !== positions * vocab)
    throw new Error(`logits has ${logits.length} values, expected ${positions} x ${vocab}`);
  const out = new Uint8Array(positions);
  for (let p = 0; p < positions; p++) {
    const base = p * vocab;
    let best = 0;
    let bestValue = logits[base]!;
    for (let v = 1; v < vocab; v++) {
      const x = logits[base + v]!;
      if (x > bestValue) {
        bestValue = x;
        best = v;
      }
    }
    out[p] = best;
  }
  return out;
}
