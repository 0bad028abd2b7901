// Continuous batching of supervision steps. Puzzles wait in one bounded queue; every lane (a worker with its own
// session) runs a batch of rows one run at a time (a run is one supervision step, or k with a graph of k steps per
// run), and between two runs a puzzle that halted or used its steps leaves with its answer and a queued puzzle
// takes a row, starting from H_init/L_init (reset = true). So a batch never waits for its slowest puzzle, and a new
// puzzle waits at most one run for a row when one is free. A
// request may carry a rule check of its answer (acceptAnswer): a row that would halt on an answer the check
// refuses stays for the next step, up to its maxSteps. A background request (a copy that only helps another puzzle,
// the server's views) takes a row only when no other puzzle waits, and never makes the queue refuse one.
//
// Rows are laid out as the lane's runner allows (step/plan.ts): `compact` keeps the active rows contiguous (rows
// close up and new ones are appended, the state rows are moved on the host); `fixed` keeps every puzzle in its
// row for the life of a batch whose size is set when it starts (a power of two for the queue it starts with),
// feeds idle rows as PAD + reset, and only starts a larger batch once the current one has emptied.
import { stepOutcome } from './solve-request.js';
import type { RowLayout, RowPlan, StepPlan, StepResult } from './step/plan.js';
import {
  EngineUnavailableError,
  QueueFullError,
  QueueTimeoutError,
  type SolveRequest,
  type SolveResult,
  type StepEvent,
} from './types.js';

/** One worker's side of the batcher. */
export interface Lane {
  readonly layout: RowLayout;
  /** Runs one step. Rejects with EngineUnavailableError when the worker died (its state is lost). */
  step(plan: StepPlan): Promise<StepResult>;
  /** Resolves when the lane takes steps again (a replacement worker started); rejects when it cannot. */
  whenReady(): Promise<void>;
  isReady(): boolean;
}

export interface BatcherSettings {
  /** rows per lane */
  maxBatch: number;
  /**
   * puzzles waiting for a row beyond which solve() rejects with QueueFullError; puzzles that a free row takes at the
   * next step do not count, so 0 means "no waiting": a puzzle is taken while a row is free, refused otherwise
   */
  maxQueue: number;
  /** how long the first puzzle of an idle lane waits for others before the first step */
  maxWaitMs: number;
  /**
   * a puzzle that waited this long for a row fails with QueueTimeoutError rather than being answered when nobody
   * waits any more (0 or absent: no limit)
   */
  queueTimeoutMs?: number;
  /** S: length of every answer */
  seqLen: number;
  /**
   * With several steps per run: the most steps a run takes while puzzles wait for a row, so that rows freed by
   * halting are refilled sooner (a lone puzzle still runs all its steps in one call). Absent: no cap.
   */
  stepsWhenQueued?: number;
}

interface Job {
  request: SolveRequest;
  resolve: (r: SolveResult) => void;
  reject: (e: unknown) => void;
  enqueuedAt: number;
  admittedAt: number;
  steps: number;
  trace: StepEvent[] | undefined;
  /** answered, failed or aborted: its row is free at the next step */
  done: boolean;
  detach: () => void;
  /** fails the job when it has waited queueTimeoutMs in the queue */
  queueTimer?: NodeJS.Timeout;
}

interface LaneState {
  lane: Lane;
  /** the rows of the last step; null = idle row (fixed layout) */
  rows: (Job | null)[];
  alive: boolean;
  busy: boolean;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('the request was aborted', 'AbortError');
}

export class Batcher {
  private readonly queue: Job[] = [];
  private readonly lanes: LaneState[];
  private waiters: (() => void)[] = [];
  private draining = false;
  private closed = false;
  private unavailable: string | null = null;
  private readonly loops: Promise<void>[];

  constructor(
    lanes: Lane[],
    readonly settings: BatcherSettings,
  ) {
    if (!Number.isInteger(settings.maxBatch) || settings.maxBatch < 1)
      throw new Error(`maxBatch must be an integer >= 1 (got ${settings.maxBatch})`);
    if (!Number.isInteger(settings.maxQueue) || settings.maxQueue < 0)
      throw new Error(`maxQueue must be an integer >= 0 (got ${settings.maxQueue})`);
    if (!(settings.maxWaitMs >= 0)) throw new Error(`maxWaitMs must be >= 0 (got ${settings.maxWaitMs})`);
    const cap = settings.stepsWhenQueued;
    if (cap !== undefined && !(Number.isInteger(cap) && cap >= 1))
      throw new Error(`stepsWhenQueued must be an integer >= 1 (got ${cap})`);
    const timeout = settings.queueTimeoutMs ?? 0;
    if (!(timeout >= 0)) throw new Error(`queueTimeoutMs must be >= 0 (got ${timeout})`);
    this.lanes = lanes.map((lane) => ({ lane, rows: [], alive: true, busy: false }));
    this.loops = this.lanes.map((s) => this.runLane(s));
  }

