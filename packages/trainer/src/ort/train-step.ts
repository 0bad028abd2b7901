// One supervision step with gradients on ONNX Runtime: the generated training graph (@trm/graph buildTrainGraph)
// in a session of the CPU, CUDA or WebGPU provider. The host feeds the parameters, the batch and the carry, and
// reads back the new carry, the loss parts, the per-row results and every gradient (onnxruntime-node returns
// CUDA outputs in host memory, so the optimiser runs on the host).
import {
  buildTrainGraph,
  gradientName,
  IGNORE_LABEL,
  type NoGradForm,
  type TrainCarry,
  type TrainOps,
  STEP_INPUTS,
  STEP_OUTPUTS,
  TRAIN_INPUTS,
  TRAIN_OUTPUTS,
  type TrainPrecision,
} from '@trm/graph';
import { type ExecutionProviderName, type ModelConfig, type NamedArrays, puzzleEmbLen, stateLen } from '@trm/core';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

/** The ONNX Runtime provider a training session runs on (core's list). */
export type OrtProvider = ExecutionProviderName;

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
  zH: CarryArray;
  zL: CarryArray;
  /** factor of the differentiated loss (1 / batch size, times the loss scale in fp16) */
  lossScale: number;
  /** the trained parameters by reference name */
  params: NamedArrays;
  /**
   * With reused outputs: which run of the step this is (its micro-batch); each slot writes into two sets of
   * output buffers in turn, so a result stays valid until the same slot's run after next (default 0).
   */
  slot?: number;
}

/** The carry's values on the host: float32, or float16 bits when the graph's carry is fp16. */
export type CarryArray = Float32Array | Uint16Array;

export interface OrtStepResult {
  zH: CarryArray;
  zL: CarryArray;
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
  /** arithmetic of the training graph (default fp32) */
  precision?: TrainPrecision;
  /** op forms of the recursions outside the gradient (default DEFAULT_NO_GRAD_FORM) */
  noGradForm?: NoGradForm;
  /** op forms of the differentiated part (default TRAIN_OPS's) */
  trainOps?: Partial<TrainOps>;
  /**
   * Run into output buffers kept from run to run instead of fresh ones (in-thread sessions; default off): a
   * result is then valid until the same slot's run after next (OrtStepFeeds.slot)
   */
  reuseOutputs?: boolean;
  /** element type of the carry in and out of the graph (default: defaultCarry(precision); fp16 needs fp16) */
  carry?: TrainCarry;
  /**
   * ONNX Runtime's profiler on the training session: its Chrome-trace JSON is written under this path prefix when
   * the session is released (ort-train-speed --profile)
   */
  profilePrefix?: string;
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
    // errors only: ONNX Runtime's warnings at load (on CUDA, that shape ops run on the CPU) are expected, not news
    logSeverityLevel: 3,
    ...(o.provider === 'cpu' && o.threads ? { intraOpNumThreads: o.threads } : {}),
    ...(o.profilePrefix ? { enableProfiling: true, profileFilePrefix: o.profilePrefix } : {}),
  };
}

/** A tensor as plain data, as it crosses to a worker thread. */
export interface PlainTensor {
  type: 'int64' | 'float32' | 'float16' | 'bool';
  data: BigInt64Array | Float32Array | Uint16Array | Uint8Array;
  dims: number[];
}

/** Runs one graph: in this thread, or in a worker thread that owns the session (so that devices run in parallel). */
interface GraphRunner {
  run(
    feeds: Record<string, PlainTensor>,
    slot?: number,
  ): Promise<{ out: Record<string, Float32Array | Uint16Array>; seconds: number }>;
  release(): Promise<void>;
}

/**
 * Output buffers kept from run to run (`reuseOutputs`): per slot and row count, two sets used in turn. A fresh
 * output costs an allocation and the page faults of writing it (the carry of sudoku-mlp at batch 768 is 305 MB).
 */
class OutputPool {
  private readonly sets = new Map<string, { turn: number; sets: Record<string, ort.Tensor>[] }>();

  /** The fetches of the next run of `slot` with `rows` rows, or undefined until a run showed the outputs' shapes. */
  fetches(slot: number, rows: number): Record<string, ort.Tensor> | undefined {
    const entry = this.sets.get(`${slot}:${rows}`);
    if (!entry) return undefined;
    entry.turn = 1 - entry.turn;
    return entry.sets[entry.turn];
  }

