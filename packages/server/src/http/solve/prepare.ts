// From a request body to the work for one engine: validate the body, pick the model, check that the task is
// the model's, encode the grid, look up the puzzle-embedding row, fill in the defaults (the model's own step
// limit, running on past an invalid answer where the task has rules), and make sure the engine takes work.
// Every refusal is an HttpError naming the field, raised before anything is queued.
import { BLANK_IDENTIFIER, MAX_MAZE_VIEWS, type TaskName } from '@trm/core';
import { MAX_STEPS_LIMIT, untilValidLimit } from '../../engine/solve-request.js';
import type { SolveEngine } from '../../engine/types.js';
import { type AppContext, hasPuzzleRows } from '../context.js';
import { HttpError, RETRY_AFTER_SECONDS } from '../http-error.js';
import { DEFAULT_HALT_THRESHOLD } from '../schemas/solve-request.js';
import { encodeGrid, TASK_CODECS } from './task-codec.js';
import { validateSolveBody } from './validate-body.js';

export interface PreparedSolve {
  model: string;
  task: TaskName;
  engine: SolveEngine;
  tokens: Uint8Array;
  puzzleEmb?: Float32Array;
  maxSteps: number;
  /**
   * with untilValid and no maxSteps in the body: the model's halt_max_steps, from which a valid answer ends the
   * puzzle; an invalid one gets steps up to maxSteps (untilValidLimit: 4 x halt_max_steps, at most MAX_STEPS_LIMIT)
   */
  settleFrom?: number;
  haltThreshold: number;
  trace: boolean;
  /** a halt on an answer that breaks the task's rules is overruled (never for a task without rules) */
  untilValid: boolean;
  /** copies of the puzzle in all (views.ts); 1 = the puzzle alone (always without untilValid) */
  views: number;
  /**
   * with views > 1: the step at which an own answer that breaks the rules starts the other copies, and the most
   * steps each copy runs: the model's halt_max_steps, or maxSteps if lower
   */
  viewsFrom: number;
}

const unavailable = (message: string) =>
  new HttpError(503, message, undefined, { 'Retry-After': String(RETRY_AFTER_SECONDS) });

function pickEngine(ctx: AppContext, requested: string | undefined): [string, SolveEngine] {
  const names = [...ctx.engines.keys()];
  if (requested === undefined) {
    const first = names[0];
    if (first === undefined) throw unavailable('no model is loaded');
    return [first, ctx.engines.get(first)!];
  }
  const engine = ctx.engines.get(requested);
  if (!engine)
    throw new HttpError(
      404,
      `model ${JSON.stringify(requested.length > 60 ? `${requested.slice(0, 60)}...` : requested)} is not loaded; loaded: ${names.map((n) => JSON.stringify(n)).join(', ')}`,
      'model',
    );
  return [requested, engine];
}

/** The model's own step limit (halt_max_steps of its config, what it was trained with), within 1..MAX_STEPS_LIMIT. */
export function defaultMaxSteps(engine: SolveEngine): number {
  const limit = engine.info.config.halt_max_steps;
  return Number.isInteger(limit) ? Math.min(MAX_STEPS_LIMIT, Math.max(1, limit)) : MAX_STEPS_LIMIT;
}

export function prepareSolve(ctx: AppContext, rawBody: unknown): PreparedSolve {
  if (ctx.lifecycle.draining) throw unavailable('the server is shutting down; retry on another instance');
  const body = validateSolveBody(rawBody);
  const [model, engine] = pickEngine(ctx, body.model);
  const task = engine.info.task;
  if (body.task !== task)
    throw new HttpError(400, `task is ${JSON.stringify(body.task)} but model ${model} solves ${task}`, 'task');
  if (body.puzzleId !== undefined && task !== 'arc')
    throw new HttpError(400, `puzzleId applies to ARC models only (model ${model} solves ${task})`, 'puzzleId');
  const tokens = encodeGrid(task, body.grid, engine.info.config.seq_len);
  let puzzleEmb: Float32Array | undefined;
  if (body.puzzleId === undefined) {
    // The reference gives every sudoku and maze puzzle identifier 0, whose row of the table is trained (a shared
    // learned prefix); for ARC, row 0 is never trained and stays zero. So row 0 is the right default everywhere,
    // and zeros (what the engine uses without a row) only where the model has no table.
    if (hasPuzzleRows(engine)) puzzleEmb = engine.puzzleRow(BLANK_IDENTIFIER);
  } else {
    if (!hasPuzzleRows(engine))
      throw new HttpError(404, `model ${model} has no puzzle table to look puzzleId up in`, 'puzzleId');
    puzzleEmb = engine.puzzleRow(body.puzzleId);
    if (!puzzleEmb) throw new HttpError(404, `puzzleId names no row of the puzzle table of model ${model}`, 'puzzleId');
  }
  if (!engine.ready())
    throw unavailable(`model ${model} is not ready: ${engine.health().problem ?? 'loading or draining'}`);
  const untilValid = (body.untilValid ?? true) && TASK_CODECS[task].hasRules;
  const modelSteps = defaultMaxSteps(engine);
  // Without a maxSteps of its own, a puzzle the model leaves unsolved at its last trained step gets more steps (up to
  // four times as many, at most MAX_STEPS_LIMIT) while its answer breaks the rules: recursion past the trained steps
  // still improves answers (BENCHMARKS.md, "Steps past the trained ones"). A valid answer ends it by the trained step.
  const extendTo = untilValidLimit(modelSteps);
  const extend = untilValid && body.maxSteps === undefined && modelSteps < extendTo;
  const maxSteps = body.maxSteps ?? (extend ? extendTo : modelSteps);
  return {
    model,
    task,
    engine,
    tokens,
    puzzleEmb,
    maxSteps,
    ...(extend ? { settleFrom: modelSteps } : {}),
    haltThreshold: body.haltThreshold ?? DEFAULT_HALT_THRESHOLD,
    trace: body.trace ?? false,
    untilValid,
    views: requestViews(task, body.views, untilValid, ctx.defaultViews),
    viewsFrom: Math.min(modelSteps, maxSteps),
  };
}

/**
 * The copies a request runs: its own `views`, checked against the task (rules to hold answers to, untilValid on,
 * a maze's 8 symmetries), or the server's default where it applies (sudoku and maze with untilValid).
 */
function requestViews(task: TaskName, asked: number | undefined, untilValid: boolean, serverDefault: number): number {
  if (asked === undefined) {
    if (!untilValid) return 1;
    return task === 'maze' ? Math.min(serverDefault, MAX_MAZE_VIEWS) : serverDefault;
  }
  if (asked === 1) return 1;
  if (!TASK_CODECS[task].hasRules)
    throw new HttpError(
      400,
      `views applies to sudoku and maze, whose answers can be held to rules (not ${task})`,
      'views',
    );
  if (!untilValid)
    throw new HttpError(400, 'views needs untilValid: a copy answers only when its answer follows the rules', 'views');
  if (task === 'maze' && asked > MAX_MAZE_VIEWS)
    throw new HttpError(
      400,
      `views is at most ${MAX_MAZE_VIEWS} for a maze (its rotations and mirrors; got ${asked})`,
      'views',
    );
  return asked;
}
