// The exported step graph on ONNX Runtime as a step function. With host state (CPU, CUDA) the state comes back as
// typed arrays that the runner compacts between steps; with device state (WebGPU, 'gpu-buffer' outputs) the output
// tensors are fed straight back in and disposed when replaced, and only logits and q_halt are read.
import { readFile } from 'node:fs/promises';
import { MULTI_STEP_INPUTS, MULTI_STEP_OUTPUTS, STEP_INPUTS, STEP_OUTPUTS, unrollStepGraph } from '@trm/graph';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { gatherRows } from './host-state.js';
import { type OpenedSession, openSession, type SessionSettings, stepsPerRunOn } from '../providers.js';
import type { ExecutionProviderChoice, ExecutionProviderName } from '../types.js';
import type { StateArray, StepFeeds, StepFunction, StepOutputs, StepShape } from './step-function.js';

type Ort = typeof import('onnxruntime-node');
type StateType = 'float32' | 'float16';

const INPUTS: string[] = [STEP_INPUTS.tokens, STEP_INPUTS.reset, STEP_INPUTS.zH, STEP_INPUTS.zL];
const OUTPUTS: string[] = Object.values(STEP_OUTPUTS);
const MULTI_OUTPUTS: string[] = [STEP_OUTPUTS.zH, STEP_OUTPUTS.zL, ...Object.values(MULTI_STEP_OUTPUTS)];

/** Checks the session's inputs and outputs against the graph contract; returns the state's element type. */
export function checkStepGraph(session: InferenceSession, shape: StepShape, stepsPerRun = 1): StateType {
  const inputs = [...INPUTS, ...(shape.puzzleEmbDim > 0 ? [STEP_INPUTS.puzzleEmb] : [])];
  const missingIn = inputs.filter((n) => !session.inputNames.includes(n));
  const missingOut = (stepsPerRun > 1 ? MULTI_OUTPUTS : OUTPUTS).filter((n) => !session.outputNames.includes(n));
  if (missingIn.length > 0 || missingOut.length > 0)
    throw new Error(
      `the model is not a TRM step graph: missing ${[...missingIn.map((n) => `input ${n}`), ...missingOut.map((n) => `output ${n}`)].join(', ')} (it has inputs ${session.inputNames.join(', ')}; outputs ${session.outputNames.join(', ')})`,
    );
  if (shape.puzzleEmbDim === 0 && session.inputNames.includes(STEP_INPUTS.puzzleEmb))
    throw new Error(`the graph takes ${STEP_INPUTS.puzzleEmb} but the config has puzzle_emb_ndim = 0`);
  const zh = session.inputMetadata.find((m) => m.name === STEP_INPUTS.zH);
  const type = zh?.isTensor ? zh.type : 'float32';
  if (type !== 'float32' && type !== 'float16')
    throw new Error(`input ${STEP_INPUTS.zH} is ${type}, expected float32 or float16`);
  if (zh?.isTensor) {
    const [, l, d] = zh.shape;
    if ((typeof l === 'number' && l !== shape.stateLen) || (typeof d === 'number' && d !== shape.hidden))
      throw new Error(
        `input ${STEP_INPUTS.zH} has shape [${zh.shape}], expected [batch, ${shape.stateLen}, ${shape.hidden}]`,
      );
  }
  return type;
}

function zeros(type: StateType, n: number): StateArray {
  return type === 'float16' ? new Uint16Array(n) : new Float32Array(n);
}

/**
 * Inputs common to both kinds of state; `k` > 0 adds the limits a Loop graph of k steps per run takes (no limits
 * fed: it runs all k steps).
 */
function inputFeeds(ort: Ort, feeds: StepFeeds<unknown>, shape: StepShape, k = 0): Record<string, Tensor> {
  const B = feeds.batch;
  const out: Record<string, Tensor> = {
    [STEP_INPUTS.tokens]: new ort.Tensor('int64', feeds.tokens, [B, shape.seqLen]),
    [STEP_INPUTS.reset]: new ort.Tensor('bool', feeds.reset, [B]),
  };
  if (k > 0) {
    const l = feeds.limits;
    const haltLogit = l ? l.haltLogit : new Float32Array(B).fill(Number.POSITIVE_INFINITY);
    const stepsLeft = l ? BigInt64Array.from(l.stepsLeft, (n) => BigInt(n)) : new BigInt64Array(B).fill(BigInt(k));
    out[MULTI_STEP_INPUTS.haltLogit] = new ort.Tensor('float32', haltLogit, [B]);
    out[MULTI_STEP_INPUTS.stepsLeft] = new ort.Tensor('int64', stepsLeft, [B]);
  }
  if (shape.puzzleEmbDim > 0)
    out[STEP_INPUTS.puzzleEmb] = new ort.Tensor('float32', feeds.puzzleEmb!, [B, shape.puzzleEmbDim]);
  return out;
}

/** What JavaScript reads of a run: the logits and q_halt of one step, or the answers and q_halts of k. */
function readOutputs(
  out: InferenceSession.ReturnType,
  k: number,
): Pick<StepOutputs<unknown>, 'logits' | 'answers' | 'qHalt'> {
  if (k === 1)
    return {
      logits: out[STEP_OUTPUTS.logits]!.data as Float32Array,
      qHalt: out[STEP_OUTPUTS.qHalt]!.data as Float32Array,
    };
  return {
    answers: out[MULTI_STEP_OUTPUTS.answers]!.data as Uint8Array,
    qHalt: out[MULTI_STEP_OUTPUTS.qHalts]!.data as Float32Array,
  };
}

class HostStateStep implements StepFunction<StateArray> {
  readonly layout = 'compact';