  /** Learns the outputs' types and shapes from a run with fresh outputs (float32 and float16 ones; else no reuse). */
  learn(slot: number, rows: number, result: Record<string, ort.Tensor>): void {
    const key = `${slot}:${rows}`;
    if (this.sets.has(key) || Object.values(result).some((t) => t.type !== 'float32' && t.type !== 'float16')) return;
    const make = () => {
      const set: Record<string, ort.Tensor> = {};
      for (const [k, t] of Object.entries(result))
        set[k] =
          t.type === 'float16'
            ? new ort.Tensor('float16', new Uint16Array(t.data.length), t.dims)
            : new ort.Tensor('float32', new Float32Array(t.data.length), t.dims);
      return set;
    };
    // turn 0 holds the run just made (fresh buffers); the next run writes set 1, the one after set 0
    this.sets.set(key, { turn: 0, sets: [make(), make()] });
  }
}

async function inThreadRunner(
  bytes: Uint8Array,
  options: ort.InferenceSession.SessionOptions,
  reuseOutputs: boolean,
): Promise<GraphRunner> {
  const session = await ort.InferenceSession.create(bytes, options);
  const pool = reuseOutputs ? new OutputPool() : null;
  return {
    async run(feeds, slot = 0) {
      const tensors: Record<string, ort.Tensor> = {};
      for (const [k, f] of Object.entries(feeds)) tensors[k] = new ort.Tensor(f.type, f.data, f.dims);
      const rows = feeds[STEP_INPUTS.reset]?.dims[0] ?? 0;
      const fetches = pool?.fetches(slot, rows);
      const t0 = performance.now();
      const result = fetches ? await session.run(tensors, fetches) : await session.run(tensors);
      const seconds = (performance.now() - t0) / 1000;
      if (pool && !fetches) pool.learn(slot, rows, result);
      const out: Record<string, Float32Array | Uint16Array> = {};
      for (const [k, v] of Object.entries(result)) out[k] = v.data as Float32Array | Uint16Array;
      return { out, seconds };
    },
    async release() {
      // the profile (when on) is written here
      if (options.enableProfiling) await session.endProfiling();
      await session.release();
    },
  };
}

// The worker's code, plain CommonJS: it needs nothing of this project, only onnxruntime-node and the graph's bytes.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ortPath);
const message = (e) => String((e && e.message) || e);
const ready = ort.InferenceSession.create(workerData.bytes, workerData.options);
ready.then(() => parentPort.postMessage({ ready: true }), (e) => parentPort.postMessage({ error: message(e) }));
parentPort.on('message', async (msg) => {
  if (msg.release) {
    const s = await ready;
    if (workerData.options.enableProfiling) await s.endProfiling();
    await s.release();
    parentPort.postMessage({ released: true });
    return;
  }
  try {
    const session = await ready;
    const tensors = {};
    for (const [k, f] of Object.entries(msg.feeds)) tensors[k] = new ort.Tensor(f.type, f.data, f.dims);
    const t0 = performance.now();
    const result = await session.run(tensors);
    const seconds = (performance.now() - t0) / 1000;
    const out = {};
    const moved = [];
    for (const [k, v] of Object.entries(result)) {
      out[k] = v.data;
      // each output owns its buffer: hand it over instead of copying it
      if (v.data.byteOffset === 0 && v.data.byteLength === v.data.buffer.byteLength) moved.push(v.data.buffer);
    }
    try {
      parentPort.postMessage({ out, seconds }, moved);
    } catch {
      // a buffer the binding does not let go of: copy them all instead
      parentPort.postMessage({ out, seconds });
    }
  } catch (e) {
    parentPort.postMessage({ error: message(e) });
  }
});
`;

async function workerRunner(bytes: Uint8Array, options: ort.InferenceSession.SessionOptions): Promise<GraphRunner> {
  const ortPath = createRequire(import.meta.url).resolve('onnxruntime-node');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ortPath, bytes, options } });
  const next = () =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const onMessage = (m: Record<string, unknown>) => {
        worker.off('error', onError);
        resolve(m);
      };
      const onError = (e: Error) => {
        worker.off('message', onMessage);
        reject(e);
      };
      worker.once('message', onMessage);
      worker.once('error', onError);
    });
  const first = await next();
  if (first.error) {
    await worker.terminate();
    throw new Error(String(first.error));
  }
  return {
    async run(feeds) {
      const reply = next();
      worker.postMessage({ feeds });
      const m = await reply;
      if (m.error) throw new Error(String(m.error));
      return { out: m.out as Record<string, Float32Array | Uint16Array>, seconds: m.seconds as number };
    },
    async release() {
      const reply = next();
      worker.postMessage({ release: true });
      await reply;
      await worker.terminate();
    },
  };
}

/** Whether ONNX Runtime's error says that the device had no memory left for the run. */
export function isOutOfMemory(e: unknown): boolean {
  const why = e instanceof Error ? e.message : String(e);
  return /out of memory|failed to allocate|bfcarena|cudaErrorMemoryAllocation/i.test(why);
}

/** A failed run's error, made clear when the device ran out of memory (it names the rows per run and the way out). */
export function explainRunError(e: unknown, provider: OrtProvider, rows: number): Error {
  const why = e instanceof Error ? e.message : String(e);
  if (isOutOfMemory(e))
    return new Error(
      `the ${provider} device ran out of memory for a training run of ${rows} rows (batch size ${rows} per run): pass a smaller --micro-batch (the batch's rows are then run in parts and their gradients summed) or a smaller --batch. ${why.split('\n')[0]}`,
    );
  return e instanceof Error ? e : new Error(why);
}

