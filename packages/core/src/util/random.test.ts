import { describe, expect, it } from 'vitest';
import { Rng } from './random.js';

describe('Rng', () => {
  it('is reproducible from a seed and from a saved state', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    expect(Array.from({ length: 5 }, () => a.nextUint32())).toEqual(Array.from({ length: 5 }, () => b.nextUint32()));
    const state = a.getState();
    const next = Array.from({ length: 5 }, () => a.random());
    const c = new Rng(state);
    expect(Array.from({ length: 5 }, () => c.random())).toEqual(next);
  });

  it('keeps its sequence (datasets and runs depend on it)', () => {
    const r = new Rng(123);
    expect([r.nextUint32(), r.nextUint32(), r.nextUint32()]).toEqual([629417593, 1268586715, 283082504]);
    expect(new Rng(r.getState()).getState().every((w) => w >= 0 && w < 2 ** 32)).toBe(true);
  });

  it('draws uniform integers in range and fair permutations', () => {
    const r = new Rng(1);
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 60_000; i++) counts[r.int(0, 5)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(400);
    expect(r.permutation(10).sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
