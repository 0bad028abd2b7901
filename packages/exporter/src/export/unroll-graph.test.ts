// unrollStepGraph: a graph of k steps per run gives, step for step, what k runs of the step graph give (the answer
// as the argmax of the logits, the halt logit, the final state), with resets applied at the first step only.
import { f16ToF32, f32ToF16, getPreset, type ModelConfig, Rng, stateLen } from '@trm/core';
import {
  exportStepGraph,
  type GraphDtype,
  METADATA_KEYS,
  MULTI_STEP_INPUTS,
  MULTI_STEP_OUTPUTS,
  readModelMetadata,
  STEP_INPUTS,
  STEP_OUTPUTS,
  type MultiStepForm,
  unrollStepGraph,
  weightsSha256,
  decodeRawModel,
} from '@trm/graph';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { argmaxRow } from '../testing/reference-loop.js';
import { createCpuSession, runStep } from '../runtime/ort-step.js';
import { randomWeights } from './random-weights.js';

const ATT: Partial<ModelConfig> = { hidden_size: 32, num_heads: 4, L_layers: 2, H_cycles: 2, L_cycles: 2 };
const MLP: Partial<ModelConfig> = { ...ATT, mlp_t: true, pos_encodings: 'none' };

function configOf(over: Partial<ModelConfig>): ModelConfig {
  return { ...getPreset('test-micro').model, seq_len: 20, puzzle_emb_ndim: 32, num_puzzle_identifiers: 5, ...over };
}

async function check(config: ModelConfig, dtype: GraphDtype, k: number, form: MultiStepForm): Promise<void> {
  const weights = randomWeights(config, { seed: 5, gain: 0.5 });
  const stepBytes = exportStepGraph(config, weights, { dtype });
  const single = await createCpuSession(stepBytes, 1);
  const multi = await createCpuSession(unrollStepGraph(stepBytes, k, form), 1);
  const B = 3;
  const S = config.seq_len;
  const V = config.vocab_size;
  const E = config.puzzle_emb_ndim;
  const L = stateLen(config);
  const D = config.hidden_size;
  const rng = new Rng(11);
  const tokens = Array.from({ length: B }, () => Array.from({ length: S }, () => rng.int(0, V - 1)));
  const table = weights['puzzle_emb.weights']!.data;
  const puzzleEmb = Array.from({ length: B }, (_, b) => table.slice(b * E, (b + 1) * E));
  // The state after two single steps, then row 1 resets: the k-step run starts from a mixed batch.
  let zH: Float32Array = new Float32Array(B * L * D);
  let zL: Float32Array = new Float32Array(B * L * D);
  for (let s = 0; s < 2; s++) {
    const r = await runStep(single, config, { tokens, puzzleEmb, reset: Array(B).fill(s === 0), zH, zL });
    zH = r.zH;
    zL = r.zL;
  }
  const reset = [false, true, false];
  // k single steps
  const answers: Uint8Array[][] = [];
  const qs: number[][] = [];
  let h = zH;
  let l = zL;
  for (let j = 0; j < k; j++) {
    const r = await runStep(single, config, {
      tokens,
      puzzleEmb,
      reset: j === 0 ? reset : Array(B).fill(false),
      zH: h,
      zL: l,
    });
    answers.push(Array.from({ length: B }, (_, b) => argmaxRow(r.logits, b, S, V)));
    qs.push(Array.from(r.qHalt));
    h = r.zH;
    l = r.zL;
  }
  // one run of k steps
  const fp16 = dtype === 'fp16';
  // ONNX Runtime may fuse the unrolled graph's float16 casts differently: a few float16 ulps apart (2^-10 = 1e-3)
  const tol = fp16 ? 4e-3 : 1e-5;
  const state = (a: Float32Array) =>
    fp16 ? new ort.Tensor('float16', f32ToF16(a), [B, L, D]) : new ort.Tensor('float32', a, [B, L, D]);
  const feeds: Record<string, ort.Tensor> = {
    [STEP_INPUTS.tokens]: new ort.Tensor('int64', BigInt64Array.from(tokens.flat(), BigInt), [B, S]),
    [STEP_INPUTS.puzzleEmb]: new ort.Tensor('float32', Float32Array.from(puzzleEmb.flatMap((r) => [...r])), [B, E]),
    [STEP_INPUTS.reset]: new ort.Tensor('bool', Uint8Array.from(reset.map(Number)), [B]),
    [STEP_INPUTS.zH]: state(zH),
    [STEP_INPUTS.zL]: state(zL),
  };
  if (form === 'loop') {
    // never halts, k steps left: the loop runs all k steps
    feeds[MULTI_STEP_INPUTS.haltLogit] = new ort.Tensor('float32', new Float32Array(B).fill(Infinity), [B]);
    feeds[MULTI_STEP_INPUTS.stepsLeft] = new ort.Tensor('int64', new BigInt64Array(B).fill(BigInt(k)), [B]);
  }
  const out = await multi.run(feeds);
  expect(out[MULTI_STEP_OUTPUTS.answers]!.dims).toEqual([B, k, S]);
  expect(out[MULTI_STEP_OUTPUTS.qHalts]!.dims).toEqual([B, k]);
  const got = out[MULTI_STEP_OUTPUTS.answers]!.data as Uint8Array;
  const gotQ = out[MULTI_STEP_OUTPUTS.qHalts]!.data as Float32Array;
  for (let b = 0; b < B; b++)
    for (let j = 0; j < k; j++) {
      expect(Array.from(got.subarray((b * k + j) * S, (b * k + j + 1) * S)), `row ${b} step ${j}`).toEqual(
        Array.from(answers[j]![b]!),
      );
      expect(Math.abs(gotQ[b * k + j]! - qs[j]![b]!) / (1 + Math.abs(qs[j]![b]!)), `q row ${b} step ${j}`).toBeLessThan(
        tol,
      );
    }
  const outH = out[STEP_OUTPUTS.zH]!;
  const finalH = fp16 ? f16ToF32(outH.data as Uint16Array) : (outH.data as Float32Array);
  let maxDiff = 0;
  for (let i = 0; i < finalH.length; i++)
    maxDiff = Math.max(maxDiff, Math.abs(finalH[i]! - h[i]!) / (1 + Math.abs(h[i]!)));
  expect(maxDiff).toBeLessThan(tol);
  await single.release();
  await multi.release();
}

