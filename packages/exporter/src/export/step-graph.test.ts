// The exported step graph on ONNX Runtime's CPU provider against the trainer's forward pass (tfjs, cpu backend):
// 16 supervision steps with resets of some rows along the way, for the attention (RoPE) and MLP-mixer variants and
// every op choice. Each side runs free from its own previous state, fp32: max |diff| <= 1e-4 on logits, q_halt and
// state, identical argmax. The fp16 variants are held to a stated tolerance with argmax agreement >= 99.9 %.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  encodeSudoku,
  generateSudoku,
  getPreset,
  type ModelConfig,
  type NamedArrays,
  parseSudokuString,
  Rng,
  readModelFolder,
  stateLen,
} from '@trm/core';
import { selectBackend, TrmModel } from '@trm/trainer';
import { hostSupervisionStep } from '@trm/trainer/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { randomWeights } from '../export/random-weights.js';
import { createCpuSession, runStep } from '../runtime/ort-step.js';
import { decodeRawModel, exportStepGraph, type GraphDtype, type OpChoice } from '@trm/graph';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../../..');

beforeAll(async () => {
  await selectBackend('cpu', () => {});
});

const ATT: Partial<ModelConfig> = { hidden_size: 32, num_heads: 4, L_layers: 2, H_cycles: 2, L_cycles: 2 };
const MLP: Partial<ModelConfig> = { ...ATT, mlp_t: true, pos_encodings: 'none' };

function configOf(over: Partial<ModelConfig>): ModelConfig {
  // A short sequence keeps the tfjs side fast; every code path of the graph is still exercised.
  return { ...getPreset('test-micro').model, seq_len: 20, puzzle_emb_ndim: 32, num_puzzle_identifiers: 5, ...over };
}

/** Resets: all rows at step 1, row 1 again at step 6, rows 0 and 2 at step 11. */
function resetsAt(step: number, B: number): boolean[] {
  if (step === 0) return Array(B).fill(true);
  if (step === 5) return Array.from({ length: B }, (_, b) => b === 1);
  if (step === 10) return Array.from({ length: B }, (_, b) => b === 0 || b === 2);
  return Array(B).fill(false);
}

interface Comparison {
  maxLogits: number;
  maxQ: number;
  maxState: number;
  argmaxAgree: number;
  cells: number;
}

