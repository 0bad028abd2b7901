// The main thread's handle on one inference worker, as a batcher lane. When the worker dies, its step rejects with
// EngineUnavailableError at once and a replacement starts with the provider the first one settled on; the lane is
// ready again when it has loaded the model. A step past the step timeout is treated the same way.
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
  /** replacement attempts after a worker died, before the lane gives up */
  restartAttempts: number;
  /** told about every worker that died and whether it was replaced (for logs) */
  onWorkerEvent?: (event: WorkerEvent) => void;
}

export type WorkerEvent =
  | { kind: 'died'; lane: number; reason: string }
  | { kind: 'replaced'; lane: number; ms: number }
  | { kind: 'restart-failed'; lane: number; reason: string };

export type ReadyInfo = Extract<FromWorker, { type: 'ready' }>;

interface PendingStep {
  id: number;
  resolve: (r: StepResult) => void;
  reject: (e: unknown) => void;
  timer: NodeJS.Timeout;
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
  private state: 'ready' | 'restarting' | 'failed' | 'closed' = 'ready';
  /** why the current worker is going away, when known before its exit event */
  private exitReason: string | null = null;
  private lastError: string | null = null;

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

  whenReady(): Promise<void> {
    return this.readyPromise;
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
    this.failPending(new EngineUnavailableError('the engine stopped'));
    if (!worker) return;
    const exited = new Promise<boolean>((r) => worker.once('exit', () => r(true)));
    worker.postMessage({ type: 'close' } satisfies ToWorker);
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<boolean>((r) => {
      timer = setTimeout(() => r(false), 10_000);
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
      if (m.type === 'stepped') p.resolve({ tokens: m.tokens, qHalt: m.qHalt });
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
    let last: unknown;
    const closed = () => (this.state as string) === 'closed';
    for (let attempt = 0; attempt < this.options.restartAttempts; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
      if (closed()) throw new EngineUnavailableError('the engine stopped');
      try {
        const { worker } = await spawn(this.init, this.options.startTimeoutMs);
        if (closed()) {
          release(worker);
          throw new EngineUnavailableError('the engine stopped');
        }
        this.lastError = null;
        this.attach(worker);
        this.state = 'ready';
        this.options.onWorkerEvent?.({ kind: 'replaced', lane: this.index, ms: performance.now() - t0 });
        return;
      } catch (err) {
        last = err;
      }
    }
    this.state = 'failed';
    const reason = last instanceof Error ? last.message : String(last);
    this.lastError = reason;
    this.options.onWorkerEvent?.({ kind: 'restart-failed', lane: this.index, reason });
    throw new EngineUnavailableError(`inference worker ${this.index} could not be restarted: ${reason}`);
  }
}
