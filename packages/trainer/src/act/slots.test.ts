import { Rng } from '@trm/core';
import { describe, expect, it } from 'vitest';
import { paddingBatch } from '../data/batch.js';
import { admitRows } from './admit.js';
import { beginStep, countHalted, endStep, type HaltRule, initialSlots, type SlotState } from './slots.js';

const train: HaltRule = { maxSteps: 16, explorationProb: 0, noActContinue: true, training: true };
const evalRule: HaltRule = { ...train, training: false };

/** Runs `n` steps with fixed halt logits per slot and returns the reset masks seen before each step. */
function simulate(
  qHalt: number[],
  n: number,
  rule: HaltRule,
  rng = new Rng(0),
): { resets: number[][]; end: SlotState } {
  let s = initialSlots(qHalt.length);
  const resets: number[][] = [];
  for (let k = 0; k < n; k++) {
    const start = beginStep(s);
    resets.push(Array.from(start.reset));
    s = endStep(start.steps, qHalt, null, rule, rng);
  }
  return { resets, end: s };
}

describe('persistent carry slots', () => {
  it('loads every slot on the first step', () => {
    const start = beginStep(initialSlots(3));
    expect(Array.from(start.reset)).toEqual([1, 1, 1]);
    expect(Array.from(start.steps)).toEqual([0, 0, 0]);
  });

  it('keeps a sample until its halt logit is positive, then resets that slot only', () => {
    // slot 0 always halts (q > 0), slot 1 never (q < 0), slot 2 at exactly 0 does not halt (q > 0 is strict)
    const { resets, end } = simulate([0.5, -3, 0], 5, train);
    expect(resets).toEqual([
      [1, 1, 1],
      [1, 0, 0],
      [1, 0, 0],
      [1, 0, 0],
      [1, 0, 0],
    ]);
    expect(Array.from(end.steps)).toEqual([1, 5, 5]);
    expect(Array.from(end.halted)).toEqual([1, 0, 0]);
  });

  it('halts every slot at halt_max_steps whatever the logit, and the slot restarts at step 1', () => {
    const rule = { ...train, maxSteps: 4 };
    const { resets } = simulate([-1, -1], 9, rule);
    expect(resets.map((r) => r[0])).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    let s = initialSlots(1);
    const steps: number[] = [];
    for (let k = 0; k < 6; k++) {
      const b = beginStep(s);
      s = endStep(b.steps, [-1], null, rule, new Rng(0));
      steps.push(s.steps[0]!);
    }
    expect(steps).toEqual([1, 2, 3, 4, 1, 2]);
  });

  it('in evaluation halts only at halt_max_steps and draws nothing', () => {
    const rng = new Rng(5);
    const before = rng.getState();
    const out = endStep(Int32Array.from([0, 14, 15]), [9, 9, -9], null, evalRule, rng);
    expect(Array.from(out.steps)).toEqual([1, 15, 16]);
    expect(Array.from(out.halted)).toEqual([0, 0, 1]);
    expect(rng.getState()).toEqual(before);
  });

  it('exploration delays halting to a minimum drawn from U{2..16} for about 10 % of the slots', () => {
    const rule = { ...train, explorationProb: 0.1 };
    const B = 20_000;
    const out = endStep(new Int32Array(B), new Float32Array(B).fill(1), null, rule, new Rng(1));
    const drawn = Array.from(out.minHalt).filter((m) => m > 0);
    expect(drawn.length / B).toBeGreaterThan(0.09);
    expect(drawn.length / B).toBeLessThan(0.11);
    expect(Math.min(...drawn)).toBe(2);
    expect(Math.max(...drawn)).toBe(16);
    // at step 1 every explored slot (min >= 2) continues although its logit says halt; the others halt
    for (let i = 0; i < B; i++) expect(out.halted[i]).toBe(out.minHalt[i]! > 0 ? 0 : 1);
    // an explored slot halts once it reaches its minimum
    const late = endStep(Int32Array.from([4, 3]), [1, 1], null, { ...rule, explorationProb: 1 }, new Rng(2));
    const again = new Rng(2);
    const mins = [0, 0].map(() => {
      again.random(); // the exploration coin, always 1 here
      return again.int(2, 16);
    });
    expect(Array.from(late.minHalt)).toEqual(mins);
    expect(Array.from(late.halted)).toEqual([5 >= mins[0]! ? 1 : 0, 4 >= mins[1]! ? 1 : 0]);
  });

  it('never delays the final step: at halt_max_steps an explored slot halts too', () => {
    const out = endStep(Int32Array.from([15]), [-1], null, { ...train, explorationProb: 1 }, new Rng(3));
    expect(out.halted[0]).toBe(1);
  });

  it('with no_ACT_continue false halts where q_halt > q_continue', () => {
    const rule = { ...train, noActContinue: false };
    const out = endStep(new Int32Array(3), [1, -1, 0], [0, -2, 1], rule, new Rng(0));
    expect(Array.from(out.halted)).toEqual([1, 1, 0]);
    expect(() => endStep(new Int32Array(1), [1], null, rule, new Rng(0))).toThrow(/qContinue/);
  });

  it('counts halted slots', () => {
    expect(countHalted({ steps: new Int32Array(3), halted: Uint8Array.from([1, 0, 1]) })).toBe(2);
  });
});

describe('admitRows', () => {
  const batch = (tag: number) => {
    const b = paddingBatch(3, 2, 0, 0);
    for (let i = 0; i < 3; i++) {
      b.inputs.set([tag, i], 2 * i);
      b.labels.set([tag + 1, i], 2 * i);
      b.puzzleIds[i] = tag * 10 + i;
    }
    return b;
  };

  it('replaces only the reset rows and discards the new batch elsewhere', () => {
    const next = admitRows(batch(1), batch(7), Uint8Array.from([0, 1, 0]));
    expect(Array.from(next.inputs)).toEqual([1, 0, 7, 1, 1, 2]);
    expect(Array.from(next.labels)).toEqual([2, 0, 8, 1, 2, 2]);
    expect(Array.from(next.puzzleIds)).toEqual([10, 71, 12]);
  });

  it('takes the whole batch on the first step and refuses a partial first step', () => {
    expect(Array.from(admitRows(null, batch(4), Uint8Array.from([1, 1, 1])).puzzleIds)).toEqual([40, 41, 42]);
    expect(() => admitRows(null, batch(4), Uint8Array.from([1, 0, 1]))).toThrow(/first step/);
  });
});