async function compare(config: ModelConfig, dtype: GraphDtype, ops: Partial<OpChoice>): Promise<Comparison> {
  const weights = randomWeights(config, { seed: 3, gain: 0.5 });
  const session = await createCpuSession(exportStepGraph(config, weights, { dtype, ops }), 1);
  const model = TrmModel.fromWeights(config, weights);
  const B = 3;
  const S = config.seq_len;
  const V = config.vocab_size;
  const E = config.puzzle_emb_ndim;
  const rng = new Rng(9);
  const batch = () => Array.from({ length: B }, () => Array.from({ length: S }, () => rng.int(0, V - 1)));
  const table = weights['puzzle_emb.weights']!.data;
  const rows = () =>
    Array.from({ length: B }, () => {
      const id = rng.int(0, 4);
      return table.slice(id * E, (id + 1) * E);
    });
  let tokens = batch();
  let puzzleRows = Array.from({ length: B }, (_, b) => table.slice(b * E, (b + 1) * E));
  type State = { zH: Float32Array; zL: Float32Array };
  let ours: State = { zH: new Float32Array(B * stateLen(config) * config.hidden_size), zL: new Float32Array(0) };
  ours.zL = new Float32Array(ours.zH.length);
  let theirs: { zH: Float32Array; zL: Float32Array } | null = null;
  const r: Comparison = { maxLogits: 0, maxQ: 0, maxState: 0, argmaxAgree: 0, cells: 0 };
  for (let step = 0; step < 16; step++) {
    const reset = resetsAt(step, B);
    if (step === 5 || step === 10) {
      // reset rows get a new puzzle (new tokens, new puzzle row), as a server slot would
      const fresh = batch();
      const freshRows = rows();
      tokens = tokens.map((t, b) => (reset[b] ? fresh[b]! : t));
      puzzleRows = puzzleRows.map((p, b) => (reset[b] ? freshRows[b]! : p));
    }
    const a = await runStep(session, config, { tokens, puzzleEmb: puzzleRows, reset, zH: ours.zH, zL: ours.zL });
    const t = await hostSupervisionStep(model, theirs, { tokens, puzzleRows, reset });
    ours = a;
    theirs = t;
    const diff = (x: Float32Array, y: Float32Array) => x.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i]!)), 0);
    r.maxLogits = Math.max(r.maxLogits, diff(a.logits, t.logits));
    r.maxQ = Math.max(r.maxQ, diff(a.qHalt, t.qHalt));
    r.maxState = Math.max(r.maxState, diff(a.zH, t.zH), diff(a.zL, t.zL));
    for (let cell = 0; cell < B * S; cell++) {
      const arg = (l: Float32Array) => {
        let best = 0;
        for (let v = 1; v < V; v++) if (l[cell * V + v]! > l[cell * V + best]!) best = v;
        return best;
      };
      r.cells++;
      if (arg(a.logits) === arg(t.logits)) r.argmaxAgree++;
    }
  }
  model.dispose();
  await session.release();
  const e = (v: number) => v.toExponential(1);
  console.log(
    `${config.mlp_t ? 'mlp_t' : 'attention'} ${dtype} ${JSON.stringify(ops)}: max |diff| logits ${e(r.maxLogits)}, ` +
      `q_halt ${e(r.maxQ)}, state ${e(r.maxState)}; argmax ${r.argmaxAgree}/${r.cells}`,
  );
  return r;
}

const OP_CHOICES: Partial<OpChoice>[] = [
  { norm: 'op', attention: 'mha', swiglu: 'fused', mlpT: 'transpose' },
  { norm: 'decomposed', attention: 'decomposed', swiglu: 'split', mlpT: 'broadcast' },
  { norm: 'skip', attention: 'mha', swiglu: 'split', mlpT: 'transpose' },
  { norm: 'op', attention: 'mha', swiglu: 'split', mlpT: 'broadcast', rope: 'op' },
  // the training graph's default forms, and the MLP-mixer's 21 positions padded to 24 in its token mix
  { norm: 'op', attention: 'mha', swiglu: 'split', mlpT: 'broadcast', silu: 'op', mlpTPad: 'align8' },
  // the MLP-mixer's sequence-axis norm as ReduceL2 and one Div, with the other forms a GPU graph takes
  { norm: 'skip', attention: 'mha', swiglu: 'split', mlpT: 'broadcast', silu: 'op', mlpTPad: 'align8', seqNorm: 'l2' },
];

describe('step graph on ORT CPU matches the trainer over 16 steps with resets (fp32)', () => {
  for (const [label, over] of [
    ['attention + RoPE', ATT],
    ['MLP-mixer', MLP],
  ] as const) {
    for (const ops of OP_CHOICES) {
      it(`${label}, ${JSON.stringify(ops)}`, async () => {
        const r = await compare(configOf(over), 'fp32', ops);
        expect(r.maxLogits).toBeLessThanOrEqual(1e-4);
        expect(r.maxQ).toBeLessThanOrEqual(1e-4);
        expect(r.maxState).toBeLessThanOrEqual(1e-4);
        expect(r.argmaxAgree).toBe(r.cells);
      });
    }
  }
});

