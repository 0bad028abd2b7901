// POST /solve and POST /solve/stream. Both prepare the same work; /solve answers once with JSON, /solve/stream
// sends a `step` event after every supervision step and then `done` (the /solve body) or `error` (the error
// body). Every answer shown is held to the task's rules (givens written back, `check`), and with untilValid the
// engine is told not to halt on an answer that fails them; with views, copies of a puzzle the model has not solved
// by its trained step join it (views.ts), and the step events are those of the puzzle itself. A client that goes
// away aborts its puzzle (and its copies) through the request's AbortSignal, freeing their batch slots.
import type { NextFunction, Request, Response } from 'express';
import type { SolveRequest, SolveResult, StepEvent } from '../../engine/types.js';
import type { AppContext } from '../context.js';
import { engineErrorToHttp, type HttpError } from '../http-error.js';
import type { SolveResponseBody, StepEventBody } from '../schemas/solve-response.js';
import { EventStream } from './event-stream.js';
import { type PreparedSolve, prepareSolve } from './prepare.js';
import { TASK_CODECS } from './task-codec.js';
import { solveThroughViews, type ViewOutcome } from './views.js';

function stepBody(work: PreparedSolve, event: StepEvent): StepEventBody {
  return {
    step: event.step,
    ...TASK_CODECS[work.task].settle(work.tokens, event.tokens),
    haltProbability: event.haltProbability,
  };
}

function responseBody(
  work: PreparedSolve,
  result: SolveResult,
  startedAt: number,
  view: ViewOutcome | null,
): SolveResponseBody {
  const body: SolveResponseBody = {
    model: work.model,
    task: work.task,
    ...TASK_CODECS[work.task].settle(work.tokens, result.tokens),
    steps: result.steps,
    haltProbability: result.haltProbability,
    halted: result.halted,
    timing: {
      queueMs: result.timing.queueMs,
      computeMs: result.timing.computeMs,
      totalMs: performance.now() - startedAt,
    },
  };
  if (work.trace) body.trace = (result.trace ?? []).map((e) => stepBody(work, e));
  if (view) body.view = view;
  return body;
}

/** The engine's answer to prepared work: the puzzle alone, or through views of it (views.ts). */
async function answer(
  work: PreparedSolve,
  signal: AbortSignal,
  onStep?: (event: StepEvent) => void,
): Promise<{ result: SolveResult; view: ViewOutcome | null }> {
  const request = engineRequest(work, signal, onStep);
  if (work.views <= 1) return { result: await work.engine.solve(request), view: null };
  return solveThroughViews({
    task: work.task,
    engine: work.engine,
    request,
    views: work.views,
    trainedSteps: work.viewsFrom,
  });
}

/** The engine's request for prepared work; with untilValid, the task's rule check decides whether a halt stands. */
function engineRequest(work: PreparedSolve, signal: AbortSignal, onStep?: (event: StepEvent) => void): SolveRequest {
  const request: SolveRequest = {
    tokens: work.tokens,
    puzzleEmb: work.puzzleEmb,
    maxSteps: work.maxSteps,
    haltThreshold: work.haltThreshold,
    trace: work.trace,
    signal,
  };
  if (onStep) request.onStep = onStep;
  const codec = TASK_CODECS[work.task];
  if (work.untilValid) request.acceptAnswer = (tokens) => codec.settle(work.tokens, tokens).check.valid === true;
  if (work.settleFrom !== undefined) request.settleFrom = work.settleFrom;
  return request;
}

/** An AbortSignal that fires when the client closes the connection before the answer is complete. */
function clientGone(res: Response): AbortSignal {
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableEnded) controller.abort();
  });
  return controller.signal;
}

/** Sends an error as JSON with its headers; a server fault is also reported. */
export function sendError(ctx: AppContext, res: Response, err: HttpError, cause?: unknown): void {
  if (err.status >= 500 && err.status !== 503) {
    const detail = cause instanceof Error ? (cause.stack ?? cause.message) : String(cause ?? err.message);
    ctx.logError(`${err.status} ${err.message}${cause ? `: ${detail}` : ''}`);
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.status(err.status).set(err.headers).json(err.body());
}

export function solveRoutes(ctx: AppContext) {
  async function solve(req: Request, res: Response, next: NextFunction): Promise<void> {
    const startedAt = res.locals.startedAt as number;
    let work: PreparedSolve;
    try {
      work = prepareSolve(ctx, req.body);
    } catch (err) {
      next(err);
      return;
    }
    const signal = clientGone(res);
    try {
      const { result, view } = await answer(work, signal);
      ctx.metrics.steps.observe({ model: work.model }, result.steps);
      if (!signal.aborted) res.json(responseBody(work, result, startedAt, view));
    } catch (err) {
      if (signal.aborted) return;
      sendError(ctx, res, engineErrorToHttp(err), err);
    }
  }

  async function stream(req: Request, res: Response, next: NextFunction): Promise<void> {
    const startedAt = res.locals.startedAt as number;
    let work: PreparedSolve;
    try {
      work = prepareSolve(ctx, req.body);
    } catch (err) {
      next(err);
      return;
    }
    const signal = clientGone(res);
    const events = new EventStream(res);
    try {
      const { result, view } = await answer(work, signal, (event) => {
        // The engine calls this inside its loop: a failure to write one event must not break the batch.
        try {
          events.send('step', stepBody(work, event));
        } catch (err) {
          ctx.logError(`could not send a step event: ${(err as Error).message}`);
        }
      });
      ctx.metrics.steps.observe({ model: work.model }, result.steps);
      events.send('done', responseBody(work, result, startedAt, view));
      events.end();
    } catch (err) {
      if (signal.aborted) return;
      const httpError = engineErrorToHttp(err);
      if (!events.started) {
        sendError(ctx, res, httpError, err);
        return;
      }
      if (httpError.status >= 500) ctx.logError(`${httpError.status} ${httpError.message} (in a stream)`);
      events.send('error', httpError.body());
      events.end();
    }
  }

  return { solve, stream };
}
