// The bookkeeping of the persistent ACT carry (TRM-SPEC §3), as pure functions of host arrays: which batch slots
// reset and take new data before a supervision step, and which halt after it. A slot keeps its sample across
// optimiser steps until it halts: at halt_max_steps, or in training when its halt logit is positive, unless the
// 10 % exploration rule drew a minimum step count it has not reached yet.
import type { Rng } from '@trm/core';

export interface SlotState {
  /** supervision steps each slot's current sample has taken */
  steps: Int32Array;
  /** 1 where the slot's sample is finished and the next step loads a new one */
  halted: Uint8Array;
}

export interface HaltRule {
  /** halt_max_steps (N_sup, 16 in the paper) */
  maxSteps: number;
  /** halt_exploration_prob (0.1) */
  explorationProb: number;
  /** no_ACT_continue: halt on q_halt > 0 (true, every published run) or on q_halt > q_continue */
  noActContinue: boolean;
  /** training applies the learned halting and exploration; evaluation halts only at maxSteps */
  training: boolean;
}

/** The carry before the first step: every slot halted, so the first step loads a full batch. */
export function initialSlots(batchSize: number): SlotState {
  return { steps: new Int32Array(batchSize), halted: new Uint8Array(batchSize).fill(1) };
}

export interface StepStart {
  /** 1 where the slot resets its state to H_init/L_init and takes the new batch's row */
  reset: Uint8Array;
  /** steps with the reset slots set to 0 */
  steps: Int32Array;
}

/** Before a step: halted slots reset (state, data and step count); the others continue their sample. */
export function beginStep(s: SlotState): StepStart {
  const steps = s.steps.slice();
  for (let i = 0; i < steps.length; i++) if (s.halted[i]) steps[i] = 0;
  return { reset: s.halted.slice(), steps };
}

export interface StepEnd extends SlotState {
  /** the exploration minimum drawn per slot (0 where none was drawn); all 0 outside training */
  minHalt: Int32Array;
}

/**
 * After a step: steps + 1; halted = (steps >= maxSteps), and in training also where the halt logit says so, but
 * not before the slot's exploration minimum. Exploration draws two numbers per slot from `rng` on every training
 * step (u < p, then min ~ U{2..maxSteps}), whether used or not, so the stream of draws does not depend on the data.
 */
export function endStep(
  stepsBefore: Int32Array,
  qHalt: ArrayLike<number>,
  qContinue: ArrayLike<number> | null,
  rule: HaltRule,
  rng: Rng,
): StepEnd {
  const B = stepsBefore.length;
  if (qHalt.length !== B) throw new Error(`qHalt must have ${B} entries, one per slot (got ${qHalt.length})`);
  const steps = new Int32Array(B);
  const halted = new Uint8Array(B);
  const minHalt = new Int32Array(B);
  const learned = rule.training && rule.maxSteps > 1;
  if (learned && !rule.noActContinue && !qContinue)
    throw new Error('qContinue is required when no_ACT_continue is false');
  for (let i = 0; i < B; i++) {
    steps[i] = stepsBefore[i]! + 1;
    let h = steps[i]! >= rule.maxSteps;
    if (learned) {
      h ||= rule.noActContinue ? qHalt[i]! > 0 : qHalt[i]! > qContinue![i]!;
      const explore = rng.random() < rule.explorationProb;
      const draw = rng.int(2, rule.maxSteps);
      minHalt[i] = explore ? draw : 0;
      h &&= steps[i]! >= minHalt[i]!;
    }
    halted[i] = h ? 1 : 0;
  }
  return { steps, halted, minHalt };
}

/** Number of halted slots. */
export function countHalted(s: SlotState): number {
  let n = 0;
  for (const h of s.halted) n += h;
  return n;
}