describe('RotaryEmbedding (rope = op) with the score scale folded into the q tables (head_dim 16)', () => {
  it('matches the trainer over 16 steps (fp32)', async () => {
    const config = configOf({ ...ATT, num_heads: 2 });
    const ops = (o: Partial<OpChoice>) =>
      decodeRawModel(exportStepGraph(config, randomWeights(config), { ops: o })).graph.node.map((n) => n.op_type);
    const calls = config.H_cycles * (config.L_cycles + 1) * config.L_layers;
    expect(ops({ rope: 'op' }).filter((t) => t === 'RotaryEmbedding').length).toBe(2 * calls);
    expect(ops({}).filter((t) => t === 'RotaryEmbedding').length).toBe(0);
    const r = await compare(config, 'fp32', { rope: 'op' });
    expect(r.maxLogits).toBeLessThanOrEqual(1e-4);
    expect(r.maxQ).toBeLessThanOrEqual(1e-4);
    expect(r.maxState).toBeLessThanOrEqual(1e-4);
    expect(r.argmaxAgree).toBe(r.cells);
  });
});

describe('the sequence-axis norm as ReduceL2 (seqNorm = l2)', () => {
  it('replaces the float32 passes of every MLP-mixer norm over the sequence; attention graphs keep their nodes', () => {
    const opTypes = (over: Partial<ModelConfig>, dtype: GraphDtype, o: Partial<OpChoice>) => {
      const config = configOf(over);
      return decodeRawModel(exportStepGraph(config, randomWeights(config), { dtype, ops: o })).graph.node.map(
        (n) => n.op_type,
      );
    };
    const config = configOf(MLP);
    const calls = config.H_cycles * (config.L_cycles + 1) * config.L_layers;
    const count = (types: string[], t: string) => types.filter((x) => x === t).length;
    const l2 = opTypes(MLP, 'fp16', { seqNorm: 'l2' });
    const plain = opTypes(MLP, 'fp16', {});
    expect(count(l2, 'ReduceL2')).toBe(calls);
    expect(count(l2, 'Pow')).toBe(0);
    expect(count(plain, 'Pow')).toBe(calls);
    expect(count(l2, 'ReduceMean')).toBe(0);
    expect(opTypes(ATT, 'fp16', { seqNorm: 'l2' })).toEqual(opTypes(ATT, 'fp16', {}));
  });
});

/**
 * A float16 graph against the float32 graph of the same weights (itself equal to the trainer to ~1e-6, above),
 * 16 steps from a reset on a batch of 16. Random models have many near-ties among their logits (1 % of cells have a
 * top-2 margin under 0.005), so argmax agreement is asserted on the cells whose float32 margin exceeds twice the
 * logit tolerance, and over all cells on the trained model below.
 */
async function compareFp16(
  config: ModelConfig,
  weights: NamedArrays,
  dtype: GraphDtype,
  tokens: number[][],
  ops: Partial<OpChoice> = {},
) {
  const s32 = await createCpuSession(exportStepGraph(config, weights), 2);
  const s16 = await createCpuSession(exportStepGraph(config, weights, { dtype, ops }), 2);
  const B = tokens.length;
  const V = config.vocab_size;
  const E = config.puzzle_emb_ndim;
  const table = weights['puzzle_emb.weights']!;
  const rowsOf = table.shape[0]!;
  const puzzleEmb = tokens.map((_, b) => table.data.slice((b % rowsOf) * E, ((b % rowsOf) + 1) * E));
  const zeros = new Float32Array(B * stateLen(config) * config.hidden_size);
  let a: { zH: Float32Array; zL: Float32Array } = { zH: zeros, zL: zeros };
  let h: { zH: Float32Array; zL: Float32Array } = { zH: zeros, zL: zeros };
  const r = { maxLogits: 0, maxQ: 0, agree: 0, cells: 0, decisiveAgree: 0, decisive: 0, finalAgree: 0 };
  for (let step = 0; step < 16; step++) {
    const reset = Array(B).fill(step === 0);
    const ra = await runStep(s32, config, { tokens, puzzleEmb, reset, zH: a.zH, zL: a.zL });
    const rh = await runStep(s16, config, { tokens, puzzleEmb, reset, zH: h.zH, zL: h.zL });
    a = ra;
    h = rh;
    for (let i = 0; i < ra.logits.length; i++)
      r.maxLogits = Math.max(r.maxLogits, Math.abs(ra.logits[i]! - rh.logits[i]!));
    for (let i = 0; i < B; i++) r.maxQ = Math.max(r.maxQ, Math.abs(ra.qHalt[i]! - rh.qHalt[i]!));
    for (let cell = 0; cell < B * config.seq_len; cell++) {
      const l32 = ra.logits.subarray(cell * V, cell * V + V);
      const l16 = rh.logits.subarray(cell * V, cell * V + V);
      const best = l32.indexOf(Math.max(...l32));
      const same = best === l16.indexOf(Math.max(...l16));
      const margin = l32[best]! - Math.max(...l32.filter((_, v) => v !== best));
      r.cells++;
      if (same) r.agree++;
      if (margin > 2 * FP16_LOGIT_TOLERANCE) {
        r.decisive++;
        if (same) r.decisiveAgree++;
      }
      if (step === 15 && same) r.finalAgree++;
    }
  }
  await s32.release();
  await s16.release();
  const pct = (x: number, n: number) => `${((100 * x) / n).toFixed(3)} %`;
  console.log(
    `${config.mlp_t ? 'mlp_t' : 'attention'} ${dtype} vs fp32: max |diff| logits ${r.maxLogits.toExponential(1)}, ` +
      `q_halt ${r.maxQ.toExponential(1)}; argmax ${pct(r.agree, r.cells)} of ${r.cells} cells, ` +
      `${pct(r.decisiveAgree, r.decisive)} of ${r.decisive} with margin > ${2 * FP16_LOGIT_TOLERANCE}`,
  );
  return r;
}