  constructor(
    private readonly ort: Ort,
    private readonly session: InferenceSession,
    readonly shape: StepShape,
    private readonly stateType: StateType,
    readonly stepsPerRun: number,
    /** k when the graph takes the early-exit limits (the Loop form), else 0 */
    private readonly limitSteps: number,
  ) {}

  async run(feeds: StepFeeds<StateArray>): Promise<StepOutputs<StateArray>> {
    const { stateLen: L, hidden: D } = this.shape;
    const dims = [feeds.batch, L, D];
    // Rows with reset = true ignore the state they are fed, so a fresh batch gets zeros.
    const fresh = feeds.zH === null || feeds.zL === null ? zeros(this.stateType, feeds.batch * L * D) : null;
    const inputs = inputFeeds(this.ort, feeds, this.shape, this.limitSteps);
    inputs[STEP_INPUTS.zH] = new this.ort.Tensor(this.stateType, (feeds.zH ?? fresh)!, dims);
    inputs[STEP_INPUTS.zL] = new this.ort.Tensor(this.stateType, (feeds.zL ?? fresh)!, dims);
    const out = await this.session.run(inputs);
    return {
      zH: out[STEP_OUTPUTS.zH]!.data as StateArray,
      zL: out[STEP_OUTPUTS.zL]!.data as StateArray,
      ...readOutputs(out, this.stepsPerRun),
    };
  }

  gather(h: StateArray, from: Int32Array): StateArray {
    return gatherRows(h, this.shape.stateLen * this.shape.hidden, from);
  }

  release(): void {}

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

class DeviceStateStep implements StepFunction<Tensor> {
  readonly layout = 'fixed';

  constructor(
    private readonly ort: Ort,
    private readonly session: InferenceSession,
    readonly shape: StepShape,
    private readonly stateType: StateType,
    readonly stepsPerRun: number,
    /** k when the graph takes the early-exit limits (the Loop form), else 0 */
    private readonly limitSteps: number,
  ) {}

  async run(feeds: StepFeeds<Tensor>): Promise<StepOutputs<Tensor>> {
    const { stateLen: L, hidden: D } = this.shape;
    const dims = [feeds.batch, L, D];
    const inputs = inputFeeds(this.ort, feeds, this.shape, this.limitSteps);
    const fresh =
      feeds.zH === null || feeds.zL === null
        ? new this.ort.Tensor(this.stateType, zeros(this.stateType, feeds.batch * L * D), dims)
        : null;
    inputs[STEP_INPUTS.zH] = feeds.zH ?? fresh!;
    inputs[STEP_INPUTS.zL] = feeds.zL ?? fresh!;
    const out = await this.session.run(inputs);
    // logits and q_halt were asked for as 'cpu' (providers.ts); never read the state outputs.
    return {
      zH: out[STEP_OUTPUTS.zH]!,
      zL: out[STEP_OUTPUTS.zL]!,
      ...readOutputs(out, this.stepsPerRun),
    };
  }

  release(h: Tensor): void {
    if (h.location === 'gpu-buffer') h.dispose();
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

export interface OrtStep {
  fn: StepFunction<StateArray> | StepFunction<Tensor>;
  provider: ExecutionProviderName;
  notes: string[];
  stateType: StateType;
  /** the session runs the graph `builtGraph` made (not `model`) */
  built: boolean;
}

/** A graph made at load for some providers instead of the model file: `build` runs once, on the first that asks. */
export interface BuiltGraph {
  /** whether a session on this provider runs the built graph */
  on(provider: ExecutionProviderName): boolean;
  build(): Promise<Uint8Array>;
  /** the note the worker's notes get when it runs the built graph */
  note: string;
}

/**
 * Opens the step graph (a file's path or its bytes, or the graph `builtGraph` makes for the provider tried) on the
 * provider `ep` chooses and wraps it for the step runner; with k = stepsPerRunOn(provider, settings) > 1, the
 * graph of k steps per run made from it (unrollStepGraph).
 */
export async function openOrtStep(
  model: string | Uint8Array,
  ep: ExecutionProviderChoice,
  settings: SessionSettings,
  shape: StepShape,
  builtGraph?: BuiltGraph,
): Promise<OrtStep> {
  const ort = await import('onnxruntime-node');
  let built: Promise<Uint8Array> | null = null;
  // The graph is made for each provider tried, since the steps per run and the graph itself may depend on it.
  const graphFor = async (provider: ExecutionProviderName) => {
    const k = stepsPerRunOn(provider, settings);
    let base = model;
    if (builtGraph?.on(provider)) {
      built ??= builtGraph.build();
      base = await built;
    }
    if (k === 1) return base;
    return unrollStepGraph(typeof base === 'string' ? await readFile(base) : base, k, settings.stepsForm ?? 'loop');
  };
  const opened: OpenedSession = await openSession(graphFor, ep, settings);
  const k = stepsPerRunOn(opened.provider, settings);
  const runsBuilt = builtGraph?.on(opened.provider) ?? false;
  try {
    const stateType = checkStepGraph(opened.session, shape, k);
    const limitSteps = opened.session.inputNames.includes(MULTI_STEP_INPUTS.haltLogit) ? k : 0;
    const fn = opened.stateOnDevice
      ? new DeviceStateStep(ort, opened.session, shape, stateType, k, limitSteps)
      : new HostStateStep(ort, opened.session, shape, stateType, k, limitSteps);
    const notes = runsBuilt ? [...opened.notes, builtGraph!.note] : opened.notes;
    return { fn, provider: opened.provider, notes, stateType, built: runsBuilt };
  } catch (err) {
    await opened.session.release();
    throw err;
  }
}
