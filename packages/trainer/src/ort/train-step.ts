// One supervision step with gradients on ONNX Runtime: the generated training graph (@trm/graph buildTrainGraph)
// in a session of the CPU, CUDA or WebGPU provider. The host feeds the parameters, the batch and the carry, and
// reads back the new carry, the loss parts, the per-row results and every gradient (onnxruntime-node returns
// CUDA outputs in host memory, so the optimiser runs on the host).
import {
  buildTrainGraph,
  gradientName,
  IGNORE_LABEL,
  STEP_INPUTS,
  STEP_OUTPUTS,
  TRAIN_INPUTS,
  TRAIN_OUTPUTS,
} from '@trm/graph';
import { type ModelConfig, type NamedArrays, puzzleEmbLen, stateLen } from '@trm/core';
import * as ort from 'onnxruntime-node';

export type OrtProvider = 'cuda' | 'webgpu' | 'cpu';

export interface OrtStepFeeds {
  /** [B * seq_len] token ids */
  tokens: Int32Array;
  /** [B * seq_len] labels, IGNORE_LABEL (-100) where no loss is taken */
  labels: Int32Array;
  /** [B * puzzle_emb_ndim] rows of the puzzle table (models with a puzzle embedding) */
  puzzleRows: Float32Array | null;
  /** [B] 1 where the slot restarts from H_init/L_init */
  reset: Uint8Array;
  /** [B * L * D] carry (ignored where reset) */
  zH: Float32Array;
  zL: Float32Array;
  /** factor of the differentiated loss (1 / batch size) */
  lossScale: number;
  /** the trained parameters by reference name */
  params: NamedArrays;
}

export interface OrtStepResult {
  zH: Float32Array;
  zL: Float32Array;
  qHalt: Float32Array;
  lmLoss: number;
  qHaltLoss: number;
  rowCorrect: Float32Array;
  rowAccuracy: Float32Array;
  rowCount: Float32Array;
  /** d(lossScale x loss) / d parameter */
  grads: Record<string, Float32Array>;
  /** d(lossScale x loss) / d puzzle rows [B * E] */
  puzzleGrad: Float32Array | null;
  /** seconds in session.run (graph, transfers) */
  runSeconds: number;
}

export interface OrtStepOptions {
  provider: OrtProvider;
  /** CUDA / WebGPU device (default 0) */
  deviceId?: number;
  /** intra-op threads of the CPU provider */
  threads?: number;
}

function providerOption(o: OrtStepOptions): ort.InferenceSession.ExecutionProviderConfig {
  if (o.provider === 'cuda') return { name: 'cuda', deviceId: o.deviceId ?? 0 };
  if (o.provider === 'webgpu') return { name: 'webgpu' };
  return { name: 'cpu' };
}

/** Session options of a provider (all graph optimisations; the CPU provider's thread count when given). */
export function sessionOptions(o: OrtStepOptions): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [providerOption(o)],
    graphOptimizationLevel: 'all',
    ...(o.provider === 'cpu' && o.threads ? { intraOpNumThreads: o.threads } : {}),
  };
}

export class OrtTrainStep {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly config: ModelConfig,
    readonly params: readonly string[],
    readonly hasPuzzle: boolean,
    readonly graphBytes: number,
    readonly provider: OrtProvider,
  ) {}

  /** Builds the training graph of `config` (buffers H_init/L_init from `weights`) and opens a session. */
  static async create(config: ModelConfig, weights: NamedArrays, o: OrtStepOptions): Promise<OrtTrainStep> {
    const graph = buildTrainGraph(config, weights);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(graph.bytes, sessionOptions(o));
    } catch (e) {
      const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
      throw new Error(`cannot open the training graph on the ${o.provider} provider: ${why}`);
    }
    return new OrtTrainStep(session, config, graph.params, graph.puzzleEmb, graph.bytes.length, o.provider);
  }

  async run(f: OrtStepFeeds): Promise<OrtStepResult> {
    const c = this.config;
    const S = c.seq_len;
    const B = f.reset.length;
    const L = stateLen(c);
    const D = c.hidden_size;
    const tokens = new BigInt64Array(B * S);
    const labels = new BigInt64Array(B * S);
    for (let i = 0; i < B * S; i++) {
      tokens[i] = BigInt(f.tokens[i]!);
      labels[i] = BigInt(f.labels[i]!);
    }
    const feeds: Record<string, ort.Tensor> = {
      [STEP_INPUTS.tokens]: new ort.Tensor('int64', tokens, [B, S]),
      [TRAIN_INPUTS.labels]: new ort.Tensor('int64', labels, [B, S]),
      [STEP_INPUTS.reset]: new ort.Tensor('bool', f.reset, [B]),
      [STEP_INPUTS.zH]: new ort.Tensor('float32', f.zH, [B, L, D]),
      [STEP_INPUTS.zL]: new ort.Tensor('float32', f.zL, [B, L, D]),
      [TRAIN_INPUTS.lossScale]: new ort.Tensor('float32', Float32Array.of(f.lossScale), []),
    };
    if (this.hasPuzzle) {
      if (!f.puzzleRows) throw new Error('this model has a puzzle embedding: puzzleRows are required');
      feeds[STEP_INPUTS.puzzleEmb] = new ort.Tensor('float32', f.puzzleRows, [B, c.puzzle_emb_ndim]);
    }
    for (const p of this.params) {
      const t = f.params[p];
      if (!t) throw new Error(`the parameters lack ${p}`);
      feeds[p] = new ort.Tensor('float32', t.data, t.shape);
    }
    const t0 = performance.now();
    let out: ort.InferenceSession.ReturnType;
    try {
      out = await this.session.run(feeds);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      if (/out of memory|failed to allocate|bfcarena|cudaErrorMemoryAllocation/i.test(why))
        throw new Error(
          `the ${this.provider} device ran out of memory for a training run of ${B} rows (batch size ${B} per run): pass a smaller --micro-batch (the batch's rows are then run in parts and their gradients summed) or a smaller --batch. ${why.split('\n')[0]}`,
        );
      throw e;
    }
    const runSeconds = (performance.now() - t0) / 1000;
    const f32 = (name: string) => out[name]!.data as Float32Array;
    const grads: Record<string, Float32Array> = {};
    for (const p of this.params) grads[p] = f32(gradientName(p));
    return {
      zH: f32(STEP_OUTPUTS.zH),
      zL: f32(STEP_OUTPUTS.zL),
      qHalt: f32(STEP_OUTPUTS.qHalt),
      lmLoss: f32(TRAIN_OUTPUTS.lmLoss)[0]!,
      qHaltLoss: f32(TRAIN_OUTPUTS.qHaltLoss)[0]!,
      rowCorrect: f32(TRAIN_OUTPUTS.rowCorrect),
      rowAccuracy: f32(TRAIN_OUTPUTS.rowAccuracy),
      rowCount: f32(TRAIN_OUTPUTS.rowCount),
      grads,
      puzzleGrad: this.hasPuzzle ? f32(gradientName(STEP_INPUTS.puzzleEmb)) : null,
      runSeconds,
    };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** Whether the config's graph has a puzzle prefix (and so a puzzle_emb input). */
export function hasPuzzleInput(config: ModelConfig): boolean {
  return puzzleEmbLen(config) > 0;
}

export { IGNORE_LABEL };
