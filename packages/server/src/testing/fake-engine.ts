// A SolveEngine without ONNX Runtime, so the HTTP layer can be tested alone: it "solves" deterministically with
// real solvers from @trm/core (sudoku by backtracking, mazes by the canonical shortest path) and echoes ARC grids,
// with the knobs the HTTP layer must cope with: a delay per supervision step, a number of batch slots, a queue
// limit (QueueFullError) and a queue timeout (QueueTimeoutError), readiness, draining, injected failures, aborts
// through the request's signal, answers that change from step to step, and the request's rule check of a halt.
import {
  decodeMaze,
  decodeSudoku,
  encodeMaze,
  encodeSudoku,
  getPreset,
  labelMaze,
  type ModelConfig,
  solveSudoku,
  type TaskName,
} from '@trm/core';
import {
  type EngineHealth,
  EngineUnavailableError,
  type EngineInfo,
  type EngineStats,
  QueueFullError,
  QueueTimeoutError,
  type SolveEngine,
  type SolveRequest,
  type SolveResult,
  type StepEvent,
} from '../engine/types.js';
import { stepOutcome } from '../engine/solve-request.js';

const PRESET_OF_TASK: Record<TaskName, string> = { sudoku: 'sudoku-tiny', maze: 'maze-tiny', arc: 'arc-tiny' };

export interface FakeEngineOptions {
  task?: TaskName;
  /** model name (default `fake-<task>`) */
  name?: string;
  config?: ModelConfig;
  /** wall time of one supervision step (default 0: the next macrotask) */
  stepDelayMs?: number;
  /** puzzles computed at once (default 8) */
  slots?: number;
  /** puzzles allowed to wait for a slot before QueueFullError (default 1000) */
  maxQueue?: number;
  /** a puzzle that waited this long for a slot fails with QueueTimeoutError (default 0: no limit) */
  queueTimeoutMs?: number;
  /** readiness at construction (default true) */
  ready?: boolean;
  /** halt probability after a step (default 1 - 2^-step: 0.5, 0.75, ...; halts at step 2 with threshold 0.5) */
  haltProbability?: (step: number) => number;
  /** the answer tokens after a step of the puzzle `tokens` (default: fakeEngineAnswer at every step) */
  answerAt?: (step: number, tokens: Uint8Array) => Uint8Array;
  /** EngineInfo.providerNotes (default: one note that says it is the fake engine) */
  providerNotes?: string[];
  /** a puzzle-embedding table by puzzle id (as the ONNX engine reads from identifiers.json) */
  puzzleRows?: ReadonlyMap<string, Float32Array>;
}

/** The answer the fake engine gives: the real solution where there is one, else the input unchanged. */
export function fakeEngineAnswer(task: TaskName, tokens: Uint8Array): Uint8Array {
  if (task === 'sudoku') {
    const cells = decodeSudoku(tokens).flat();
    const solved = solveSudoku(cells, { limit: 1 });
    return solved.solution ? encodeSudoku(toRows(Array.from(solved.solution), 9)) : tokens.slice();
  }
  if (task === 'maze') {
    const question = decodeMaze(tokens).join('');
    const labelled = labelMaze(question, 30);
    return labelled ? encodeMaze(toStrings(labelled.answer, 30)) : tokens.slice();
  }
  return tokens.slice();
}

function toRows(values: number[], side: number): number[][] {
  return Array.from({ length: values.length / side }, (_, r) => values.slice(r * side, (r + 1) * side));
}

function toStrings(s: string, side: number): string[] {
  return Array.from({ length: s.length / side }, (_, r) => s.slice(r * side, (r + 1) * side));
}

interface Waiter {
  start: () => void;
  onAbort: () => void;
  refuse: (err: Error) => void;
}

function abortError(): Error {
  const err = new Error('the request was aborted');
  err.name = 'AbortError';
  return err;
}

export class FakeEngine implements SolveEngine {
  readonly info: EngineInfo;
  /** every request the engine accepted, in order (tests inspect what the HTTP layer sent) */
  readonly received: SolveRequest[] = [];
  /**
   * When set, the next solve that gets a slot rejects with `error` after `afterSteps` supervision steps (default
   * 0: before the first), as a failing worker would.
   */
  failNext: { error: Error; afterSteps?: number } | null = null;
  private isReady: boolean;
  private notReadyProblem = 'the model is loading';
  private broken: string | null = null;
  private draining = false;
  private active = 0;
  private readonly queue: Waiter[] = [];
  private readonly slots: number;
  private readonly maxQueue: number;
  private readonly queueTimeoutMs: number;
  private readonly stepDelayMs: number;
  private readonly haltProbability: (step: number) => number;
  private readonly answerAt: ((step: number, tokens: Uint8Array) => Uint8Array) | undefined;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly puzzleRows: ReadonlyMap<string, Float32Array>;

