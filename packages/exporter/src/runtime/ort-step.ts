// Running a step graph with onnxruntime-node, for the exporter's own checks (parity tests, the reference loop, the
// op-choice benchmark). The server has its own engine; this is the plain, obviously-correct way to drive a graph.
import { f16ToF32, f32ToF16, type ModelConfig, puzzleEmbLen, stateLen } from '@trm/core';
import { STEP_INPUTS, STEP_OUTPUTS } from '@trm/graph';
import * as ort from 'onnxruntime-node';

export interface StepFeeds {
  /** token ids, B rows of seq_len */
  tokens: ArrayLike<number>[];
  /** puzzle rows [B][puzzle_emb_ndim] (required when the config has a puzzle embedding) */
  puzzleEmb?: Float32Array[];
  reset: boolean[];
  /** state [B, L, D] (float32 values; converted for fp16 graphs) */
  zH: Float32Array;
  zL: Float32Array;
}

export interface StepResult {
  zH: Float32Array;
  zL: Float32Array;
  /** [B, S, V] */
  logits: Float32Array;
  /** [B] */
  qHalt: Float32Array;
}

export async function createCpuSession(model: Uint8Array | string, threads?: number): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    ...(threads ? { intraOpNumThreads: threads } : {}),
  };
  return typeof model === 'string'
    ? ort.InferenceSession.create(model, options)
    : ort.InferenceSession.create(model, options);
}

// Node 20 has no Float16Array: onnxruntime-node carries float16 tensors as their bits in a Uint16Array.
function f32ToF16Tensor(a: Float32Array, dims: number[]): ort.Tensor {
  return new ort.Tensor('float16', f32ToF16(a), dims);
}

/** One call of the step graph. Works for float32 and float16 state (the state tensors' type decides). */
export async function runStep(session: ort.InferenceSession, config: ModelConfig, f: StepFeeds): Promise<StepResult> {
  const B = f.tokens.length;
  const S = config.seq_len;
  const L = stateLen(config);
  const D = config.hidden_size;
  const tokens = new BigInt64Array(B * S);
  f.tokens.forEach((row, b) => {
    for (let i = 0; i < S; i++) tokens[b * S + i] = BigInt(row[i]!);
  });
  const meta = session.inputMetadata.find((m) => m.name === STEP_INPUTS.zH);
  const fp16 = meta?.isTensor === true && meta.type === 'float16';
  const state = (a: Float32Array) => (fp16 ? f32ToF16Tensor(a, [B, L, D]) : new ort.Tensor('float32', a, [B, L, D]));
  const feeds: Record<string, ort.Tensor> = {
    [STEP_INPUTS.tokens]: new ort.Tensor('int64', tokens, [B, S]),
    [STEP_INPUTS.reset]: new ort.Tensor('bool', Uint8Array.from(f.reset.map(Number)), [B]),
    [STEP_INPUTS.zH]: state(f.zH),
    [STEP_INPUTS.zL]: state(f.zL),
  };
  if (puzzleEmbLen(config) > 0) {
    const E = config.puzzle_emb_ndim;
    const rows = new Float32Array(B * E);
    f.puzzleEmb?.forEach((r, b) => {
      rows.set(r, b * E);
    });
    feeds[STEP_INPUTS.puzzleEmb] = new ort.Tensor('float32', rows, [B, E]);
  }
  const out = await session.run(feeds);
  const f32 = (name: string) => {
    const t = out[name]!;
    return t.type === 'float16' ? f16ToF32(t.data as Uint16Array) : (t.data as Float32Array);
  };
  return {
    zH: f32(STEP_OUTPUTS.zH),
    zL: f32(STEP_OUTPUTS.zL),
    logits: f32(STEP_OUTPUTS.logits),
    qHalt: f32(STEP_OUTPUTS.qHalt),
  };
}

/**
 * The load check of a freshly written step graph: ORT CPU at full optimisation runs one step from a reset (the
 * puzzle row `puzzleEmb`, zeros by default); throws when the outputs are not finite; returns the second run's ms
 * (the first includes ORT's own set-up).
 */
export async function checkStepGraph(path: string, config: ModelConfig, puzzleEmb?: Float32Array): Promise<number> {
  const session = await createCpuSession(path);
  try {
    const size = stateLen(config) * config.hidden_size;
    const feeds: StepFeeds = {
      tokens: [new Uint8Array(config.seq_len)],
      puzzleEmb: [puzzleEmb ?? new Float32Array(config.puzzle_emb_ndim)],
      reset: [true],
      zH: new Float32Array(size),
      zL: new Float32Array(size),
    };
    await runStep(session, config, feeds);
    const t0 = performance.now();
    const r = await runStep(session, config, feeds);
    const ms = performance.now() - t0;
    if (!r.logits.every(Number.isFinite) || !r.qHalt.every(Number.isFinite))
      throw new Error(`${path}: ONNX Runtime ran the graph but its outputs are not finite`);
    return ms;
  } finally {
    await session.release();
  }
}