describe('unrollStepGraph', () => {
  for (const form of ['loop', 'unrolled'] as const) {
    it(`${form}: runs k attention steps as k runs of the step graph (fp32, k = 4)`, async () => {
      await check(configOf(ATT), 'fp32', 4, form);
    });
    it(`${form}: runs k MLP-mixer steps as k runs of the step graph (fp16-weights, k = 3)`, async () => {
      await check(configOf(MLP), 'fp16-weights', 3, form);
    });
    it(`${form}: runs a float16 graph (k = 2) and k = 1`, async () => {
      await check(configOf(MLP), 'fp16', 2, form);
      await check(configOf(ATT), 'fp32', 1, form);
    });
  }

  it('loop: ends after the first step at which no row goes on (halted, or out of steps)', async () => {
    const config = configOf(ATT);
    const weights = randomWeights(config, { seed: 5, gain: 0.5 });
    const stepBytes = exportStepGraph(config, weights);
    const single = await createCpuSession(stepBytes, 1);
    const loop = await createCpuSession(unrollStepGraph(stepBytes, 8, 'loop'), 1);
    const B = 3;
    const S = config.seq_len;
    const E = config.puzzle_emb_ndim;
    const L = stateLen(config);
    const D = config.hidden_size;
    const rng = new Rng(3);
    const tokens = Array.from({ length: B }, () => Array.from({ length: S }, () => rng.int(0, config.vocab_size - 1)));
    const puzzleEmb = Array.from({ length: B }, () => new Float32Array(E));
    const zeros = new Float32Array(B * L * D);
    // the halt logits of the first three steps, from the step graph
    const q: number[][] = [];
    let st: { zH: Float32Array; zL: Float32Array } = { zH: zeros, zL: zeros };
    for (let j = 0; j < 3; j++) {
      const r = await runStep(single, config, {
        tokens,
        puzzleEmb,
        reset: Array(B).fill(j === 0),
        zH: st.zH,
        zL: st.zL,
      });
      q.push(Array.from(r.qHalt));
      st = r;
    }
    const run = async (haltLogit: number[], stepsLeft: number[]) => {
      const out = await loop.run({
        [STEP_INPUTS.tokens]: new ort.Tensor('int64', BigInt64Array.from(tokens.flat(), BigInt), [B, S]),
        [STEP_INPUTS.puzzleEmb]: new ort.Tensor('float32', new Float32Array(B * E), [B, E]),
        [STEP_INPUTS.reset]: new ort.Tensor('bool', new Uint8Array(B).fill(1), [B]),
        [STEP_INPUTS.zH]: new ort.Tensor('float32', zeros, [B, L, D]),
        [STEP_INPUTS.zL]: new ort.Tensor('float32', zeros, [B, L, D]),
        [MULTI_STEP_INPUTS.haltLogit]: new ort.Tensor('float32', Float32Array.from(haltLogit), [B]),
        [MULTI_STEP_INPUTS.stepsLeft]: new ort.Tensor('int64', BigInt64Array.from(stepsLeft, BigInt), [B]),
      });
      const qs = out[MULTI_STEP_OUTPUTS.qHalts]!;
      expect(out[MULTI_STEP_OUTPUTS.answers]!.dims).toEqual([B, qs.dims[1], S]);
      return qs.dims[1];
    };
    // every row halts at its first step
    expect(await run([-Infinity, -Infinity, -Infinity], [8, 8, 8])).toBe(1);
    // no row halts; the most steps left is 3 (an unused row has 0)
    expect(await run([Infinity, Infinity, Infinity], [2, 3, 0])).toBe(3);
    expect(await run([Infinity, Infinity, Infinity], [8, 8, 8])).toBe(8);
    // a row whose halt logit first exceeds a threshold at its step m > 1 (the others halt at once): m steps
    const found = [0, 1, 2]
      .flatMap((row) =>
        [2, 3].map((m) => ({ row, m, below: Math.max(...q.slice(0, m - 1).map((x) => x[row]!)), at: q[m - 1]![row]! })),
      )
      .find((c) => c.at > c.below);
    expect(found).toBeDefined();
    const limits = [-Infinity, -Infinity, -Infinity];
    limits[found!.row] = (found!.below + found!.at) / 2;
    expect(await run(limits, [8, 8, 8])).toBe(found!.m);
    await single.release();
    await loop.release();
  });

  it('keeps the weights and their checksum, records k, and refuses what it cannot unroll', () => {
    const config = configOf(ATT);
    const bytes = exportStepGraph(config, randomWeights(config, { seed: 1 }));
    const unrolled = unrollStepGraph(bytes, 4);
    for (const form of ['loop', 'unrolled'] as const) {
      const graph = unrollStepGraph(bytes, 4, form);
      const meta = readModelMetadata(graph);
      expect(meta[METADATA_KEYS.stepsPerRun]).toBe('4');
      const inits = decodeRawModel(graph).graph.initializer;
      expect(weightsSha256(inits.map((t) => t.raw_data))).toBe(meta[METADATA_KEYS.weightsSha256]);
      expect(inits.length).toBe(decodeRawModel(bytes).graph.initializer.length);
    }
    // the loop form stays the size of one step; the unrolled one grows with k
    const nodes = (b: Uint8Array) => decodeRawModel(b).graph.node.length;
    expect(nodes(unrolled)).toBeLessThan(10);
    expect(nodes(unrollStepGraph(bytes, 4, 'unrolled'))).toBeGreaterThan(4 * nodes(bytes));
    expect(() => unrollStepGraph(unrolled, 2)).toThrow(/already runs several steps/);
    expect(() => unrollStepGraph(bytes, 0)).toThrow(/integer from 1 to 64 \(got 0\)/);
    expect(() => unrollStepGraph(bytes, 2.5)).toThrow(/got 2.5/);
  });
});
