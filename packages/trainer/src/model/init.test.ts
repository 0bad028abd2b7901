// The reference initialisation: JAX-style truncated normal with the exact std, bf16 rounding, and a model whose
// tensors have the reference names, shapes and special values, reproducibly from a seed.
import { checkpointTensors, countParameters, getPreset, Rng } from '@trm/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend/backend.js';
import { erf, erfinv, toBfloat16, truncatedNormal, truncNormalScale } from './init.js';
import { TrmModel } from './model.js';

beforeAll(async () => {
  await selectBackend('cpu', () => {});
});

describe('truncated normal', () => {
  it('erf and erfinv agree with known values and invert each other', () => {
    expect(erf(Math.SQRT2)).toBeCloseTo(0.9544997361036416, 14);
    expect(erf(-0.5)).toBeCloseTo(-0.5204998778130465, 14);
    for (const y of [-0.95, -0.3, 1e-9, 0.5, 0.9544]) expect(erf(erfinv(y))).toBeCloseTo(y, 13);
  });

  it('has the scale c = 1.13685 std, exact std, zero mean and support [-2c, 2c]', () => {
    // the reference's formula in float64 (TRM-SPEC rounds it to 1.13686)
    expect(truncNormalScale(1)).toBeCloseTo(1.1368472343385565, 12);
    const std = 0.25;
    const x = truncatedNormal(new Rng(3), 200_000, std);
    const mean = x.reduce((a, b) => a + b, 0) / x.length;
    const sd = Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length);
    expect(Math.abs(mean)).toBeLessThan(0.003);
    expect(Math.abs(sd / std - 1)).toBeLessThan(0.005);
    const c = truncNormalScale(std);
    const [lo, hi] = x.reduce(([a, b], v) => [Math.min(a, v), Math.max(b, v)], [0, 0]);
    expect(hi).toBeLessThanOrEqual(Math.fround(2 * c));
    expect(lo).toBeGreaterThanOrEqual(Math.fround(-2 * c));
    expect(hi).toBeGreaterThan(1.99 * c);
    expect(lo).toBeLessThan(-1.99 * c);
    // torch.nn.init.trunc_normal_ would give sd ~ 0.88 std: this is the JAX flavour
    expect(truncatedNormal(new Rng(1), 5, 0)).toEqual(new Float32Array(5));
  });

  it('rounds to bfloat16 half to even', () => {
    expect(toBfloat16(1)).toBe(1);
    expect(toBfloat16(1 + 2 ** -8)).toBe(1); // tie, 1.0 is even
    expect(toBfloat16(1 + 3 * 2 ** -8)).toBe(1 + 2 ** -6); // tie, rounds to the even neighbour above
    expect(toBfloat16(1 + 2 ** -8 + 2 ** -12)).toBe(1 + 2 ** -7);
    expect(toBfloat16(-Math.PI)).toBe(-3.140625);
  });
});

describe('TrmModel.create', () => {
  const config = getPreset('sudoku-tiny').model;

  it('holds every checkpoint tensor under its reference name and shape', async () => {
    const model = TrmModel.create(config, 0);
    const w = await model.exportWeights();
    const specs = checkpointTensors(config);
    expect(Object.keys(w).sort()).toEqual(specs.map((s) => s.name).sort());
    for (const s of specs) expect(w[s.name]!.shape, s.name).toEqual(s.shape);
    const trainable = model.trainableVariables().reduce((n, v) => n + v.size, 0);
    expect(trainable).toBe(countParameters(config));
    expect(model.variables.get('H_init')!.trainable).toBe(false);
    model.dispose();
  });

  it('uses the reference special values and LeCun stds', async () => {
    const model = TrmModel.create(config, 0);
    const w = await model.exportWeights();
    expect(w['q_head.weight']!.data.every((x) => x === 0)).toBe(true);
    expect(Array.from(w['q_head.bias']!.data)).toEqual([-5, -5]);
    expect(w['puzzle_emb.weights']!.data.every((x) => x === 0)).toBe(true);
    // H_init / L_init are bf16 values: the low 16 bits of each float32 are zero
    const bits = new Uint32Array(Float32Array.from(w.H_init!.data).buffer);
    expect(bits.every((b) => (b & 0xffff) === 0)).toBe(true);
    const sd = (a: Float32Array) => Math.sqrt(a.reduce((s, x) => s + x * x, 0) / a.length);
    const D = config.hidden_size;
    expect(sd(w['embed_tokens.embedding_weight']!.data)).toBeCloseTo(1 / Math.sqrt(D), 1);
    const gateUp = w['L_level.layers.0.mlp.gate_up_proj.weight']!;
    expect(Math.abs(sd(gateUp.data) * Math.sqrt(gateUp.shape[1]!) - 1)).toBeLessThan(0.03);
    model.dispose();
  });

  it('is reproducible from its seed', async () => {
    const [a, b, c] = [TrmModel.create(config, 5), TrmModel.create(config, 5), TrmModel.create(config, 6)];
    const [wa, wb, wc] = await Promise.all([a.exportWeights(), b.exportWeights(), c.exportWeights()]);
    expect(wa['lm_head.weight']!.data).toEqual(wb['lm_head.weight']!.data);
    expect(wa.L_init!.data).toEqual(wb.L_init!.data);
    expect(wa['lm_head.weight']!.data).not.toEqual(wc['lm_head.weight']!.data);
    for (const m of [a, b, c]) m.dispose();
  });

  it('loads weights by name and refuses wrong shapes', async () => {
    const a = TrmModel.create(config, 1);
    const b = TrmModel.fromWeights(config, await a.exportWeights());
    expect((await b.exportWeights())['q_head.bias']!.data).toEqual(new Float32Array([-5, -5]));
    expect(() => a.importWeights({ 'lm_head.weight': { shape: [3, 3], data: new Float32Array(9) } })).toThrow(
      /lm_head.weight must have shape \[11, 64\]/,
    );
    expect(() => a.importWeights({ nope: { shape: [1], data: new Float32Array(1) } })).toThrow(/nope is not a tensor/);
    a.dispose();
    b.dispose();
  });
});