  constructor(options: FakeEngineOptions = {}) {
    const task = options.task ?? options.config?.task ?? 'sudoku';
    const config = options.config ?? getPreset(PRESET_OF_TASK[task]).model;
    this.info = {
      name: options.name ?? `fake-${task}`,
      task,
      config,
      executionProvider: 'cpu',
      providerNotes: options.providerNotes ?? ['fake engine: no ONNX Runtime'],
      dtype: 'fp32',
      maxBatch: options.slots ?? 8,
      workers: 1,
      stepsPerRun: 1,
    };
    this.slots = options.slots ?? 8;
    this.maxQueue = options.maxQueue ?? 1000;
    this.queueTimeoutMs = options.queueTimeoutMs ?? 0;
    this.stepDelayMs = options.stepDelayMs ?? 0;
    this.isReady = options.ready ?? true;
    this.haltProbability = options.haltProbability ?? ((step) => 1 - 0.5 ** step);
    this.answerAt = options.answerAt;
    this.puzzleRows = options.puzzleRows ?? new Map();
  }

  puzzleRow(puzzleId: string): Float32Array | undefined {
    return this.puzzleRows.get(puzzleId);
  }

  ready(): boolean {
    return this.isReady && !this.draining;
  }

  /** `problem` is what health() says while not ready */
  setReady(ready: boolean, problem = 'the model is loading'): void {
    this.isReady = ready;
    this.notReadyProblem = problem;
  }

  /** Marks the engine broken beyond its own repair (health().live false) with `problem`, or repaired (null). */
  setBroken(problem: string | null): void {
    this.broken = problem;
  }

  health(): EngineHealth {
    if (this.draining) return { live: true, problem: 'the engine is draining' };
    if (this.broken !== null) return { live: false, problem: this.broken };
    return { live: true, problem: this.isReady ? null : this.notReadyProblem };
  }

  stats(): EngineStats {
    return { queueDepth: this.queue.length, activeSlots: this.active, totalSlots: this.slots };
  }

  async solve(request: SolveRequest): Promise<SolveResult> {
    if (!this.ready())
      throw new EngineUnavailableError(this.draining ? 'the engine is draining' : 'the engine is not ready');
    if (request.signal?.aborted) throw abortError();
    this.received.push(request);
    const queuedAt = performance.now();
    await this.acquireSlot(request.signal);
    const startedAt = performance.now();
    try {
      const failure = this.failNext;
      this.failNext = null;
      if (failure && !failure.afterSteps) throw failure.error;
      let solved: Uint8Array | undefined;
      const answerAt =
        this.answerAt ?? ((_step: number, tokens: Uint8Array) => (solved ??= fakeEngineAnswer(this.info.task, tokens)));
      const trace: StepEvent[] = [];
      let step = 0;
      let p = 0;
      let halted = false;
      let answer = request.tokens;
      while (step < request.maxSteps) {
        await new Promise((r) => setTimeout(r, this.stepDelayMs));
        if (request.signal?.aborted) throw abortError();
        if (failure && step === failure.afterSteps) throw failure.error;
        step += 1;
        p = this.haltProbability(step);
        answer = answerAt(step, request.tokens);
        const event: StepEvent = { step, tokens: answer, haltProbability: p };
        if (request.trace) trace.push(event);
        request.onStep?.(event);
        // As the batcher decides.
        const outcome = stepOutcome(request, step, p, answer);
        if (outcome.ends) {
          halted = outcome.halted;
          break;
        }
      }
      return {
        tokens: answer,
        steps: step,
        haltProbability: p,
        halted,
        ...(request.trace ? { trace } : {}),
        timing: { queueMs: startedAt - queuedAt, computeMs: performance.now() - startedAt },
      };
    } finally {
      this.releaseSlot();
    }
  }

  async drain(): Promise<void> {
    this.draining = true;
    if (this.active === 0 && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  refuseQueued(reason: string): number {
    const refused = this.queue.splice(0);
    for (const waiter of refused) waiter.refuse(new EngineUnavailableError(reason));
    this.notifyIdle();
    return refused.length;
  }

  private acquireSlot(signal?: AbortSignal): Promise<void> {
    if (this.active < this.slots) {
      this.active += 1;
      return Promise.resolve();
    }
    if (this.queue.length >= this.maxQueue) return Promise.reject(new QueueFullError(this.maxQueue));
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter: Waiter = {
        start: () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', waiter.onAbort);
          resolve();
        },
        onAbort: () => {
          clearTimeout(timer);
          const i = this.queue.indexOf(waiter);
          if (i >= 0) this.queue.splice(i, 1);
          reject(abortError());
          this.notifyIdle();
        },
        refuse: (err) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', waiter.onAbort);
          reject(err);
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.queue.push(waiter);
      if (this.queueTimeoutMs > 0)
        timer = setTimeout(() => {
          const i = this.queue.indexOf(waiter);
          if (i < 0) return;
          this.queue.splice(i, 1);
          waiter.refuse(new QueueTimeoutError(this.queueTimeoutMs));
          this.notifyIdle();
        }, this.queueTimeoutMs);
    });
  }

  private releaseSlot(): void {
    const next = this.queue.shift();
    if (next) next.start();
    else this.active -= 1;
    this.notifyIdle();
  }

  private notifyIdle(): void {
    if (this.active > 0 || this.queue.length > 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
