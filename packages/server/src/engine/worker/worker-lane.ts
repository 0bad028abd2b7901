// The main thread's handle on one inference worker, as a batcher lane. When the worker dies, its step rejects with
// EngineUnavailableError at once and a replacement starts with the provider the first one settled on; the lane is
// ready again when it has loaded the model. A step past the step timeout is treated the same way. A replacement
// that fails to start is tried again with exponential backoff for as long as the lane lives (a model file fixed
// in the meantime brings it back); after `restartAttempts` failures in a row the lane reports itself broken.
//
// Worker.terminate() is never used: terminating a thread while onnxruntime-node is inside session.run aborts the
// whole process ("terminate called after throwing an instance of 'Napi::Error'", measured with onnxruntime-node
// 1.29.0). A worker that must go is told to exit at its next message (after the native call returns) and
// unref'd, so that a hung call can neither block the replacement nor keep the process alive.
import type { Worker } from 'node:worker_threads';
import type { Lane } from '../batcher.js';
import type { RowLayout, StepPlan, StepResult } from '../step/plan.js';
import { EngineUnavailableError } from '../types.js';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';
import { startWorker } from './worker-entry.js';

export interface WorkerLaneOptions {
  /** how long a worker may take to load the model */
  startTimeoutMs: number;
  /** how long one step may take before the worker is considered hung and replaced */
  stepTimeoutMs: number;
  /** failed replacements in a row after which the lane reports itself broken (it keeps trying) */
  restartAttempts: number;
  /** wait before retrying a failed replacement; doubles with every failure in a row (default 500 ms) */
  restartBackoffMs?: number;
  /** the longest wait between two replacement attempts (default 30 s) */
  restartBackoffMaxMs?: number;
  /** told about every worker that died, every replacement and every failed one (for logs) */
  onWorkerEvent?: (event: WorkerEvent) => void;
  /** how long close() waits for the worker's current step before letting the worker go (default 10 s) */
  closeTimeoutMs?: number;
}

export type WorkerEvent =
  | { kind: 'died'; lane: number; reason: string }
  | { kind: 'replaced'; lane: number; ms: number; attempts: number }
  | {
      kind: 'restart-failed';
      lane: number;
      /** failures in a row so far */
      attempt: number;
      reason: string;
      /** when the next attempt starts */
      retryInMs: number;
      /** attempt >= restartAttempts: the lane now reports itself broken */
      broken: boolean;
    };

/** One line for the server log about a worker event of model `model`. */
export function workerEventLine(model: string, e: WorkerEvent): string {
  const worker = `model ${model}: inference worker ${e.lane}`;
  switch (e.kind) {
    case 'died':
      return `${worker} stopped (${e.reason}); starting a replacement`;
    case 'replaced':
      return `${worker} replaced in ${Math.round(e.ms)} ms${e.attempts > 1 ? ` (attempt ${e.attempts})` : ''}`;
    case 'restart-failed':
      return (
        `${worker} could not be restarted (attempt ${e.attempt}: ${e.reason}); next attempt in ${(e.retryInMs / 1000).toFixed(1)} s` +
        (e.broken ? '; the model reports itself broken (/healthz answers 503) until a replacement starts' : '')
      );
  }
}

/** What a lane reports about its worker (Engine.health builds on it). */
export interface LaneHealth {
  state: 'ready' | 'restarting' | 'closed';
  /** failed replacements in a row (0 once one starts) */
  failedRestarts: number;
  /** failedRestarts >= restartAttempts */
  broken: boolean;
  /** why the last worker stopped or the last replacement failed */
  lastError: string | null;
}

export type ReadyInfo = Extract<FromWorker, { type: 'ready' }>;

interface PendingStep {
  id: number;
  resolve: (r: StepResult) => void;
  reject: (e: unknown) => void;
  timer: NodeJS.Timeout;
}

/** Every inference worker thread of this process that has not exited yet, those let go included. */
const liveThreads = new Set<Worker>();

/**
 * Resolves true once every inference worker thread of this process has exited, false if one still runs after
 * `timeoutMs`. A worker that was let go (a step longer than close() waited, a hung step, a replacement that loaded
 * after its lane closed) exits when its native call returns; the process must not exit before that, or ONNX Runtime
 * aborts it. The wait itself keeps the process alive, which the let-go workers no longer do.
 */
