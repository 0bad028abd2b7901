// The engine's contract with the rest of the server: what a solve request is, what comes back, and the errors the
// HTTP layer maps to status codes. The engine runs the exported step graph (ARCHITECTURE.md, "ONNX step graph")
// up to `maxSteps` times per puzzle with continuous batching; nothing here knows about HTTP.
import type { ExecutionProviderName, ModelConfig, TaskName } from '@trm/core';

/** Execution providers the engine can run on (core's list); `auto` tries them in the list's order. */
export type { ExecutionProviderName };
export type ExecutionProviderChoice = ExecutionProviderName | 'auto';

/** One puzzle to solve, already encoded for the model (task codecs in @trm/core do the encoding). */
export interface SolveRequest {
  /** token ids, length = config.seq_len */
  tokens: Uint8Array;
  /** puzzle-embedding row (length puzzle_emb_ndim), or undefined to use zeros (a puzzle the model has no row for) */
  puzzleEmb?: Float32Array;
  /** 1..MAX_STEPS_LIMIT (solve-request.ts); the loop stops after this many supervision steps at the latest */
  maxSteps: number;
  /** stop as soon as sigmoid(q_halt) > haltThreshold; a value >= 1 never halts early */
  haltThreshold: number;
  /**
   * The task's rule check of an answer (argmax tokens after a step). A puzzle whose halt probability crossed the
   * threshold stops only when this accepts its answer, else it runs on to maxSteps; it is asked only then, so it
   * costs nothing on the other steps. Absent: the halt probability alone decides. A throw fails this puzzle only.
   */
  acceptAnswer?: (tokens: Uint8Array) => boolean;
  /**
   * With acceptAnswer: from this step on (1..maxSteps) an answer that acceptAnswer accepts ends the puzzle whatever
   * its halt probability, as the model's last trained step would; a refused answer runs on to maxSteps. The server
   * sets it to the model's halt_max_steps so that a puzzle the model leaves unsolved gets more steps. Absent: only
   * the halt probability can end a puzzle before maxSteps.
   */
  settleFrom?: number;
  /**
   * A copy that only helps another puzzle (the server's views): it takes a row only when no other puzzle waits for
   * one, and only other background puzzles count against maxQueue for it (it never makes the queue refuse a puzzle).
   */
  background?: boolean;
  /** when true, the answer after every step is kept in `trace` */
  trace: boolean;
  /** called after every supervision step of this puzzle (used by POST /solve/stream) */
  onStep?: (step: StepEvent) => void;
  /** aborting removes the puzzle from the queue or its batch slot (client went away) */
  signal?: AbortSignal;
}

export interface StepEvent {
  /** 1-based supervision step */
  step: number;
  /** argmax of the logits after this step, length seq_len */
  tokens: Uint8Array;
  /** sigmoid(q_halt) after this step */
  haltProbability: number;
}

export interface SolveResult {
  /** argmax of the logits after the last step run */
  tokens: Uint8Array;
  /** supervision steps run (1..maxSteps) */
  steps: number;
  haltProbability: number;
  /**
   * true when it stopped because the halt probability crossed the threshold (and acceptAnswer, if given, accepted
   * the answer); false: it hit maxSteps
   */
  halted: boolean;
  trace?: StepEvent[];
  timing: {
    /** waiting for a batch slot */
    queueMs: number;
    /** from entering a slot to the answer */
    computeMs: number;
  };
}

/** What GET /models and the playground show about the loaded model. */
export interface EngineInfo {
  /** model name (the folder's base name) */
  name: string;
  task: TaskName;
  config: ModelConfig;
  /** the provider that actually runs, and why the ones before it in `auto` did not */
  executionProvider: ExecutionProviderName;
  providerNotes: string[];
  /** graph variant: fp32, fp16-weights or fp16 */
  dtype: string;
  /** set when the workers run the float16 graph built from the weights (EngineOptions.graph), not model.onnx */
  graphBuilt?: true;
  maxBatch: number;
  workers: number;
  /** supervision steps per run of the graph (1: one step per run) */
  stepsPerRun: number;
  /** the most steps of a run while puzzles wait for a row, where it is below stepsPerRun */
  stepsWhenQueued?: number;
}

export interface EngineStats {
  queueDepth: number;
  /** slots in use over all workers, and their number */
  activeSlots: number;
  totalSlots: number;
}

/** What /healthz and /readyz say about an engine besides ready(). */
export interface EngineHealth {
  /**
   * false once the engine cannot repair itself: a worker failed to start again `restartAttempts` times in a row
   * (it keeps trying). /healthz answers 503 then, so that an orchestrator restarts the process.
   */
  live: boolean;
  /** why the engine is not ready, not live, or short of a worker; null when all is well */
  problem: string | null;
}

/** The queue is full: the HTTP layer answers 429. */
export class QueueFullError extends Error {
  constructor(limit: number) {
    super(
      limit === 0
        ? 'every batch slot is busy and no puzzle may wait for one (max queue 0); retry later'
        : `the queue is full (${limit} puzzles waiting); retry later`,
    );
    this.name = 'QueueFullError';
  }
}

/** The engine is starting, draining or lost the worker that held the request: the HTTP layer answers 503. */
export class EngineUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineUnavailableError';
  }
}

/** A puzzle waited longer than the queue timeout for a batch slot: the HTTP layer answers 503 with Retry-After. */
export class QueueTimeoutError extends EngineUnavailableError {
  constructor(limitMs: number) {
    super(`the puzzle waited ${limitMs} ms for a batch slot without getting one (the queue timeout); retry later`);
    this.name = 'QueueTimeoutError';
  }
}

/** What the HTTP layer needs from an engine (a fake implements it in tests of the HTTP layer alone). */
export interface SolveEngine {
  readonly info: EngineInfo;
  /** false until the workers have loaded the model, while no worker runs, and while draining */
  ready(): boolean;
  /** whether the engine can still repair itself, and why it is not ready */
  health(): EngineHealth;
  stats(): EngineStats;
  /** rejects with QueueFullError, EngineUnavailableError, or an Error for anything else */
  solve(request: SolveRequest): Promise<SolveResult>;
  /** stops taking work, finishes what is queued or in flight, then stops the workers */
  drain(): Promise<void>;
  /** fails the puzzles still waiting for a batch slot with EngineUnavailableError(reason); returns how many */
  refuseQueued(reason: string): number;
}
