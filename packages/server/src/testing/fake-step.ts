// A small step function with the step graph's inputs and outputs, for testing the batching, the state moves and the
// workers without ONNX Runtime. Its answers depend on every row's own history (a step counter in z_H, a running sum
// of the tokens and puzzle embedding in z_L), so a state row that lands in the wrong place gives a wrong answer:
//   after step c of a puzzle with tokens t and embedding e: answer[s] = (t[s] + c + c * (sum(t) + round(e[0]))) mod V,
//   q_halt = +4 from step haltStep(t) = 1 + t[0] mod 5 on, -4 before.
// A worker loads it as a step module (engine/worker/protocol.ts), with options to slow down or die at a given call.
import { existsSync, writeFileSync } from 'node:fs';
import type { RowLayout } from '../engine/step/plan.js';
import { gatherRows } from '../engine/step/host-state.js';
import type { StepFeeds, StepFunction, StepOutputs, StepShape } from '../engine/step/step-function.js';

export interface FakeStepOptions {
  shape: StepShape;
  /** `fixed` mimics device-resident state: no gather, and state handles that fail when used after release */
  layout?: RowLayout;
  /** busy time per run, so tests can catch a step in flight */
  delayMs?: number;
  /** exit the process (the worker thread) with code 7 at this run call (1-based) */
  exitAtCall?: number;
  /** with exitAtCall: exit only while this file does not exist, and create it (so a replacement worker lives) */
  exitMarker?: string;
  /** throw from this run call (1-based) */
  failAtCall?: number;
  /** fail to start while this file is missing (like a model file that was removed) */
  requireFile?: string;
  /** supervision steps per run (as a graph unrolled k times): answers and q_halt after each (default 1: logits) */
  stepsPerRun?: number;
}

export const FAKE_HALT_LOGIT = 4;

/** The step at which the fake model's halt probability first exceeds 0.5 for these tokens. */
export function fakeHaltStep(tokens: Uint8Array): number {
  return 1 + (tokens[0]! % 5);
}

/** The fake model's answer after `steps` steps (what a correct batcher must return). */
export function fakeAnswer(tokens: Uint8Array, steps: number, vocab: number, puzzleEmb?: Float32Array): Uint8Array {
  let sum = 0;
  for (const t of tokens) sum += t;
  const acc = steps * (sum + Math.round(puzzleEmb?.[0] ?? 0));
  return tokens.map((t) => (t + steps + acc) % vocab);
}

/** Device-style state handle: opaque, and unusable after release. */
export class FakeDeviceState {
  released = false;
  constructor(readonly data: Float32Array) {}
  read(): Float32Array {
    if (this.released) throw new Error('fake device state used after release');
    return this.data;
  }
}

type FakeState = Float32Array | FakeDeviceState;

export class FakeStepFunction implements StepFunction<FakeState> {
  readonly shape: StepShape;
  readonly layout: RowLayout;
  readonly stepsPerRun: number;
  calls = 0;
  /** batch size of every run, in order */
  readonly batches: number[] = [];
  /** supervision steps of every run, in order (fewer than stepsPerRun when a run ended early) */
  readonly runSteps: number[] = [];
  /** device handles not yet released (fixed layout) */
  live = 0;
  readonly gather?: (h: FakeState, from: Int32Array) => FakeState;

  constructor(private readonly options: FakeStepOptions) {
    this.shape = options.shape;
    this.layout = options.layout ?? 'compact';
    this.stepsPerRun = options.stepsPerRun ?? 1;
    if (this.layout === 'compact')
      this.gather = (h, from) => gatherRows(h as Float32Array, this.rowSize, from) as Float32Array;
  }

  private get rowSize(): number {
    return this.shape.stateLen * this.shape.hidden;
  }