export async function workerThreadsExited(timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((r) => {
    timer = setTimeout(() => r(false), timeoutMs);
  });
  try {
    while (liveThreads.size > 0) {
      const exits = [...liveThreads].map((w) => new Promise<void>((r) => w.once('exit', () => r())));
      if (!(await Promise.race([Promise.all(exits).then(() => true), timedOut]))) return false;
    }
    return true;
  } finally {
    clearTimeout(timer);
  }
}

/** Lets a worker go without terminate(): it exits at its next message, and no longer holds the process open. */
function release(worker: Worker, how: ToWorker = { type: 'close' }): void {
  try {
    worker.postMessage(how);
  } catch {
    // the port is already closed: the worker is gone
  }
  worker.unref();
}

/** Starts a worker and waits for its `ready`; a failed start rejects with the worker's reason. */
function spawn(init: WorkerInit, timeoutMs: number): Promise<{ worker: Worker; ready: ReadyInfo }> {
  const worker = startWorker(init);
  liveThreads.add(worker);
  worker.once('exit', () => liveThreads.delete(worker));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      release(worker);
      reject(new Error(`the inference worker did not load the model within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (m: FromWorker) => {
      if (m.type === 'ready') {
        cleanup();
        resolve({ worker, ready: m });
      } else if (m.type === 'start-failed') {
        cleanup();
        worker.unref();
        reject(new Error(m.message));
      }
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new Error(`the inference worker failed to start: ${err.message}`));
    };
    const onExit = (code: number) => {
      cleanup();
      reject(new Error(`the inference worker exited with code ${code} while starting`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

export class WorkerLane implements Lane {
  readonly layout: RowLayout;
  private worker: Worker | null = null;
  private pending: PendingStep | null = null;
  private nextId = 1;
  private readyPromise: Promise<void> = Promise.resolve();
  private state: 'ready' | 'restarting' | 'closed' = 'ready';
  /** why the current worker is going away, when known before its exit event */
  private exitReason: string | null = null;
  private lastError: string | null = null;
  private failedRestarts = 0;
  /** ends the wait between two replacement attempts early (close) */
  private wake: (() => void) | null = null;

  private constructor(
    readonly index: number,
    private readonly init: WorkerInit,
    readonly info: ReadyInfo,
    worker: Worker,
    private readonly options: WorkerLaneOptions,
  ) {
    this.layout = info.layout;
    this.attach(worker);
  }

  /**
   * Starts the lane's first worker. For an ONNX source, replacements use the provider this worker settled on,
   * so `auto` is resolved once.
   */
  static async start(index: number, init: WorkerInit, options: WorkerLaneOptions): Promise<WorkerLane> {
    const { worker, ready } = await spawn(init, options.startTimeoutMs);
    const settled: WorkerInit =
      init.source.kind === 'onnx' && ready.provider ? { source: { ...init.source, ep: ready.provider } } : init;
    return new WorkerLane(index, settled, ready, worker, options);
  }

  isReady(): boolean {
    return this.state === 'ready';
  }

  /** Resolves once a worker takes steps (at once while one does); rejects once the lane is closed. */
  whenReady(): Promise<void> {
    if (this.state === 'closed') return Promise.reject(new EngineUnavailableError('the engine stopped'));
    return this.readyPromise;
  }

  health(): LaneHealth {
    return {
      state: this.state,
      failedRestarts: this.failedRestarts,
      broken: this.failedRestarts >= this.options.restartAttempts,
      lastError: this.lastError,
    };
  }

  /** The worker's thread id (for logs), -1 while none runs. */
  get threadId(): number {
    return this.worker?.threadId ?? -1;
  }

  step(plan: StepPlan): Promise<StepResult> {
    if (this.state !== 'ready' || !this.worker)
      return Promise.reject(
        new EngineUnavailableError(
          `inference worker ${this.index} is not running${this.lastError ? ` (${this.lastError})` : ''}`,
        ),
      );
    if (this.pending) return Promise.reject(new Error('a step is already in flight on this worker'));
    const worker = this.worker;
    return new Promise<StepResult>((resolve, reject) => {
      const id = this.nextId++;
      const timer = setTimeout(
        () => this.abandon(worker, `a step took longer than ${this.options.stepTimeoutMs} ms`),
        this.options.stepTimeoutMs,
      );
      this.pending = { id, resolve, reject, timer };
      worker.postMessage({ type: 'step', id, plan } satisfies ToWorker);
    });
  }

  /**
   * Makes the worker exit (process.exit inside the thread) once its current step returns: the puzzles it holds
   * fail with EngineUnavailableError and a replacement starts, as after a crash. For operations and tests.
   */
  kill(): void {
    if (!this.worker || this.state !== 'ready') return;
    this.exitReason = 'stopped on request';
    this.worker.postMessage({ type: 'exit', code: 1 } satisfies ToWorker);
  }

  /** Stops the worker after its current step; the lane takes no more steps. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.state = 'closed';
    this.worker = null;
    this.wake?.();
    this.failPending(new EngineUnavailableError('the engine stopped'));
    if (!worker) return;
    const exited = new Promise<boolean>((r) => worker.once('exit', () => r(true)));
    worker.postMessage({ type: 'close' } satisfies ToWorker);
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<boolean>((r) => {
      timer = setTimeout(() => r(false), this.options.closeTimeoutMs ?? 10_000);
    });
    if (!(await Promise.race([exited, gaveUp]))) worker.unref();
    clearTimeout(timer);
  }

  private attach(worker: Worker): void {
    this.worker = worker;
    worker.on('message', (m: FromWorker) => {
      const p = this.pending;
      if (worker !== this.worker || !p || (m.type !== 'stepped' && m.type !== 'step-failed') || m.id !== p.id) return;
      clearTimeout(p.timer);
      this.pending = null;
      if (m.type === 'stepped') p.resolve({ steps: m.steps, tokens: m.tokens, qHalt: m.qHalt });
      else p.reject(new Error(m.message));
    });
    worker.on('error', (err) => {
      if (worker === this.worker) this.exitReason ??= `uncaught error: ${err.message}`;
    });
    worker.on('exit', (code) => {
      if (worker === this.worker) this.abandon(worker, this.exitReason ?? `exit code ${code}`, false);
    });
  }

  private failPending(err: unknown): void {
    const p = this.pending;
    this.pending = null;
    if (!p) return;
    clearTimeout(p.timer);
    p.reject(err);
  }

  /** Gives up on `worker` (dead, or to be let go): its step fails now, and a replacement starts. */
  private abandon(worker: Worker, reason: string, alive = true): void {
    if (worker !== this.worker || this.state !== 'ready') return;
    this.worker = null;
    this.exitReason = null;
    this.state = 'restarting';
    if (alive) release(worker);
    this.lastError = reason;
    this.options.onWorkerEvent?.({ kind: 'died', lane: this.index, reason });
    this.failPending(
      new EngineUnavailableError(
        `the inference worker running this puzzle stopped (${reason}); it is being replaced, retry the request`,
      ),
    );
    this.readyPromise = this.restart();
    // The batcher awaits readyPromise; keep a rejection nobody awaited yet from being reported as unhandled.
    this.readyPromise.catch(() => {});
  }

  private async restart(): Promise<void> {
    const t0 = performance.now();
    const closed = () => (this.state as string) === 'closed';
    const base = this.options.restartBackoffMs ?? 500;
    const max = this.options.restartBackoffMaxMs ?? 30_000;
    for (let attempt = 1; !closed(); attempt++) {
      try {
        const { worker } = await spawn(this.init, this.options.startTimeoutMs);
        if (closed()) {
          release(worker);
          break;
        }
        this.lastError = null;
        this.failedRestarts = 0;
        this.attach(worker);
        this.state = 'ready';
        this.options.onWorkerEvent?.({
          kind: 'replaced',
          lane: this.index,
          ms: performance.now() - t0,
          attempts: attempt,
        });
        return;
      } catch (err) {
        if (closed()) break;
        const reason = err instanceof Error ? err.message : String(err);
        this.lastError = reason;
        this.failedRestarts = attempt;
        const retryInMs = Math.min(max, base * 2 ** (attempt - 1));
        this.options.onWorkerEvent?.({
          kind: 'restart-failed',
          lane: this.index,
          attempt,
          reason,
          retryInMs,
          broken: attempt >= this.options.restartAttempts,
        });
        await this.pause(retryInMs);
      }
    }
    throw new EngineUnavailableError('the engine stopped');
  }

  /** Waits `ms`, or less when the lane is closed meanwhile. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }
}
