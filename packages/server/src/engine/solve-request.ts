// The engine's own check of a solve request against the loaded model, so that nothing a caller passes can reach a
// worker malformed (a wrong length would fail a whole batch). The HTTP layer validates its JSON before this.
import type { ModelConfig } from '@trm/core';
import type { SolveRequest } from './types.js';

/**
 * The most supervision steps a request may ask for: four times the reference's halt_max_steps (16). Recursion past
 * the trained steps still fixes answers: the paper-size newspaper model solves 23.8 % of hard puzzles at its 16
 * trained steps, 30.5 % at 32 and 36.7 % at 64 (BENCHMARKS.md, "Steps past the trained ones").
 */
export const MAX_STEPS_LIMIT = 64;

/** How far past its trained steps a sudoku or maze answer that breaks the rules runs by default (untilValid). */
export const UNTIL_VALID_FACTOR = 4;

/** The step limit of an answer that still breaks the rules at the model's last trained step `modelSteps`. */
export function untilValidLimit(modelSteps: number): number {
  return Math.min(MAX_STEPS_LIMIT, UNTIL_VALID_FACTOR * modelSteps);
}

/** A request that does not fit the model; the message names the field and what was expected. */
export class SolveRequestError extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
    this.name = 'SolveRequestError';
  }
}

export function checkSolveRequest(r: SolveRequest, config: ModelConfig): void {
  if (!(r.tokens instanceof Uint8Array))
    throw new SolveRequestError('tokens must be a Uint8Array of token ids', 'tokens');
  if (r.tokens.length !== config.seq_len)
    throw new SolveRequestError(
      `tokens has ${r.tokens.length} values, the model expects seq_len = ${config.seq_len}`,
      'tokens',
    );
  const bad = r.tokens.findIndex((t) => t >= config.vocab_size);
  if (bad >= 0)
    throw new SolveRequestError(
      `tokens[${bad}] = ${r.tokens[bad]} is outside the vocabulary 0..${config.vocab_size - 1}`,
      'tokens',
    );
  if (r.puzzleEmb !== undefined) {
    if (config.puzzle_emb_ndim === 0)
      throw new SolveRequestError('puzzleEmb was given but the model has no puzzle embedding', 'puzzleEmb');
    if (!(r.puzzleEmb instanceof Float32Array) || r.puzzleEmb.length !== config.puzzle_emb_ndim)
      throw new SolveRequestError(
        `puzzleEmb must be a Float32Array of puzzle_emb_ndim = ${config.puzzle_emb_ndim} values`,
        'puzzleEmb',
      );
    if (!r.puzzleEmb.every(Number.isFinite))
      throw new SolveRequestError('puzzleEmb must hold finite numbers', 'puzzleEmb');
  }
  if (!Number.isInteger(r.maxSteps) || r.maxSteps < 1 || r.maxSteps > MAX_STEPS_LIMIT)
    throw new SolveRequestError(`maxSteps must be an integer in 1..${MAX_STEPS_LIMIT} (got ${r.maxSteps})`, 'maxSteps');
  if (typeof r.haltThreshold !== 'number' || Number.isNaN(r.haltThreshold))
    throw new SolveRequestError(`haltThreshold must be a number (got ${r.haltThreshold})`, 'haltThreshold');
  if (r.onStep !== undefined && typeof r.onStep !== 'function')
    throw new SolveRequestError('onStep must be a function', 'onStep');
  if (r.acceptAnswer !== undefined && typeof r.acceptAnswer !== 'function')
    throw new SolveRequestError('acceptAnswer must be a function', 'acceptAnswer');
  if (r.settleFrom !== undefined) {
    if (!Number.isInteger(r.settleFrom) || r.settleFrom < 1 || r.settleFrom > r.maxSteps)
      throw new SolveRequestError(
        `settleFrom must be an integer in 1..maxSteps = ${r.maxSteps} (got ${r.settleFrom})`,
        'settleFrom',
      );
    if (r.acceptAnswer === undefined)
      throw new SolveRequestError('settleFrom needs acceptAnswer (the check that settles an answer)', 'settleFrom');
  }
}

/**
 * Whether a puzzle's step `step` ends it, and whether as a halt. A step can end a puzzle where its halt probability
 * crossed the threshold or, with acceptAnswer, from settleFrom on; acceptAnswer (asked only there, and free to
 * throw) must then accept the answer. It ends at maxSteps in any case. `halted`: ended by the threshold.
 */
export function stepOutcome(
  r: SolveRequest,
  step: number,
  haltProbability: number,
  tokens: Uint8Array,
): { ends: boolean; halted: boolean } {
  const crossed = haltProbability > r.haltThreshold;
  const settling = r.acceptAnswer !== undefined && r.settleFrom !== undefined && step >= r.settleFrom;
  const accepted = (crossed || settling) && (r.acceptAnswer?.(tokens) ?? true);
  return { ends: accepted || step >= r.maxSteps, halted: crossed && accepted };
}