export class OrtTrainStep {
  private constructor(
    private readonly runner: GraphRunner,
    readonly config: ModelConfig,
    readonly params: readonly string[],
    readonly hasPuzzle: boolean,
    readonly graphBytes: number,
    readonly provider: OrtProvider,
    readonly precision: TrainPrecision,
    /** the element type of the carry the graph takes and returns */
    readonly carry: TrainCarry,
  ) {}

  /**
   * Builds the training graph of `config` (buffers H_init/L_init from `weights`) and opens a session, in a worker
   * thread of its own when `worker` is set (session.run blocks its thread: devices in workers run in parallel).
   */
  static async create(
    config: ModelConfig,
    weights: NamedArrays,
    o: OrtStepOptions & { worker?: boolean },
  ): Promise<OrtTrainStep> {
    const graph = buildTrainGraph(config, weights, {
      precision: o.precision,
      noGradForm: o.noGradForm,
      trainOps: o.trainOps,
      carry: o.carry,
    });
    let runner: GraphRunner;
    try {
      const options = sessionOptions(o);
      runner = o.worker
        ? await workerRunner(graph.bytes, options)
        : await inThreadRunner(graph.bytes, options, o.reuseOutputs ?? false);
    } catch (e) {
      const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
      throw new Error(`cannot open the training graph on the ${o.provider} provider: ${why}`);
    }
    return new OrtTrainStep(
      runner,
      config,
      graph.params,
      graph.puzzleEmb,
      graph.bytes.length,
      o.provider,
      graph.precision,
      graph.carry,
    );
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
    const feeds: Record<string, PlainTensor> = {
      [STEP_INPUTS.tokens]: { type: 'int64', data: tokens, dims: [B, S] },
      [TRAIN_INPUTS.labels]: { type: 'int64', data: labels, dims: [B, S] },
      [STEP_INPUTS.reset]: { type: 'bool', data: f.reset, dims: [B] },
      [STEP_INPUTS.zH]: carryTensor(f.zH, [B, L, D]),
      [STEP_INPUTS.zL]: carryTensor(f.zL, [B, L, D]),
      [TRAIN_INPUTS.lossScale]: { type: 'float32', data: Float32Array.of(f.lossScale), dims: [] },
    };
    if (this.hasPuzzle) {
      if (!f.puzzleRows) throw new Error('this model has a puzzle embedding: puzzleRows are required');
      feeds[STEP_INPUTS.puzzleEmb] = { type: 'float32', data: f.puzzleRows, dims: [B, c.puzzle_emb_ndim] };
    }
    for (const p of this.params) {
      const t = f.params[p];
      if (!t) throw new Error(`the parameters lack ${p}`);
      feeds[p] = { type: 'float32', data: t.data, dims: t.shape };
    }
    let out: Record<string, Float32Array | Uint16Array>;
    let runSeconds: number;
    try {
      ({ out, seconds: runSeconds } = await this.runner.run(feeds, f.slot));
    } catch (e) {
      throw explainRunError(e, this.provider, B);
    }
    const f32 = (name: string) => out[name] as Float32Array;
    const grads: Record<string, Float32Array> = {};
    for (const p of this.params) grads[p] = f32(gradientName(p));
    return {
      zH: out[STEP_OUTPUTS.zH]!,
      zL: out[STEP_OUTPUTS.zL]!,
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
    await this.runner.release();
  }
}

/** The carry as a tensor: float32, or float16 bits. */
function carryTensor(data: CarryArray, dims: number[]): PlainTensor {
  return data instanceof Uint16Array ? { type: 'float16', data, dims } : { type: 'float32', data, dims };
}

/** Whether the config's graph has a puzzle prefix (and so a puzzle_emb input). */
export function hasPuzzleInput(config: ModelConfig): boolean {
  return puzzleEmbLen(config) > 0;
}

export { IGNORE_LABEL };
