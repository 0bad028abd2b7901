// Types of server-api.js for the Node tests (the browser loads the .js as it is). They restate the HTTP
// protocol of GET /models and POST /solve/stream as the page reads it.
import type { Grid, TaskName } from './tasks.js';

export interface ErrorBody {
  status: number;
  message: string;
  field?: string;
}

export interface ServedModel {
  name: string;
  task: TaskName;
  executionProvider: string;
  providerNotes: string[];
  dtype: string;
  maxBatch: number;
  config: Record<string, unknown>;
}

/** Whether an answer satisfies the task's rules (null: the task has no rule check). */
export interface AnswerCheck {
  valid: boolean | null;
  reason?: string;
}

export interface StepEvent {
  step: number;
  answer: Grid;
  givensRestored?: number;
  check?: AnswerCheck;
  haltProbability: number;
}

/** Which copy of the puzzle answered (POST /solve with views). */
export interface ViewOutcome {
  index: number;
  name: string;
  tried: number;
}

export interface DoneEvent {
  model: string;
  task: string;
  answer: Grid;
  givensRestored?: number;
  check?: AnswerCheck;
  view?: ViewOutcome;
  steps: number;
  haltProbability: number;
  halted: boolean;
  timing: { queueMs: number; computeMs: number; totalMs: number };
}

export interface SolveRequest {
  task: string;
  grid: Grid;
  model?: string;
  maxSteps?: number;
  haltThreshold?: number;
  untilValid?: boolean;
  puzzleId?: string;
}

export declare class ServerError extends Error {
  /** HTTP status, or 0 when no HTTP answer came (network, broken stream) */
  readonly status: number;
  readonly field?: string;
  readonly serverMessage?: string;
  constructor(message: string, details: { status: number; field?: string; serverMessage?: string });
}

export declare function describeServerError(status: number, error?: Partial<ErrorBody>): string;
export declare function fetchModels(baseUrl?: string): Promise<ServedModel[]>;
export declare function solveStream(
  body: SolveRequest,
  options?: { onStep?: (step: StepEvent) => void; signal?: AbortSignal; baseUrl?: string },
): Promise<DoneEvent>;
