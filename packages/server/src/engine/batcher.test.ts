import { describe, expect, it } from 'vitest';
import { Batcher, type BatcherSettings, type Lane } from './batcher.js';
import { FakeStepFunction, fakeAnswer, fakeHaltStep } from '../testing/fake-step.js';
import type { RowLayout, StepPlan, StepResult } from './step/plan.js';
import type { StepShape } from './step/step-function.js';
import { StepRunner } from './step/step-runner.js';
import {
  EngineUnavailableError,
  QueueFullError,
  QueueTimeoutError,
  type SolveRequest,
  type SolveResult,
} from './types.js';

const shape: StepShape = { seqLen: 6, stateLen: 7, hidden: 2, puzzleEmbDim: 2, vocab: 9 };
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A lane that runs the fake model in this thread, with a step time and a switch to die like a killed worker. */
class TestLane implements Lane {
  readonly fn: FakeStepFunction;
  private runner: StepRunner<unknown>;
  /** the plans it ran */
  readonly plans: StepPlan[] = [];
  dieAtStep = -1;
  private restarted: Promise<void> = Promise.resolve();
  gate: Promise<void> | null = null;

  constructor(
    readonly layout: RowLayout,
    private readonly stepMs = 1,
    failAtCall?: number,
    stepsPerRun = 1,
  ) {
    this.fn = new FakeStepFunction({ shape, layout, failAtCall, stepsPerRun });
    this.runner = new StepRunner(this.fn as never);
  }

  async step(plan: StepPlan): Promise<StepResult> {
    this.plans.push(plan);
    if (this.gate) await this.gate;
    await sleep(this.stepMs);
    if (this.plans.length === this.dieAtStep) {
      // Like a dead worker: the state is gone, and the replacement is ready a little later.
      this.runner = new StepRunner(new FakeStepFunction({ shape, layout: this.layout }) as never);
      this.restarted = sleep(20);
      throw new EngineUnavailableError('the inference worker stopped');
    }
    return this.runner.step(plan);
  }
  whenReady(): Promise<void> {
    return this.restarted;
  }
  isReady(): boolean {
    return true;
  }
}

function settings(over: Partial<BatcherSettings> = {}): BatcherSettings {
  return { maxBatch: 4, maxQueue: 1000, maxWaitMs: 0, seqLen: shape.seqLen, ...over };
}

let seed = 1;
function random(): number {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
}
function puzzle(): Uint8Array {
  return Uint8Array.from({ length: shape.seqLen }, () => Math.floor(random() * shape.vocab));
}
function request(tokens: Uint8Array, over: Partial<SolveRequest> = {}): SolveRequest {
  return { tokens, maxSteps: 16, haltThreshold: 0.5, trace: false, ...over };
}

/** What a correct engine answers: the fake model run alone until it halts or hits maxSteps. */
function expected(r: SolveRequest): { steps: number; halted: boolean; tokens: number[] } {
  const halts = r.haltThreshold < 1 / (1 + Math.exp(-4));
  const haltAt = fakeHaltStep(r.tokens);
  const steps = halts && haltAt <= r.maxSteps ? haltAt : r.maxSteps;
  return {
    steps,
    halted: halts && haltAt <= r.maxSteps,
    tokens: Array.from(fakeAnswer(r.tokens, steps, shape.vocab, r.puzzleEmb)),
  };
}

function check(r: SolveRequest, got: SolveResult): void {
  const want = expected(r);
  expect({ steps: got.steps, halted: got.halted, tokens: Array.from(got.tokens) }).toEqual(want);
}

