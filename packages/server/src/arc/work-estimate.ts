// How much work a solve-arc run is before it starts, and about how long it will take: adaptation trains
// (steps x batch) sequences per chunk, prediction runs (variants x test inputs) puzzles for up to --max-steps
// supervision steps each. The time comes from a quick measurement of the engine (one batch of one-step puzzles)
// and a stated cost of a training sequence relative to an inference step, so that a run that would take days on
// this machine says so before it begins.
import { type ArcTask, encodeArc, formatDuration } from '@trm/core';
import type { SolveEngine } from '../engine/types.js';

/**
 * One adaptation sequence (forward through a supervision step, backward through its last recursion, the
 * optimiser) in inference sequence-steps. Measured with models/arc1-small on two CPU cores: 0.39 s per row of
 * adapt on ort-cpu at batch 4 (100 steps in 156 s) against 0.08 s per puzzle-step of the engine on the CPU
 * provider (measureEngine: 12.4 sequence-steps/s).
 */
export const TRAIN_SEQUENCE_COST = 5;

/** Seconds to start one adapt child process (tsx, ONNX Runtime session) and write its model folder. */
export const ADAPT_START_SECONDS = 10;

export interface WorkPlan {
  /** the tasks still to solve */
  tasks: ReadonlyMap<string, ArcTask>;
  /** modelVariantIndex of the model's rows; null when it names none */
  known: ReadonlyMap<string, readonly string[]> | null;
  augment: number;
  chunkSize: number;
  /** null: no adaptation (unknown tasks run on the blank row) */
  adapt: { steps: number; batch: (pairs: number) => number } | null;
  maxSteps: number;
}

export interface WorkEstimate {
  tasks: number;
  /** adapt runs (chunks with a task the model does not know) */
  adaptRuns: number;
  /** training sequences over all adapt runs: steps x batch each */
  adaptSequences: number;
  /** engine requests: variants x test inputs, at most (the variants of tiny grids may repeat and be dropped) */
  predictions: number;
  /** predictions x supervision steps, at most (a halt threshold below 1 stops puzzles early) */
  sequenceSteps: number;
}

export function estimateWork(p: WorkPlan): WorkEstimate {
  const ids = [...p.tasks.keys()];
  let adaptRuns = 0;
  let adaptSequences = 0;
  let predictions = 0;
  for (let i = 0; i < ids.length; i += p.chunkSize) {
    let pairs = 0;
    for (const id of ids.slice(i, i + p.chunkSize)) {
      const task = p.tasks.get(id)!;
      const known = p.known?.get(id);
      const variants = known && known.length > 0 ? Math.min(known.length, p.augment + 1) : p.augment + 1;
      predictions += variants * task.test.length;
      if (!known || known.length === 0) pairs += variants * task.train.length;
    }
    if (p.adapt && pairs > 0) {
      adaptRuns++;
      adaptSequences += p.adapt.steps * p.adapt.batch(pairs);
    }
  }
  return { tasks: ids.length, adaptRuns, adaptSequences, predictions, sequenceSteps: predictions * p.maxSteps };
}

/** Seconds the work takes at `rate` inference sequence-steps per second. */
export function estimateSeconds(w: WorkEstimate, rate: number): number {
  return (w.sequenceSteps + w.adaptSequences * TRAIN_SEQUENCE_COST) / rate + w.adaptRuns * ADAPT_START_SECONDS;
}

const count = (n: number) => n.toLocaleString('en-US');

/** The line printed before a run: the work in sequences and steps, and the time at the measured rate. */
export function describeWork(w: WorkEstimate, rate: number): string {
  const adapt =
    w.adaptRuns > 0
      ? `adaptation ${count(w.adaptSequences)} training sequences in ${w.adaptRuns} run(s)`
      : 'no adaptation';
  return (
    `solve-arc: work: ${adapt}; prediction ${count(w.predictions)} puzzles x steps = ${count(w.sequenceSteps)} sequence-steps at most; ` +
    `about ${formatDuration(estimateSeconds(w, rate))} at the engine's measured ${rate.toPrecision(3)} sequence-steps/s ` +
    `(a training sequence counted as ${TRAIN_SEQUENCE_COST}, ${ADAPT_START_SECONDS} s to start each adapt run)`
  );
}

/**
 * Inference sequence-steps per second of the engine for this model: one warm-up puzzle (a session's first run
 * allocates), then `count` one-step puzzles at once, so that they share batches as the run's puzzles will.
 */
export async function measureEngine(engine: SolveEngine, canvas: number, count: number): Promise<number> {
  const tokens = encodeArc([[0]], undefined, canvas);
  const one = () => engine.solve({ tokens, maxSteps: 1, haltThreshold: 1, trace: false });
  await one();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: count }, one));
  return count / Math.max(1e-6, (performance.now() - t0) / 1000);
}
