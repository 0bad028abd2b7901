// Optimisers, EMA and schedule against values computed by hand (float64, from TRM-SPEC §5.1-5.4), plus the
// save/restore round trip of their state.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend/backend.js';
import { PuzzleTable } from '../model/puzzle-table.js';
import { AdamAtan2 } from './adam-atan2.js';
import { AdamW } from './adamw.js';
import { Ema } from './ema.js';
import type { DenseOptimizer } from './optimizer.js';
import { learningRate } from './schedule.js';
import { signSgdUpdate } from './sign-sgd.js';

beforeAll(async () => {
  await selectBackend('cpu', () => {});
});

const HYPER = { beta1: 0.9, beta2: 0.95, weightDecay: 0.1 };

/** Runs the updates g = 0.5 then g = -1 at lr 0.1 on a one-element parameter starting at 1. */
async function twoSteps(opt: DenseOptimizer): Promise<number[]> {
  const vars = new Map([['w', tf.variable(tf.tensor1d([1]))]]);
  const out: number[] = [];
  for (const g of [0.5, -1]) {
    opt.apply(vars, { w: tf.tensor1d([g]) }, 0.1);
    out.push((await vars.get('w')!.data())[0]!);
  }
  return out;
}

describe('AdamATan2', () => {
  it('decays first, lerps the moments and steps by lr * atan2(m_hat, sqrt(v_hat))', async () => {
    const [p1, p2] = await twoSteps(new AdamAtan2(HYPER));
    // t=1: p = 1 (1 - 0.01) = 0.99; m_hat = 0.5, sqrt(v_hat) = 0.5 -> atan2 = pi/4
    expect(p1).toBeCloseTo(0.99 - 0.1 * (Math.PI / 4), 6);
    expect(p1).toBeCloseTo(0.9114601836602552, 6);
    expect(p2).toBeCloseTo(0.937199503592324, 6);
  });

  it('has no epsilon: a zero gradient leaves only the decay, and no update exceeds lr pi/2', async () => {
    const opt = new AdamAtan2({ ...HYPER, weightDecay: 0 });
    const vars = new Map([['w', tf.variable(tf.tensor1d([0, 0, 2]))]]);
    opt.apply(vars, { w: tf.tensor1d([0, 1e-10, 0]) }, 1);
    const w = await vars.get('w')!.data();
    // A tiny gradient is as large a signal as any other: atan2(g, |g|) = pi/4 at t = 1.
    expect(w[0]).toBe(0);
    expect(w[1]).toBeCloseTo(-Math.PI / 4, 6);
    expect(w[2]).toBe(2);
    let prev = Array.from(w);
    for (let i = 0; i < 20; i++) {
      opt.apply(vars, { w: tf.tensor1d([1e6, -1e6, 3 * (i % 2 ? 1 : -1)]) }, 1);
      const next = Array.from(await vars.get('w')!.data());
      next.forEach((x, j) => {
        expect(Math.abs(x - prev[j]!)).toBeLessThanOrEqual(Math.PI / 2 + 1e-6);
      });
      prev = next;
    }
    expect(opt.step).toBe(21);
  });

  it('exports and imports its state so that a resumed run continues identically', async () => {
    const a = new AdamAtan2(HYPER);
    const va = new Map([['w', tf.variable(tf.tensor2d([1, 2, 3, 4], [2, 2]))]]);
    a.apply(va, { w: tf.tensor2d([0.1, -0.2, 0.3, 0], [2, 2]) }, 0.01);
    const state = await a.exportState();
    expect(state).toMatchObject({ name: 'adam_atan2', step: 1 });
    expect(Object.keys(state.tensors).sort()).toEqual(['exp_avg.w', 'exp_avg_sq.w']);
    expect(state.tensors['exp_avg.w']!.shape).toEqual([2, 2]);

    const b = new AdamAtan2(HYPER);
    b.importState(structuredClone(state));
    const vb = new Map([['w', tf.variable(tf.tensor2d(await va.get('w')!.data(), [2, 2]))]]);
    const g = tf.tensor2d([-0.5, 0.5, 0.25, 1], [2, 2]);
    a.apply(va, { w: g }, 0.01);
    b.apply(vb, { w: g }, 0.01);
    expect(Array.from(await vb.get('w')!.data())).toEqual(Array.from(await va.get('w')!.data()));
    expect(() => new AdamW(HYPER).importState(state)).toThrow(/adam_atan2, expected adamw/);
  });
});

