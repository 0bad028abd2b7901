// Answering a sudoku or maze through views of it (the request's `views`): when the puzzle's own answer still
// breaks the task's rules at the model's last trained step, views-1 symmetric copies of the puzzle (sudoku: digit
// relabelling, transpose, band/row/stack/column permutations; maze: rotations and mirrors; @trm/core's
// puzzleViews) join it in the engine, each for the model's trained steps at most (the puzzle itself goes on to
// its own limit) and each ending at its first answer that follows the rules. The first such answer, mapped back
// to the puzzle's frame, is the answer, and every other copy stops (its batch row is freed). When none comes,
// the puzzle's own answer stands. A puzzle solved by its trained step costs nothing more. On the hard sudoku test
// split, the newspaper model solves 22.8 % of the puzzles alone and 68.8 % through 8 views (82.2 % of the first
// 1,024 through 16; BENCHMARKS.md, "Answers through views").
import { fromView, type PuzzleView, puzzleViews, type TaskName, toView } from '@trm/core';
import type { SolveEngine, SolveRequest, SolveResult, StepEvent } from '../../engine/types.js';
import { TASK_CODECS } from './task-codec.js';

/** Which copy of a puzzle gave its answer. */
export interface ViewOutcome {
  /** 0 = the puzzle itself, else the view's index */
  index: number;
  /** identity, sudoku shuffle, rot90, ... */
  name: string;
  /** copies that ran (1 when the puzzle's own answer followed the rules by the trained step) */
  tried: number;
}

const cache = new Map<string, readonly PuzzleView[]>();

/** The views of a task (the first the puzzle itself), drawn once per count. */
export function viewsOf(task: TaskName, count: number): readonly PuzzleView[] {
  const key = `${task}/${count}`;
  let views = cache.get(key);
  if (!views) {
    views = puzzleViews(task, count, 0);
    cache.set(key, views);
  }
  return views;
}

export interface ViewsPlan {
  task: TaskName;
  engine: SolveEngine;
  /** the puzzle's own request: tokens, limits, acceptAnswer (in the puzzle's frame), trace, onStep */
  request: SolveRequest;
  /** copies in all, the puzzle itself included */
  views: number;
  /**
   * The model's trained steps (or maxSteps, if lower): the step at which an own answer that breaks the rules starts
   * the other views, and the most steps each of them runs (the puzzle itself may run on to request.maxSteps).
   */
  trainedSteps: number;
}

function isAbort(err: unknown): boolean {
  return (err as { name?: string } | null)?.name === 'AbortError';
}

/**
 * Solves `plan.request` as described above. The client's signal (plan.request.signal) stops every copy. A copy
 * other than the puzzle itself that the engine refuses (a full queue) or that fails is left out; the puzzle's own
 * failure is the request's.
 */
export async function solveThroughViews(plan: ViewsPlan): Promise<{ result: SolveResult; view: ViewOutcome }> {
  const { task, engine, request } = plan;
  const codec = TASK_CODECS[task];
  const views = viewsOf(task, plan.views);
  const client = request.signal;
  const stops = views.map(() => new AbortController());
  const stopAll = () => {
    for (const s of stops) s.abort();
  };
  client?.addEventListener('abort', stopAll, { once: true });
  const follows = (question: Uint8Array, tokens: Uint8Array) => codec.settle(question, tokens).check.valid === true;

  let started = 0;
  let failed = 0; // copies the engine refused (a full queue) or that failed: they did not run
  let winner: { result: SolveResult; view: number } | null = null;
  const others: Promise<void>[] = [];
  let othersStarted = false;
  const startOthers = () => {
    if (othersStarted || winner || client?.aborted) return;
    othersStarted = true;
    for (let v = 1; v < views.length; v++) {
      const view = views[v]!;
      const question = Uint8Array.from(toView(view, request.tokens));
      const copy: SolveRequest = {
        tokens: question,
        puzzleEmb: request.puzzleEmb,
        maxSteps: plan.trainedSteps,
        haltThreshold: request.haltThreshold,
        trace: false,
        // a copy takes a row only when no other request waits for one
        background: true,
        signal: stops[v]!.signal,
        acceptAnswer: (tokens) => follows(question, tokens),
        // a copy's first answer that follows the rules ends it: it is the answer (a sudoku has one solution)
        settleFrom: 1,
      };
      started++;
      others.push(
        engine.solve(copy).then(
          (result) => {
            if (winner || !follows(question, result.tokens)) return;
            const tokens = Uint8Array.from(fromView(view, result.tokens));
            winner = { result: { ...result, tokens, trace: request.trace ? ownSteps.slice() : undefined }, view: v };
            stopAll();
          },
          (err) => {
            // refused, failed or stopped: the other copies go on
            if (!isAbort(err)) failed++;
          },
        ),
      );
    }
  };

  // The puzzle's own steps, kept for the trace when another copy answers and this one is stopped.
  const ownSteps: StepEvent[] = [];
  const own: SolveRequest = {
    ...request,
    signal: stops[0]!.signal,
    onStep: (event: StepEvent) => {
      if (request.trace) ownSteps.push(event);
      request.onStep?.(event);
      if (event.step === plan.trainedSteps && !follows(request.tokens, event.tokens)) startOthers();
    },
  };
  const tried = () => 1 + started - failed;
  try {
    let ownResult: SolveResult | null = null;
    try {
      ownResult = await engine.solve(own);
    } catch (err) {
      // stopped because another copy answered: that answer stands; the client's abort or a failure propagates
      if (!(isAbort(err) && winner && !client?.aborted)) throw err;
    }
    if (ownResult && !winner) {
      if (follows(request.tokens, ownResult.tokens)) {
        stopAll();
        return { result: ownResult, view: { index: 0, name: views[0]!.name, tried: tried() } };
      }
      // the own answer ended without following the rules: the others (started now if not yet) may still
      startOthers();
    }
    await Promise.all(others);
    if (client?.aborted) throw client.reason ?? new DOMException('the request was aborted', 'AbortError');
    const w = winner as { result: SolveResult; view: number } | null;
    if (w) return { result: w.result, view: { index: w.view, name: views[w.view]!.name, tried: tried() } };
    return { result: ownResult!, view: { index: 0, name: views[0]!.name, tried: tried() } };
  } finally {
    client?.removeEventListener('abort', stopAll);
    stopAll();
  }
}
