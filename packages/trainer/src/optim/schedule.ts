// The reference's learning-rate schedule (pretrain.py cosine_schedule_with_warmup_lr_lambda, TRM-SPEC §5.1):
// linear warm-up, then a half cosine from base to base * min_ratio. The published configs use min_ratio = 1, which
// makes it constant after warm-up. Steps count from 1 (the first update uses step 1).

export interface LrSchedule {
  baseLr: number;
  warmupSteps: number;
  totalSteps: number;
  minRatio: number;
  /** 0.5 = one half cosine over the run (the reference's default) */
  numCycles?: number;
}

export function learningRate(step: number, s: LrSchedule): number {
  if (step < s.warmupSteps) return (s.baseLr * step) / Math.max(1, s.warmupSteps);
  const progress = (step - s.warmupSteps) / Math.max(1, s.totalSteps - s.warmupSteps);
  const cycles = s.numCycles ?? 0.5;
  return (
    s.baseLr * (s.minRatio + Math.max(0, (1 - s.minRatio) * 0.5 * (1 + Math.cos(Math.PI * cycles * 2 * progress))))
  );
}
