// What the route handlers share: the engines by model name, the drain flag that the server sets on shutdown, the
// metrics, and where server faults are reported.
import type { SolveEngine } from '../engine/types.js';
import type { ServerMetrics } from './metrics/server-metrics.js';

/** Shared with server.ts: once `draining` is set, new work is refused with 503 and /readyz answers 503. */
export interface Lifecycle {
  draining: boolean;
}

export interface AppContext {
  /** in the order given; the first is the default model */
  engines: ReadonlyMap<string, SolveEngine>;
  lifecycle: Lifecycle;
  metrics: ServerMetrics;
  logError: (line: string) => void;
  /** copies of a sudoku or maze puzzle when the request does not say (its `views`; solve/views.ts) */
  defaultViews: number;
}

/**
 * An engine that can look ARC puzzle ids up in its model's puzzle-embedding table (the ONNX engine and the fake
 * one can). SolveEngine does not require it: a model without the method has no table to offer.
 */
export interface PuzzleRowSource {
  puzzleRow(puzzleId: string): Float32Array | undefined;
}

export function hasPuzzleRows(engine: SolveEngine): engine is SolveEngine & PuzzleRowSource {
  return typeof (engine as Partial<PuzzleRowSource>).puzzleRow === 'function';
}
