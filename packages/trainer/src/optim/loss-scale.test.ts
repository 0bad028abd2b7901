import { describe, expect, it } from 'vitest';
import { DynamicLossScale } from './loss-scale.js';

describe('DynamicLossScale', () => {
  it('divides finite gradients by the scale', () => {
    const s = new DynamicLossScale({ initial: 8 });
    const a = Float32Array.of(8, -16, 0);
    const b = Float32Array.of(4);
    expect(s.unscale([a, b])).toBe(true);
    expect(Array.from(a)).toEqual([1, -2, 0]);
    expect(Array.from(b)).toEqual([0.5]);
  });

  it('reports an infinity or a NaN anywhere', () => {
    const s = new DynamicLossScale({ initial: 8 });
    expect(s.unscale([Float32Array.of(1), Float32Array.of(2, Number.POSITIVE_INFINITY)])).toBe(false);
    expect(s.unscale([Float32Array.of(Number.NaN)])).toBe(false);
    expect(s.unscale([Float32Array.of(Number.NEGATIVE_INFINITY)])).toBe(false);
  });

  it('halves on overflow, doubles after the growth interval, within its bounds', () => {
    const s = new DynamicLossScale({ initial: 4, growthInterval: 3, min: 1, max: 16 });
    s.update(false);
    expect(s.scale).toBe(2);
    s.update(false);
    s.update(false);
    expect(s.scale).toBe(1); // not below min
    expect(s.skipped).toBe(3);
    s.update(true);
    s.update(true);
    expect(s.scale).toBe(1);
    s.update(true);
    expect(s.scale).toBe(2);
    for (let i = 0; i < 30; i++) s.update(true);
    expect(s.scale).toBe(16); // not above max
    s.update(true);
    s.update(false); // an overflow restarts the count
    expect(s.state()).toEqual({ scale: 8, goodSteps: 0 });
  });

  it('restores a saved state and rejects a bad one', () => {
    const s = new DynamicLossScale();
    s.restore({ scale: 512, goodSteps: 7 });
    expect(s.state()).toEqual({ scale: 512, goodSteps: 7 });
    expect(() => s.restore({ scale: 0, goodSteps: 0 })).toThrow(/loss scale/);
  });
});