describe('AdamW', () => {
  it('matches torch.optim.AdamW (eps 1e-8)', async () => {
    const [p1, p2] = await twoSteps(new AdamW(HYPER));
    expect(p1).toBeCloseTo(0.890000002, 6);
    expect(p2).toBeCloseTo(0.9174373965715928, 6);
  });
});

describe('sparse sign-SGD', () => {
  it('sums gradients per unique id, then decays and steps by sign only the touched rows', () => {
    const table = new PuzzleTable(3, 2, Float32Array.from([1, 1, 2, 2, -1, 4]));
    const grads = Float32Array.from([1, -2, 0, 3, -3, 1]); // ids 2, 0, 2
    const touched = signSgdUpdate(table, [2, 0, 2], grads, 0.1, 0.5);
    expect(touched).toEqual([0, 2]);
    // row 0: g = [0, 3] -> 0.95 - [0, 0.1]; row 2: g = [-2, -1] -> 0.95 [-1, 4] + 0.1; row 1 untouched
    const expected = [0.95, 0.85, 2, 2, -0.85, 3.9];
    table.data.forEach((x, i) => {
      expect(x).toBeCloseTo(expected[i]!, 6);
    });
  });

  it('rejects ids outside the table and gradients of the wrong size', () => {
    const table = new PuzzleTable(2, 2);
    expect(() => signSgdUpdate(table, [2], new Float32Array(2), 0.1, 0)).toThrow(/puzzle identifier/);
    expect(() => signSgdUpdate(table, [0], new Float32Array(3), 0.1, 0)).toThrow(/rowGrads must hold 1 x 2/);
  });
});

describe('EMA', () => {
  it('tracks shadow <- (1 - rate) param + rate shadow and saves/restores it', async () => {
    const p = tf.variable(tf.tensor1d([1, -1]));
    const params = new Map([['w', p]]);
    const ema = new Ema(params, 0.9);
    p.assign(tf.tensor1d([2, 0]));
    ema.update(params);
    ema.update(params);
    const shadow = await ema.params().w!.data();
    expect(shadow[0]).toBeCloseTo(1.19, 6);
    expect(shadow[1]).toBeCloseTo(-0.81, 6);
    // The shadow is a copy: the parameter itself is unchanged.
    expect(Array.from(await p.data())).toEqual([2, 0]);
    const saved = await ema.exportState();
    const other = new Ema(params, 0.9);
    other.importState(saved);
    expect(Array.from(await other.params().w!.data())).toEqual(Array.from(shadow));
  });
});

describe('learning-rate schedule', () => {
  it('warms up linearly from step 1, then stays at base when min_ratio = 1', () => {
    const s = { baseLr: 1e-2, warmupSteps: 10, totalSteps: 110, minRatio: 1 };
    expect(learningRate(1, s)).toBeCloseTo(1e-3, 12);
    expect(learningRate(5, s)).toBeCloseTo(5e-3, 12);
    expect(learningRate(10, s)).toBe(1e-2);
    expect(learningRate(100, s)).toBe(1e-2);
  });

  it('follows a half cosine down to base * min_ratio otherwise', () => {
    const s = { baseLr: 1e-2, warmupSteps: 10, totalSteps: 110, minRatio: 0.1 };
    expect(learningRate(60, s)).toBeCloseTo(5.5e-3, 12);
    expect(learningRate(110, s)).toBeCloseTo(1e-3, 12);
  });
});
