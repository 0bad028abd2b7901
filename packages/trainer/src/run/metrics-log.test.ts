// The logged training rates: a window divides by the seconds its steps came with (an engine that runs several steps
// per call gives each a share of the call), else by the clock since the last record.
import { describe, expect, it } from 'vitest';
import type { StepReport } from './training-run.js';
import { MetricWindow } from './metrics-log.js';

function report(step: number): StepReport {
  return {
    step,
    lr: 1e-3,
    metrics: { count: 2, accuracy: 1.5, exact_accuracy: 1, q_halt_accuracy: 2, steps: 6, lm_loss: 8, q_halt_loss: 4 },
    halted: 2,
    batchSize: 4,
  };
}

describe('MetricWindow', () => {
  it('rates a window by the seconds its steps came with, not by when the window was flushed', () => {
    const w = new MetricWindow();
    // 10 steps that took 0.25 s each (e.g. the last 2 of one call of 8 and a whole call of 8, less 0)
    for (let s = 1; s <= 10; s++) w.add(report(s), 0.25);
    const rec = w.flush(0, 12)!;
    expect(rec.step).toBe(10);
    expect(rec.samples_per_s).toBeCloseTo(40 / 2.5, 9);
    expect(rec.steps_per_s).toBeCloseTo(10 / 2.5, 9);
    expect(rec.lm_loss).toBeCloseTo(2, 9); // per row of the batch, averaged over the steps
    expect(rec.exact_accuracy).toBeCloseTo(0.5, 9); // per halted row
    // the next window starts afresh
    w.add(report(11), 0.5);
    expect(w.flush(0, 13)!.samples_per_s).toBeCloseTo(8, 9);
  });

  it('falls back to the clock when a step came without its seconds', () => {
    const w = new MetricWindow();
    w.add(report(1), 1000);
    w.add(report(2));
    // a clock of well under 1000 s since the window began: far above the 8 / 1000 the given seconds would say
    expect(w.flush(0, 1)!.samples_per_s).toBeGreaterThan(1);
  });
});
