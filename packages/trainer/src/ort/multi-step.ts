// The session of the K-step training graph (graph/train/multi-step-graph.ts): one run trains up to K optimiser
// steps with the carry, the weights, the optimiser state, the loss scale and the puzzle table kept on the device
// between them. OrtTrainingRun (stepsPerRun > 1) feeds it the sampler's batches, the exploration draws and the
// learning rates of the steps, and takes back the state and each step's per-row results.
import type { ModelConfig, NamedArrays } from '@trm/core';
import {
  buildMultiStepGraph,
  MULTI_INPUTS,
  MULTI_OUTPUTS,
  MULTI_STATE,
  type MultiStepOptions,
  outName,
  type TrainCarry,
  type TrainPrecision,
} from '@trm/graph';
import * as ort from 'onnxruntime-node';
import { explainRunError, type OrtProvider, type OrtStepOptions, sessionOptions } from './train-step.js';

/** What the host feeds one run: K steps of data and scalars (rows of inactive steps are zeros), then the state. */
export interface MultiStepFeeds {
  /** [K * B * S], [K * B * S], [K * B] */
  tokens: Int32Array;
  labels: Int32Array;
  ids: Int32Array;
  /** [K * B] */
  minHalt: Float32Array;
  /** [K]: 1 for the steps to run */
  active: Uint8Array;
  /** [K] each */
  lr: Float32Array;
  wdAlpha: Float32Array;
  bc1Reciprocal: Float32Array;
  bc2Sqrt: Float32Array;
  puzzleLr: Float32Array;
  puzzleDecay: Float32Array;
  state: MultiStepState;
}

/** The state that crosses in and out once per run. */
export interface MultiStepState {
  /** [B * S], [B * S], [B] */
  tokens: Int32Array;
  labels: Int32Array;
  ids: Int32Array;
  /** [B] */
  steps: Float32Array;
  halted: Uint8Array;
  /** [B * L * D], float32 or float16 bits */
  zH: Float32Array | Uint16Array;
  zL: Float32Array | Uint16Array;
  /** [P] each; e without EMA is ignored */
  p: Float32Array;
  m: Float32Array;
  v: Float32Array;
  e: Float32Array;
  scale: number;
  good: number;
  /** [N * E], or null without a puzzle table */
  table: Float32Array | null;
}

/** What one run returns: the new state and, per step, [K * B] or [K] results. */
export interface MultiStepResult {
  state: MultiStepState;
  qHalt: Float32Array;
  lmLoss: Float32Array;
  qHaltLoss: Float32Array;
  rowCorrect: Float32Array;
  rowAccuracy: Float32Array;
  rowCount: Float32Array;
  halted: Float32Array;
  steps: Float32Array;
  applied: Float32Array;
  runSeconds: number;
}

