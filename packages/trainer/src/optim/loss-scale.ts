// Dynamic loss scaling for float16 training graphs: the loss is multiplied by a scale before differentiation so
// that small float16 gradients do not flush to zero; the host divides the gradients by it again. A step whose
// gradients hold an infinity or NaN (the scale was too large) changes no weight and halves the scale; after
// `growthInterval` finite steps in a row the scale doubles. The rule and defaults are those of PyTorch's
// GradScaler (initial 2^16, factors 2 and 0.5, interval 2,000).

export interface LossScaleState {
  scale: number;
  /** finite steps since the scale last changed */
  goodSteps: number;
}

export interface LossScaleOptions {
  initial?: number;
  growthInterval?: number;
  /** the scale never goes below this (default 1) */
  min?: number;
  /** nor above this (default 2^24) */
  max?: number;
}

export class DynamicLossScale {
  scale: number;
  goodSteps = 0;
  /** steps skipped because of non-finite gradients */
  skipped = 0;
  readonly growthInterval: number;
  readonly min: number;
  readonly max: number;

  constructor(o: LossScaleOptions = {}) {
    this.scale = o.initial ?? 2 ** 16;
    this.growthInterval = o.growthInterval ?? 2000;
    this.min = o.min ?? 1;
    this.max = o.max ?? 2 ** 24;
    if (!(this.scale > 0) || !Number.isFinite(this.scale)) throw new Error(`the initial loss scale must be > 0`);
  }

  /**
   * Divides every gradient by the scale, in place, and says whether all of them are finite. When one is not, the
   * arrays are left partly divided: the caller must not use them.
   */
  unscale(grads: Iterable<Float32Array>): boolean {
    const inv = 1 / this.scale;
    for (const g of grads) {
      for (let i = 0; i < g.length; i++) {
        const v = g[i]! * inv;
        // v - v is NaN for an infinity and for NaN, 0 otherwise.
        if (v - v !== 0) return false;
        g[i] = v;
      }
    }
    return true;
  }

  /** Records the outcome of a step and adjusts the scale. */
  update(finite: boolean): void {
    if (!finite) {
      this.scale = Math.max(this.min, this.scale / 2);
      this.goodSteps = 0;
      this.skipped++;
      return;
    }
    this.goodSteps++;
    if (this.goodSteps >= this.growthInterval) {
      this.scale = Math.min(this.max, this.scale * 2);
      this.goodSteps = 0;
    }
  }

  state(): LossScaleState {
    return { scale: this.scale, goodSteps: this.goodSteps };
  }

  restore(s: LossScaleState): void {
    if (!(s.scale > 0) || !Number.isFinite(s.scale)) throw new Error(`the saved loss scale ${s.scale} is not > 0`);
    this.scale = s.scale;
    this.goodSteps = s.goodSteps;
  }
}
