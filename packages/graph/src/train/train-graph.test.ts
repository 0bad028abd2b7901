// The op forms of the training graph as text (train --graph-ops).
import { describe, expect, it } from 'vitest';
import { DEFAULT_NO_GRAD_FORM, defaultCarry, parseGraphOps, TRAIN_OPS } from './train-graph.js';

describe('parseGraphOps', () => {
  it('reads any subset of the keys, the rest keeping their defaults', () => {
    expect(parseGraphOps('no-grad=differentiable,swiglu=fused,silu=decomposed')).toEqual({
      noGradForm: 'differentiable',
      trainOps: { swiglu: 'fused', silu: 'decomposed' },
      carry: undefined,
    });
    expect(parseGraphOps('norm=stats,mlpT=transpose,carry=fp16')).toEqual({
      noGradForm: undefined,
      trainOps: { norm: 'stats', mlpT: 'transpose' },
      carry: 'fp16',
    });
    expect(parseGraphOps('')).toEqual({ noGradForm: undefined, trainOps: {}, carry: undefined });
  });

  it('names the bad key or value', () => {
    expect(() => parseGraphOps('silu=fast')).toThrow('--graph-ops: silu must be one of decomposed, op (got "fast")');
    expect(() => parseGraphOps('no-grad=none')).toThrow(
      '--graph-ops: no-grad must be one of differentiable, inference (got "none")',
    );
    expect(() => parseGraphOps('attention=mha')).toThrow(
      '--graph-ops: unknown key "attention" (known: no-grad, swiglu, mlpT, norm, silu, mlpTPad, carry, steps)',
    );
  });

  it('defaults to the forms measured fastest on the GPU', () => {
    expect(DEFAULT_NO_GRAD_FORM).toBe('inference');
    expect([TRAIN_OPS.swiglu, TRAIN_OPS.silu, TRAIN_OPS.norm, TRAIN_OPS.mlpT, TRAIN_OPS.mlpTPad]).toEqual([
      'split',
      'op',
      'decomposed',
      'broadcast',
      'align8',
    ]);
    // the carry crosses in the compute type's width
    expect([defaultCarry('fp32'), defaultCarry('fp16')]).toEqual(['fp32', 'fp16']);
  });
});