export class OrtMultiStep {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly config: ModelConfig,
    readonly params: readonly string[],
    readonly hasPuzzle: boolean,
    readonly precision: TrainPrecision,
    readonly carry: TrainCarry,
    /** K */
    readonly steps: number,
    private readonly o: MultiStepOptions & { provider: OrtProvider; puzzleDim: number },
  ) {}

  static async create(
    config: ModelConfig,
    weights: NamedArrays,
    o: OrtStepOptions & Omit<MultiStepOptions, 'precision' | 'noGradForm' | 'trainOps' | 'carry'>,
  ): Promise<OrtMultiStep> {
    const graph = buildMultiStepGraph(config, weights, o);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(graph.bytes, sessionOptions(o));
    } catch (e) {
      const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
      throw new Error(`cannot open the training graph of ${o.steps} steps on the ${o.provider} provider: ${why}`);
    }
    return new OrtMultiStep(session, config, graph.params, graph.puzzleEmb, graph.precision, graph.carry, o.steps, {
      ...o,
      puzzleDim: config.puzzle_emb_ndim,
    });
  }

  async run(f: MultiStepFeeds): Promise<MultiStepResult> {
    const K = this.steps;
    const B = f.state.steps.length;
    const S = this.config.seq_len;
    const P = f.state.p.length;
    const I = MULTI_INPUTS;
    const X = MULTI_STATE;
    const t = (type: ort.Tensor.Type, data: ort.Tensor.DataType, dims: number[]) => new ort.Tensor(type, data, dims);
    const f32 = (data: Float32Array, dims: number[]) => t('float32', data, dims);
    const D = this.config.hidden_size;
    const carry = (data: Float32Array | Uint16Array) =>
      t(data instanceof Uint16Array ? 'float16' : 'float32', data, [B, data.length / B / D, D]);
    const feeds: Record<string, ort.Tensor> = {
      [I.tokens]: t('int32', f.tokens, [K, B, S]),
      [I.labels]: t('int32', f.labels, [K, B, S]),
      [I.minHalt]: f32(f.minHalt, [K, B]),
      [I.active]: t('bool', f.active, [K]),
      [I.lr]: f32(f.lr, [K]),
      [I.wdAlpha]: f32(f.wdAlpha, [K]),
      [I.bc1Reciprocal]: f32(f.bc1Reciprocal, [K]),
      [I.bc2Sqrt]: f32(f.bc2Sqrt, [K]),
      [X.tokens]: t('int32', f.state.tokens, [B, S]),
      [X.labels]: t('int32', f.state.labels, [B, S]),
      [X.steps]: f32(f.state.steps, [B]),
      [X.halted]: t('bool', f.state.halted, [B]),
      [X.zH]: carry(f.state.zH),
      [X.zL]: carry(f.state.zL),
      [X.p]: f32(f.state.p, [P]),
      [X.m]: f32(f.state.m, [P]),
      [X.v]: f32(f.state.v, [P]),
    };
    if (this.o.ema) feeds[X.e] = f32(f.state.e, [P]);
    if (this.o.lossScale) {
      feeds[X.scale] = f32(Float32Array.of(f.state.scale), []);
      feeds[X.good] = f32(Float32Array.of(f.state.good), []);
    }
    if (this.hasPuzzle) {
      if (!f.state.table) throw new Error('this model has a puzzle embedding: the table is required');
      const E = this.o.puzzleDim;
      feeds[I.ids] = t('int32', f.ids, [K, B]);
      feeds[I.puzzleLr] = f32(f.puzzleLr, [K]);
      feeds[I.puzzleDecay] = f32(f.puzzleDecay, [K]);
      feeds[X.ids] = t('int32', f.state.ids, [B]);
      feeds[X.table] = f32(f.state.table, [f.state.table.length / E, E]);
    }
    let out: ort.InferenceSession.OnnxValueMapType;
    const t0 = performance.now();
    try {
      out = await this.session.run(feeds);
    } catch (e) {
      throw explainRunError(e, this.o.provider, B);
    }
    const runSeconds = (performance.now() - t0) / 1000;
    const get = <T>(name: string) => out[name]!.data as T;
    const O = MULTI_OUTPUTS;
    return {
      state: {
        tokens: get<Int32Array>(outName(X.tokens)),
        labels: get<Int32Array>(outName(X.labels)),
        ids: this.hasPuzzle ? get<Int32Array>(outName(X.ids)) : f.state.ids,
        steps: get<Float32Array>(outName(X.steps)),
        halted: get<Uint8Array>(outName(X.halted)),
        zH: get<Float32Array | Uint16Array>(outName(X.zH)),
        zL: get<Float32Array | Uint16Array>(outName(X.zL)),
        p: get<Float32Array>(outName(X.p)),
        m: get<Float32Array>(outName(X.m)),
        v: get<Float32Array>(outName(X.v)),
        e: this.o.ema ? get<Float32Array>(outName(X.e)) : f.state.e,
        scale: this.o.lossScale ? get<Float32Array>(outName(X.scale))[0]! : f.state.scale,
        good: this.o.lossScale ? get<Float32Array>(outName(X.good))[0]! : f.state.good,
        table: this.hasPuzzle ? get<Float32Array>(outName(X.table)) : null,
      },
      qHalt: get(O.qHalt),
      lmLoss: get(O.lmLoss),
      qHaltLoss: get(O.qHaltLoss),
      rowCorrect: get(O.rowCorrect),
      rowAccuracy: get(O.rowAccuracy),
      rowCount: get(O.rowCount),
      halted: get(O.halted),
      steps: get(O.steps),
      applied: get(O.applied),
      runSeconds,
    };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