/** Largest |logit difference| allowed for the fp16 variants (over 16 steps; measured 4e-3 to 8e-3). */
const FP16_LOGIT_TOLERANCE = 0.02;

describe('fp16 variants against the fp32 graph', () => {
  for (const [label, over] of [
    ['attention + RoPE', ATT],
    ['MLP-mixer', MLP],
  ] as const) {
    for (const [dtype, ops] of [
      ['fp16-weights', {}],
      ['fp16', {}],
      ['fp16', { norm: 'skip' }],
      ['fp16', { rope: 'op' }],
      ['fp16', { norm: 'skip', silu: 'op', mlpTPad: 'align8', seqNorm: 'l2' }],
    ] as const) {
      it(`${label}, ${dtype} ${JSON.stringify(ops)} (random weights)`, async () => {
        const config = configOf({ ...over, seq_len: 81 });
        const weights = randomWeights(config, { seed: 3, gain: 0.5 });
        const rng = new Rng(1);
        const tokens = Array.from({ length: 16 }, () => Array.from({ length: 81 }, () => rng.int(0, 10)));
        const r = await compareFp16(config, weights, dtype, tokens, ops);
        expect(r.maxLogits).toBeLessThanOrEqual(FP16_LOGIT_TOLERANCE);
        expect(r.maxQ).toBeLessThanOrEqual(FP16_LOGIT_TOLERANCE);
        expect(r.decisiveAgree).toBe(r.decisive);
        expect(r.decisive / r.cells).toBeGreaterThan(0.9);
      });
    }
  }

  for (const dtype of ['fp16-weights', 'fp16'] as const) {
    it(`the shipped sudoku-small-mlp, ${dtype}: argmax agreement >= 99.9 % on 32 new sudoku`, async () => {
      const dir = join(REPO_ROOT, 'models/sudoku-small-mlp');
      const { config, weights } = await readModelFolder(dir);
      const rng = new Rng(2024);
      const tokens = Array.from({ length: 32 }, () =>
        Array.from(encodeSudoku(parseSudokuString(generateSudoku(rng, { givens: [40, 60] }).question))),
      );
      const r = await compareFp16(config, weights, dtype, tokens);
      expect(r.agree / r.cells).toBeGreaterThanOrEqual(0.999);
      expect(r.maxQ).toBeLessThanOrEqual(0.05);
    });
  }
});