describe('Batcher', () => {
  it('answers one puzzle with the halting step, its answer, probability and timing', async () => {
    const lane = new TestLane('compact');
    const b = new Batcher([lane], settings());
    const tokens = Uint8Array.from([3, 1, 2, 3, 4, 5]); // halts at step 4
    const r = request(tokens, { trace: true });
    const got = await b.solve(r);
    check(r, got);
    expect(got.steps).toBe(4);
    expect(got.haltProbability).toBeCloseTo(1 / (1 + Math.exp(-4)), 12);
    expect(got.trace?.map((e) => e.step)).toEqual([1, 2, 3, 4]);
    expect(got.trace![1]!.tokens).toEqual(fakeAnswer(tokens, 2, shape.vocab));
    expect(got.trace![0]!.haltProbability).toBeCloseTo(1 / (1 + Math.exp(4)), 12);
    expect(got.timing.computeMs).toBeGreaterThan(0);
    expect(got.timing.queueMs).toBeGreaterThanOrEqual(0);
    await b.drain();
  });

  it('stops at maxSteps, and never halts early with a threshold of 1', async () => {
    const b = new Batcher([new TestLane('compact')], settings());
    const tokens = Uint8Array.from([4, 0, 0, 0, 0, 0]); // would halt at step 5
    const limited = await b.solve(request(tokens, { maxSteps: 3 }));
    expect([limited.steps, limited.halted]).toEqual([3, false]);
    expect(limited.tokens).toEqual(fakeAnswer(tokens, 3, shape.vocab));
    const fixed = await b.solve(request(tokens, { maxSteps: 16, haltThreshold: 1 }));
    expect([fixed.steps, fixed.halted]).toEqual([16, false]);
    expect(fixed.haltProbability).toBeGreaterThan(0.98);
    await b.drain();
  });

  it('calls onStep after every step of its own puzzle', async () => {
    const b = new Batcher([new TestLane('compact')], settings());
    const seen: number[] = [];
    const tokens = Uint8Array.from([2, 5, 5, 5, 5, 5]);
    const got = await b.solve(request(tokens, { onStep: (e) => seen.push(e.step) }));
    expect(seen).toEqual([1, 2, 3]);
    expect(got.steps).toBe(3);
    await b.drain();
  });

  it('keeps a row whose answer the rule check refuses past the halt, up to the first answer it accepts', async () => {
    const b = new Batcher([new TestLane('compact')], settings());
    const tokens = Uint8Array.from([0, 1, 2, 3, 4, 5]); // the fake model wants to halt from step 1 on
    const valid = Array.from(fakeAnswer(tokens, 3, shape.vocab));
    let asked = 0;
    const acceptAnswer = (answer: Uint8Array) => {
      asked++;
      return Array.from(answer).join() === valid.join();
    };
    // A puzzle without a check shares the batch and leaves after its first step.
    const [checked, plain] = await Promise.all([
      b.solve(request(tokens, { acceptAnswer, trace: true })),
      b.solve(request(tokens)),
    ]);
    expect({ steps: checked.steps, halted: checked.halted, tokens: Array.from(checked.tokens) }).toEqual({
      steps: 3,
      halted: true,
      tokens: valid,
    });
    expect(checked.trace?.map((e) => e.step)).toEqual([1, 2, 3]);
    expect(asked).toBe(3);
    expect([plain.steps, plain.halted]).toEqual([1, true]);

    // With the limit reached first: the last answer, not halted.
    const limited = await b.solve(request(tokens, { acceptAnswer, maxSteps: 2 }));
    expect({ steps: limited.steps, halted: limited.halted, tokens: limited.tokens }).toEqual({
      steps: 2,
      halted: false,
      tokens: fakeAnswer(tokens, 2, shape.vocab),
    });

    // Asked only when the halt probability crossed the threshold.
    asked = 0;
    const unhalting = await b.solve(request(tokens, { acceptAnswer, haltThreshold: 1, maxSteps: 4 }));
    expect([unhalting.steps, asked]).toEqual([4, 0]);
    await b.drain();
  });

  it('k steps per run: a puzzle leaves at its own step mid-run, with the trace, onStep calls and rule checks of k = 1', async () => {
    const lane = new TestLane('compact', 1, undefined, 4);
    const b = new Batcher([lane], settings());
    const halting = Uint8Array.from([1, 2, 3, 4, 5, 6]); // halts at step 2, in the middle of the first run
    const late = Uint8Array.from([4, 0, 1, 0, 1, 0]); // halts at step 5, the first step of the second run
    const limited = Uint8Array.from([4, 4, 4, 4, 4, 4]); // would halt at step 5; maxSteps 3 stops it mid-run
    const seen: number[] = [];
    const valid = Array.from(fakeAnswer(halting, 3, shape.vocab));
    const [a, c, d, e] = await Promise.all([
      b.solve(request(halting, { trace: true, onStep: (s) => seen.push(s.step) })),
      b.solve(request(late, { trace: true })),
      b.solve(request(limited, { maxSteps: 3 })),
      b.solve(request(halting, { acceptAnswer: (t) => Array.from(t).join() === valid.join() })),
    ]);
    check(request(halting), a);
    expect(a.trace?.map((s) => s.step)).toEqual([1, 2]);
    expect(a.trace![0]!.tokens).toEqual(fakeAnswer(halting, 1, shape.vocab));
    expect(seen).toEqual([1, 2]);
    check(request(late), c);
    expect(c.trace?.map((s) => s.step)).toEqual([1, 2, 3, 4, 5]);
    check(request(limited, { maxSteps: 3 }), d);
    expect({ steps: e.steps, halted: e.halted, tokens: Array.from(e.tokens) }).toEqual({
      steps: 3,
      halted: true,
      tokens: valid,
    });
    // two runs: the first holds all four puzzles for 4 steps, the second only the one still going, and ends after
    // its first step, where that puzzle halts
    expect(lane.plans.map((p) => p.rows.length)).toEqual([4, 1]);
    expect(lane.fn.runSteps).toEqual([4, 1]);
    await b.drain();
  });

  it('settleFrom: from that step an accepted answer ends a puzzle without a halt, a refused one runs on', async () => {
    const lane = new TestLane('compact', 1, undefined, 4);
    const b = new Batcher([lane], settings());
    const tokens = Uint8Array.from([4, 1, 2, 3, 4, 5]); // crosses the threshold only at step 5
    const atStep3 = Array.from(fakeAnswer(tokens, 3, shape.vocab));
    const accepted = await b.solve(
      request(tokens, { maxSteps: 12, settleFrom: 2, acceptAnswer: (t) => Array.from(t).join() === atStep3.join() }),
    );
    expect({ steps: accepted.steps, halted: accepted.halted, tokens: Array.from(accepted.tokens) }).toEqual({
      steps: 3,
      halted: false,
      tokens: atStep3,
    });
    // the first run of 4 steps stopped at step 2, where the answer could first settle
    expect(lane.fn.runSteps[0]).toBe(2);
    // refused at every step: on past its halt at step 5, to maxSteps
    const refused = await b.solve(request(tokens, { maxSteps: 12, settleFrom: 2, acceptAnswer: () => false }));
    expect([refused.steps, refused.halted]).toEqual([12, false]);
    // accepted from step 2 on: it ends there
    const early = await b.solve(request(tokens, { maxSteps: 12, settleFrom: 2, acceptAnswer: () => true }));
    expect([early.steps, early.halted]).toEqual([2, false]);
    await b.drain();
  });

  it('stepsWhenQueued: runs are cut to that many steps while puzzles wait for a row, full length otherwise', async () => {
    const lane = new TestLane('compact', 1, undefined, 4);
    const b = new Batcher([lane], settings({ maxBatch: 1, stepsWhenQueued: 1 }));
    const tokens = Uint8Array.from([4, 0, 0, 0, 0, 0]); // would halt at step 5
    // alone: one run of 4 steps, then one step to its halt
    const alone = await b.solve(request(tokens, { maxSteps: 8 }));
    check(request(tokens, { maxSteps: 8 }), alone);
    expect(lane.fn.runSteps).toEqual([4, 1]);
    // two puzzles for one row: the second waits, so the first's runs are cut to 1 step until it leaves; the second
    // then has the lane alone and takes full runs again
    lane.fn.runSteps.length = 0;
    const short = Uint8Array.from([1, 2, 3, 4, 5, 6]); // halts at step 2
    const [x, y] = await Promise.all([b.solve(request(short)), b.solve(request(tokens, { maxSteps: 8 }))]);
    check(request(short), x);
    check(request(tokens, { maxSteps: 8 }), y);
    expect(lane.fn.runSteps).toEqual([1, 1, 4, 1]);
    expect(() => new Batcher([lane], settings({ stepsWhenQueued: 0 }))).toThrow(
      'stepsWhenQueued must be an integer >= 1 (got 0)',
    );
    await b.drain();
  });

  it('fails only the puzzle whose rule check throws', async () => {
    const b = new Batcher([new TestLane('compact')], settings());
    const tokens = Uint8Array.from([1, 1, 1, 1, 1, 1]); // halts at step 2
    const [broken, plain] = await Promise.allSettled([
      b.solve(
        request(tokens, {
          acceptAnswer: () => {
            throw new Error('the check failed');
          },
        }),
      ),
      b.solve(request(tokens)),
    ]);
    expect(broken).toMatchObject({ status: 'rejected', reason: { message: 'the check failed' } });
    expect(plain).toMatchObject({ status: 'fulfilled', value: { steps: 2, halted: true } });
    await b.drain();
  });

  for (const [layout, k] of [
    ['compact', 1],
    ['fixed', 1],
    ['compact', 4],
    ['fixed', 3],
  ] as const) {
    it(`gives each of 300 concurrent puzzles its own answer (${layout} rows, 2 lanes, ${k} step(s) per run)`, async () => {
      const lanes = [new TestLane(layout, 1, undefined, k), new TestLane(layout, 1, undefined, k)];
      const b = new Batcher(lanes, settings({ maxBatch: 8 }));
      const requests: SolveRequest[] = [];
      const results: Promise<SolveResult>[] = [];
      for (let i = 0; i < 300; i++) {
        const r = request(puzzle(), {
          maxSteps: 1 + Math.floor(random() * 16),
          haltThreshold: random() < 0.2 ? 1 : 0.5,
          puzzleEmb: random() < 0.5 ? Float32Array.from([Math.floor(random() * 5), 0]) : undefined,
        });
        requests.push(r);
        results.push(b.solve(r));
        if (i % 7 === 0) await sleep(1);
      }
      const got = await Promise.all(results);
      for (const [i, r] of requests.entries()) check(r, got[i]!);
      const plans = lanes.flatMap((l) => l.plans);
      // Both lanes worked, no batch was larger than maxBatch, and rows were refilled mid-batch.
      expect(lanes.every((l) => l.plans.length > 0)).toBe(true);
      expect(Math.max(...plans.map((p) => p.rows.length))).toBeLessThanOrEqual(8);
      const refills = plans.filter(
        (p) => p.rows.some((r) => r.kind === 'keep') && p.rows.some((r) => r.kind === 'start'),
      );
      expect(refills.length).toBeGreaterThan(10);
      // Runs are far fewer than one per puzzle-step: rows were shared (and steps taken k at a time).
      const puzzleSteps = got.reduce((n, r) => n + r.steps, 0);
      expect(plans.length).toBeLessThan(puzzleSteps / (3 * k));
      if (layout === 'fixed') {
        for (const p of plans) expect([1, 2, 4, 8]).toContain(p.rows.length);
        expect(lanes.every((l) => l.fn.live === 2)).toBe(true);
      }
      expect(b.activeSlots).toBe(0);
      await b.drain();
    });
  }

  it('fixed rows: lets a small batch empty to start a larger one when the queue outgrows it', async () => {
    const lane = new TestLane('fixed', 2);
    const b = new Batcher([lane], settings({ maxBatch: 8 }));
    const first = [
      b.solve(request(puzzle(), { maxSteps: 2, haltThreshold: 1 })),
      b.solve(request(puzzle(), { maxSteps: 6, haltThreshold: 1 })),
    ];
    await sleep(3);
    const more = Array.from({ length: 6 }, () => b.solve(request(puzzle(), { maxSteps: 2, haltThreshold: 1 })));
    await Promise.all([...first, ...more]);
    const sizes = lane.plans.map((p) => p.rows.length);
    // 6 steps of the 2-row batch (its free row stays idle), then one batch of 8 for the six that waited.
    expect(sizes).toEqual([2, 2, 2, 2, 2, 2, 8, 8]);
    expect(lane.plans[2]!.rows[0]!.kind).toBe('idle');
    await b.drain();
  });

  it('waits maxWaitMs for company before the first step of an idle lane', async () => {
    const lane = new TestLane('compact');
    const b = new Batcher([lane], settings({ maxWaitMs: 60 }));
    const all: Promise<SolveResult>[] = [];
    for (let i = 0; i < 3; i++) {
      all.push(b.solve(request(puzzle(), { maxSteps: 2 })));
      await sleep(10);
    }
    await Promise.all(all);
    expect(lane.plans[0]!.rows.length).toBe(3);
    await b.drain();
  });

  it('rejects with QueueFullError beyond maxQueue', async () => {
    const lane = new TestLane('compact');
    let open!: () => void;
    lane.gate = new Promise((r) => (open = r));
    const b = new Batcher([lane], settings({ maxBatch: 1, maxQueue: 2 }));
    const running = b.solve(request(puzzle(), { maxSteps: 1 }));
    await sleep(5); // the first puzzle takes the row
    const queued = [b.solve(request(puzzle(), { maxSteps: 1 })), b.solve(request(puzzle(), { maxSteps: 1 }))];
    expect(b.queueDepth).toBe(2);
    await expect(b.solve(request(puzzle()))).rejects.toBeInstanceOf(QueueFullError);
    open();
    lane.gate = null;
    await Promise.all([running, ...queued]);
    await b.drain();
  });

  it('background puzzles take a row only when no other waits, and never make the queue refuse one', async () => {
    const lane = new TestLane('compact');
    let open!: () => void;
    lane.gate = new Promise((r) => (open = r));
    const b = new Batcher([lane], settings({ maxBatch: 1, maxQueue: 2 }));
    const order: string[] = [];
    const solve = (name: string, over: Partial<SolveRequest>) => {
      const r = request(puzzle(), { maxSteps: 1, ...over });
      return b.solve(r).then((got) => {
        check(r, got);
        order.push(name);
      });
    };
    const running = solve('first', {});
    await sleep(5); // the first puzzle takes the row
    const copies = [solve('copy 1', { background: true }), solve('copy 2', { background: true })];
    // two background puzzles fill the queue for background ones, not for the others
    await expect(b.solve(request(puzzle(), { background: true }))).rejects.toBeInstanceOf(QueueFullError);
    const others = [solve('other 1', {}), solve('other 2', {})];
    await expect(b.solve(request(puzzle()))).rejects.toBeInstanceOf(QueueFullError);
    open();
    lane.gate = null;
    await Promise.all([running, ...copies, ...others]);
    expect(order).toEqual(['first', 'other 1', 'other 2', 'copy 1', 'copy 2']);
    await b.drain();
  });

  it('maxQueue 0: takes puzzles while rows are free (also on an idle batcher) and refuses the rest', async () => {
    const lanes = [new TestLane('compact', 20), new TestLane('fixed', 20)];
    const b = new Batcher(lanes, settings({ maxBatch: 2, maxQueue: 0 }));
    const rs = Array.from({ length: 4 }, () => request(puzzle(), { maxSteps: 2, haltThreshold: 1 }));
    const taken = rs.map((r) => b.solve(r)); // four free rows over two lanes
    const refused = b.solve(request(puzzle()));
    await expect(refused).rejects.toBeInstanceOf(QueueFullError);
    await expect(refused).rejects.toThrow('every batch slot is busy and no puzzle may wait for one (max queue 0)');
    for (const [i, r] of rs.entries()) check(r, await taken[i]!);
    // rows are free again
    const again = request(puzzle(), { maxSteps: 1 });
    check(again, await b.solve(again));
    await b.drain();
  });

  it('fails a puzzle that waited queueTimeoutMs for a row with QueueTimeoutError; admitted puzzles are not timed', async () => {
    const lane = new TestLane('compact', 30);
    const b = new Batcher([lane], settings({ maxBatch: 1, queueTimeoutMs: 50 }));
    const first = request(puzzle(), { maxSteps: 4, haltThreshold: 1 }); // holds the row for 4 x 30 ms
    const pFirst = b.solve(first);
    await sleep(1);
    const t0 = performance.now();
    const pLate = b.solve(request(puzzle()));
    await expect(pLate).rejects.toBeInstanceOf(QueueTimeoutError);
    await expect(pLate).rejects.toBeInstanceOf(EngineUnavailableError);
    await expect(pLate).rejects.toThrow('the puzzle waited 50 ms for a batch slot without getting one');
    expect(performance.now() - t0).toBeLessThan(110);
    expect(b.queueDepth).toBe(0);
    // the first puzzle ran 120 ms, past the timeout: only the wait for a row counts
    check(first, await pFirst);
    const quick = request(puzzle(), { maxSteps: 2 });
    check(quick, await b.solve(quick));
    await b.drain();
  });

  it('refuseQueued fails the waiting puzzles with EngineUnavailableError; puzzles in a row finish', async () => {
    const lane = new TestLane('compact', 2);
    const b = new Batcher([lane], settings({ maxBatch: 2 }));
    const running = [0, 1].map(() => request(puzzle(), { maxSteps: 3, haltThreshold: 1 }));
    const pRunning = running.map((r) => b.solve(r));
    await sleep(1); // the two take the rows
    const pQueued = [b.solve(request(puzzle())), b.solve(request(puzzle()))];
    expect(b.refuseQueued('going away')).toBe(2);
    for (const p of pQueued) await expect(p).rejects.toThrow(new EngineUnavailableError('going away'));
    for (const [i, r] of running.entries()) check(r, await pRunning[i]!);
    await b.drain();
  });

  it('drops an aborted puzzle from the queue and from its row, and serves the others', async () => {
    const lane = new TestLane('compact', 5);
    const b = new Batcher([lane], settings({ maxBatch: 2 }));
    const inRow = new AbortController();
    const queued = new AbortController();
    const keeper = request(Uint8Array.from([4, 1, 1, 1, 1, 1]), { haltThreshold: 1, maxSteps: 8 });
    const pKeeper = b.solve(keeper);
    const pInRow = b.solve(request(puzzle(), { haltThreshold: 1, signal: inRow.signal }));
    const abortedTokens = Uint8Array.from([8, 8, 8, 8, 8, 8]);
    const pQueued = b.solve(request(abortedTokens, { signal: queued.signal }));
    await sleep(12);
    expect(b.queueDepth).toBe(1);
    queued.abort();
    expect(b.queueDepth).toBe(0);
    await expect(pQueued).rejects.toThrow('aborted');
    const t0 = performance.now();
    inRow.abort(new Error('client went away'));
    await expect(pInRow).rejects.toThrow('client went away');
    expect(performance.now() - t0).toBeLessThan(5);
    check(keeper, await pKeeper);
    // The aborted row left the batch and the queued puzzle never ran.
    expect(lane.plans.at(-1)!.rows.length).toBe(1);
    const started = lane.plans.flatMap((p) => p.rows.filter((r) => r.kind === 'start'));
    expect(started.some((r) => r.kind === 'start' && r.tokens === abortedTokens)).toBe(false);
    await expect(b.solve(request(puzzle(), { signal: AbortSignal.abort() }))).rejects.toThrow();
    await b.drain();
  });

  it('fails the puzzles of a lane whose worker died with EngineUnavailableError and serves the queue after', async () => {
    const lane = new TestLane('compact');
    lane.dieAtStep = 3;
    const b = new Batcher([lane], settings({ maxBatch: 2 }));
    const first = [b.solve(request(puzzle(), { haltThreshold: 1 })), b.solve(request(puzzle(), { haltThreshold: 1 }))];
    await sleep(0);
    const later = request(puzzle(), { maxSteps: 4, haltThreshold: 1 });
    const pLater = b.solve(later);
    for (const p of first) await expect(p).rejects.toBeInstanceOf(EngineUnavailableError);
    check(later, await pLater);
    // After the restart the lane starts from a fresh batch.
    expect(lane.plans[3]!.rows.every((r) => r.kind === 'start')).toBe(true);
    await b.drain();
  });

  it('fails only the puzzle whose onStep throws, and all puzzles of a step that failed, then goes on', async () => {
    const lane = new TestLane('compact', 1, 3);
    const b = new Batcher([lane], settings({ maxBatch: 4 }));
    const quiet = request(puzzle(), { maxSteps: 2, haltThreshold: 1 });
    const throwing = b.solve(
      request(puzzle(), {
        haltThreshold: 1,
        onStep: () => {
          throw new Error('the stream is closed');
        },
      }),
    );
    const pQuiet = b.solve(quiet);
    await expect(throwing).rejects.toThrow('the stream is closed');
    check(quiet, await pQuiet);
    // The third run fails inside the step function: its puzzle fails, the next puzzle starts afresh.
    const unlucky = b.solve(request(puzzle(), { maxSteps: 4, haltThreshold: 1 }));
    await expect(unlucky).rejects.toThrow('the supervision step failed: fake step failed at call 3');
    const after = request(puzzle(), { maxSteps: 3, haltThreshold: 1 });
    check(after, await b.solve(after));
    await b.drain();
  });

  it('drains: finishes queued and running puzzles, then refuses new ones', async () => {
    const b = new Batcher([new TestLane('fixed')], settings({ maxBatch: 2 }));
    const rs = Array.from({ length: 5 }, () => request(puzzle(), { maxSteps: 3, haltThreshold: 1 }));
    const ps = rs.map((r) => b.solve(r));
    const drained = b.drain();
    await expect(b.solve(request(puzzle()))).rejects.toBeInstanceOf(EngineUnavailableError);
    await drained;
    const got = await Promise.all(ps);
    for (const [i, r] of rs.entries()) check(r, got[i]!);
    expect(b.accepting()).toBe(false);
  });
});