  /** Queues a puzzle; resolves with its answer. The request is trusted (the engine validates it). */
  solve(request: SolveRequest): Promise<SolveResult> {
    if (this.draining || this.closed)
      return Promise.reject(new EngineUnavailableError('the engine is shutting down and takes no new puzzles'));
    if (this.unavailable !== null) return Promise.reject(new EngineUnavailableError(this.unavailable));
    if (request.signal?.aborted) return Promise.reject(abortReason(request.signal));
    // Puzzles that a free row takes at the next step do not wait for a slot, so they do not count against
    // maxQueue: with maxQueue 0 a puzzle is taken while a row is free and refused otherwise. Background puzzles
    // count against it only among themselves.
    const waiting = request.background ? this.queue.length : this.queue.filter((j) => !j.request.background).length;
    if (waiting - this.freeRows() >= this.settings.maxQueue)
      return Promise.reject(new QueueFullError(this.settings.maxQueue));
    return new Promise<SolveResult>((resolve, reject) => {
      const job: Job = {
        request,
        resolve,
        reject,
        enqueuedAt: performance.now(),
        admittedAt: 0,
        steps: 0,
        trace: request.trace ? [] : undefined,
        done: false,
        detach: () => {},
      };
      const signal = request.signal;
      if (signal) {
        const onAbort = () => {
          if (job.done) return;
          const i = this.queue.indexOf(job);
          if (i >= 0) this.queue.splice(i, 1);
          // A job in a row is only marked: its row is freed at the next step, and a result in flight is ignored.
          this.fail(job, abortReason(signal));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        job.detach = () => signal.removeEventListener('abort', onAbort);
      }
      const timeoutMs = this.settings.queueTimeoutMs ?? 0;
      if (timeoutMs > 0)
        job.queueTimer = setTimeout(() => {
          const i = this.queue.indexOf(job);
          if (i < 0) return;
          this.queue.splice(i, 1);
          this.fail(job, new QueueTimeoutError(timeoutMs));
          this.notify();
        }, timeoutMs);
      this.queue.push(job);
      this.notify();
    });
  }

  get queueDepth(): number {
    return this.queue.length;
  }

  /** Rows holding a puzzle, over all lanes. */
  get activeSlots(): number {
    return this.lanes.reduce((n, s) => n + s.rows.filter((j) => j !== null && !j.done).length, 0);
  }

  get totalSlots(): number {
    return this.lanes.length * this.settings.maxBatch;
  }

  /** Rows of the lanes that take steps now that hold no puzzle. */
  private freeRows(): number {
    let free = 0;
    for (const s of this.lanes) {
      if (!s.alive || !s.lane.isReady()) continue;
      free += this.settings.maxBatch - s.rows.filter((j) => j !== null && !j.done).length;
    }
    return free;
  }

  /** True while puzzles are taken: not draining and at least one lane can run. */
  accepting(): boolean {
    return !this.draining && !this.closed && this.unavailable === null && this.lanes.some((s) => s.lane.isReady());
  }

  /**
   * Fails every puzzle still waiting for a row with EngineUnavailableError(reason) and returns how many there were;
   * puzzles in a row go on. A second stop signal uses it to shorten the drain without cutting a step short.
   */
  refuseQueued(reason: string): number {
    const refused = this.queue.splice(0);
    for (const job of refused) this.fail(job, new EngineUnavailableError(reason));
    this.notify();
    return refused.length;
  }

  /** Stops taking puzzles and resolves once everything queued or in a row is answered (or failed). */
  async drain(): Promise<void> {
    this.draining = true;
    this.notify();
    while (this.queue.length > 0 || this.lanes.some((s) => s.busy || this.hasActiveRows(s))) await this.nextChange();
    this.closed = true;
    this.notify();
    await Promise.all(this.loops);
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private nextChange(): Promise<void> {
    return new Promise((r) => this.waiters.push(r));
  }

  private async runLane(s: LaneState): Promise<void> {
    while (!this.closed && s.alive) {
      if (!s.lane.isReady()) {
        // Its worker died while the lane was idle: puzzles wait for the replacement rather than fail on it.
        await this.waitForLane(s);
        continue;
      }
      if (!this.hasActiveRows(s)) {
        if (this.queue.length === 0) {
          await this.nextChange();
          continue;
        }
        await this.batchWindow();
        if (this.queue.length === 0) continue;
      }
      const plan = this.plan(s);
      if (plan === null) continue;
      s.busy = true;
      try {
        const result = await s.lane.step(plan);
        this.answer(s, result);
      } catch (err) {
        await this.laneFailed(s, err);
      } finally {
        s.busy = false;
        this.notify();
      }
    }
  }

  private hasActiveRows(s: LaneState): boolean {
    return s.rows.some((j) => j !== null && !j.done);
  }

  /** An idle lane's first puzzle waits up to maxWaitMs for others, unless a full batch is already queued. */
  private async batchWindow(): Promise<void> {
    while (this.queue.length > 0 && this.queue.length < this.settings.maxBatch && !this.draining) {
      const left = this.settings.maxWaitMs - (performance.now() - this.queue[0]!.enqueuedAt);
      if (left <= 0) return;
      await Promise.race([sleep(left), this.nextChange()]);
    }
  }

  /** The next puzzle to take a row: the first that is not background, else the first. */
  private admit(): Job | null {
    if (this.queue.length === 0) return null;
    const first = this.queue.findIndex((j) => !j.request.background);
    const [job] = this.queue.splice(Math.max(first, 0), 1) as [Job]; // -1: only background ones wait
    clearTimeout(job.queueTimer);
    job.admittedAt = performance.now();
    return job;
  }

  /** The next step's rows, or null when there is nothing to run. */
  private plan(s: LaneState): StepPlan | null {
    const start = (job: Job): RowPlan => ({
      kind: 'start',
      tokens: job.request.tokens,
      puzzleEmb: job.request.puzzleEmb,
    });
    const max = this.settings.maxBatch;
    if (s.lane.layout === 'compact') {
      const rows: RowPlan[] = [];
      const jobs: Job[] = [];
      s.rows.forEach((job, i) => {
        if (job === null || job.done) return;
        rows.push({ kind: 'keep', from: i });
        jobs.push(job);
      });
      while (jobs.length < max) {
        const job = this.admit();
        if (!job) break;
        rows.push(start(job));
        jobs.push(job);
      }
      if (jobs.length === 0) {
        s.rows = [];
        return null;
      }
      s.rows = jobs;
      return { rows, limits: limitsOf(jobs, this.runCap()) };
    }
    // Fixed rows: a batch keeps its size until it empties.
    const live = s.rows.map((j) => (j !== null && !j.done ? j : null));
    let size = live.length;
    if (!live.some((j) => j !== null)) size = Math.min(max, nextPowerOfTwo(this.queue.length));
    if (size === 0) {
      s.rows = [];
      return null;
    }
    const free = live.length === size ? live.filter((j) => j === null).length : size;
    // When more puzzles wait than this batch has free rows and a larger batch is allowed, stop refilling so the
    // batch empties and the next one starts at the size the queue needs.
    const refill = !(this.queue.length > free && size < max);
    const rows: RowPlan[] = [];
    const jobs: (Job | null)[] = [];
    for (let i = 0; i < size; i++) {
      const kept = live.length === size ? live[i]! : null;
      if (kept) {
        rows.push({ kind: 'keep', from: i });
        jobs.push(kept);
        continue;
      }
      const job = refill ? this.admit() : null;
      rows.push(job ? start(job) : { kind: 'idle' });
      jobs.push(job);
    }
    if (!jobs.some((j) => j !== null)) {
      s.rows = [];
      return null;
    }
    s.rows = jobs;
    return { rows, limits: limitsOf(jobs, this.runCap()) };
  }

  /** The most steps of the next run: stepsWhenQueued while puzzles still wait after the rows were filled. */
  private runCap(): number {
    return this.queue.length > 0
      ? (this.settings.stepsWhenQueued ?? Number.POSITIVE_INFINITY)
      : Number.POSITIVE_INFINITY;
  }

  /**
   * Takes a run's steps in order: after each, a row that halted or used its steps leaves with the answer of that
   * step, so a run of k steps answers exactly as k runs of one step would (the later steps of a row that left are
   * computed and ignored).
   */
  private answer(s: LaneState, result: StepResult): void {
    for (let j = 0; j < result.steps; j++) this.answerStep(s, result, j);
  }

  private answerStep(s: LaneState, result: StepResult, j: number): void {
    const S = this.settings.seqLen;
    const k = result.steps;
    s.rows.forEach((job, i) => {
      if (job === null || job.done) return;
      job.steps++;
      const at = i * k + j;
      const q = result.qHalt[at]!;
      const event: StepEvent = {
        step: job.steps,
        tokens: result.tokens.slice(at * S, (at + 1) * S),
        haltProbability: sigmoid(q),
      };
      job.trace?.push(event);
      if (job.request.onStep) {
        try {
          job.request.onStep(event);
        } catch (err) {
          this.fail(job, err);
          return;
        }
      }
      // An answer that the rule check refuses keeps its row for another step (the others of the batch go on as before).
      let outcome: { ends: boolean; halted: boolean };
      try {
        outcome = stepOutcome(job.request, job.steps, event.haltProbability, event.tokens);
      } catch (err) {
        this.fail(job, err);
        return;
      }
      if (!outcome.ends) return;
      job.done = true;
      job.detach();
      const now = performance.now();
      job.resolve({
        tokens: event.tokens,
        steps: job.steps,
        haltProbability: event.haltProbability,
        halted: outcome.halted,
        ...(job.trace ? { trace: job.trace } : {}),
        timing: { queueMs: job.admittedAt - job.enqueuedAt, computeMs: now - job.admittedAt },
      });
    });
  }

  private fail(job: Job, err: unknown): void {
    if (job.done) return;
    job.done = true;
    clearTimeout(job.queueTimer);
    job.detach();
    job.reject(err);
  }

  private async laneFailed(s: LaneState, err: unknown): Promise<void> {
    const lost = s.rows;
    s.rows = [];
    if (!(err instanceof EngineUnavailableError)) {
      const e = new Error(`the supervision step failed: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      });
      for (const job of lost) if (job) this.fail(job, e);
      return;
    }
    for (const job of lost) if (job) this.fail(job, err);
    await this.waitForLane(s);
  }

  /** Waits until the lane's worker is replaced; a lane that never will be (closed) is out for good. */
  private async waitForLane(s: LaneState): Promise<void> {
    try {
      await s.lane.whenReady();
    } catch (restartErr) {
      s.alive = false;
      if (this.lanes.every((x) => !x.alive)) {
        this.unavailable = `no inference worker could be restarted: ${restartErr instanceof Error ? restartErr.message : String(restartErr)}`;
        for (const job of this.queue.splice(0)) this.fail(job, new EngineUnavailableError(this.unavailable));
      }
    }
  }
}

/**
 * Each row's halt logit threshold (sigmoid(q) > t <=> q > logit(t)) and steps left, so that a run of several steps
 * can end once no row goes on. Only work is saved: halting is still decided here, step by step. `cap` bounds the
 * steps left of every row, so the run ends after at most `cap` steps; a row's steps left also end at its settleFrom.
 */
function limitsOf(jobs: (Job | null)[], cap: number): NonNullable<StepPlan['limits']> {
  const haltLogit = new Float32Array(jobs.length);
  const stepsLeft = new Int32Array(jobs.length);
  jobs.forEach((job, i) => {
    if (job === null || job.done) {
      haltLogit[i] = Number.NEGATIVE_INFINITY;
      return;
    }
    const t = job.request.haltThreshold;
    haltLogit[i] = t >= 1 ? Number.POSITIVE_INFINITY : t <= 0 ? Number.NEGATIVE_INFINITY : Math.log(t / (1 - t));
    // A run ends at a row's settleFrom step, where the host may settle it, rather than running past it.
    const settleFrom = job.request.settleFrom;
    const toSettle =
      settleFrom !== undefined && settleFrom > job.steps ? settleFrom - job.steps : Number.POSITIVE_INFINITY;
    stepsLeft[i] = Math.max(0, Math.min(cap, toSettle, job.request.maxSteps - job.steps));
  });
  return { haltLogit, stepsLeft };
}

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