  async run(feeds: StepFeeds<FakeState>): Promise<StepOutputs<FakeState>> {
    this.calls++;
    this.batches.push(feeds.batch);
    if (this.options.exitAtCall === this.calls) {
      const marker = this.options.exitMarker;
      if (!marker || !existsSync(marker)) {
        if (marker) writeFileSync(marker, 'exited\n');
        process.exit(7);
      }
    }
    if (this.options.failAtCall === this.calls) throw new Error(`fake step failed at call ${this.calls}`);
    if (this.options.delayMs) {
      // Busy-wait like a synchronous session.run, so the worker's event loop is blocked as it would be.
      const until = performance.now() + this.options.delayMs;
      while (performance.now() < until);
    }
    const { seqLen: S, puzzleEmbDim: E, vocab: V } = this.shape;
    const B = feeds.batch;
    const row = this.rowSize;
    const zHIn = feeds.zH === null ? null : this.read(feeds.zH);
    const zLIn = feeds.zL === null ? null : this.read(feeds.zL);
    if (zHIn && zHIn.length !== B * row) throw new Error(`z_h has ${zHIn.length} values, expected ${B * row}`);
    const k = this.stepsPerRun;
    const count = new Float64Array(B);
    const acc = new Float64Array(B);
    const sums = new Float64Array(B);
    for (let b = 0; b < B; b++) {
      const last = (b + 1) * row - 1;
      const fresh = feeds.reset[b] === 1 || zHIn === null;
      count[b] = fresh ? 0 : zHIn[last]!;
      acc[b] = fresh ? 0 : zLIn![last]!;
      let sum = 0;
      for (let s = 0; s < S; s++) sum += Number(feeds.tokens[b * S + s]);
      sums[b] = sum + (E > 0 && feeds.puzzleEmb ? Math.round(feeds.puzzleEmb[b * E]!) : 0);
    }
    // step by step, as a Loop graph: the run ends after the first step at which no row goes on (limits)
    const perStep: { answers: Uint8Array; q: Float32Array }[] = [];
    for (let j = 0; j < k; j++) {
      const answers = new Uint8Array(B * S);
      const q = new Float32Array(B);
      let goesOn = false;
      for (let b = 0; b < B; b++) {
        count[b]! += 1;
        acc[b]! += sums[b]!;
        for (let s = 0; s < S; s++) answers[b * S + s] = (Number(feeds.tokens[b * S + s]) + count[b]! + acc[b]!) % V;
        q[b] = count[b]! >= 1 + (Number(feeds.tokens[b * S]) % 5) ? FAKE_HALT_LOGIT : -FAKE_HALT_LOGIT;
        const l = feeds.limits;
        if (!l || (j + 1 < l.stepsLeft[b]! && q[b]! <= l.haltLogit[b]!)) goesOn = true;
      }
      perStep.push({ answers, q });
      if (k > 1 && !goesOn) break;
    }
    const zH = new Float32Array(B * row);
    const zL = new Float32Array(B * row);
    for (let b = 0; b < B; b++) {
      zH.fill(count[b]!, b * row, (b + 1) * row);
      zL.fill(acc[b]!, b * row, (b + 1) * row);
    }
    const steps = perStep.length;
    this.runSteps.push(steps);
    const qHalt = new Float32Array(B * steps);
    for (let b = 0; b < B; b++) for (let j = 0; j < steps; j++) qHalt[b * steps + j] = perStep[j]!.q[b]!;
    if (k === 1) {
      const logits = new Float32Array(B * S * V);
      const a = perStep[0]!.answers;
      for (let p = 0; p < B * S; p++) logits[p * V + a[p]!] = 1;
      return { zH: this.wrap(zH), zL: this.wrap(zL), logits, qHalt };
    }
    const answers = new Uint8Array(B * steps * S);
    for (let b = 0; b < B; b++)
      for (let j = 0; j < steps; j++)
        answers.set(perStep[j]!.answers.subarray(b * S, (b + 1) * S), (b * steps + j) * S);
    return { zH: this.wrap(zH), zL: this.wrap(zL), answers, qHalt };
  }

  release(h: FakeState): void {
    if (h instanceof FakeDeviceState) {
      if (h.released) throw new Error('fake device state released twice');
      h.released = true;
      this.live--;
    }
  }

  async dispose(): Promise<void> {}

  private read(h: FakeState): Float32Array {
    if (h instanceof FakeDeviceState) return h.read();
    return h;
  }

  private wrap(a: Float32Array): FakeState {
    if (this.layout === 'compact') return a;
    this.live++;
    return new FakeDeviceState(a);
  }
}

/** Step-module entry (engine/worker/protocol.ts): a worker calls this with the options it was given. */
export async function createStepFunction(options: unknown): Promise<StepFunction<FakeState>> {
  const o = options as FakeStepOptions;
  if (o.requireFile !== undefined && !existsSync(o.requireFile))
    throw new Error(`the fake model file ${o.requireFile} is missing`);
  return new FakeStepFunction(o);
}
