// The exported step graph on ONNX Runtime as a step function. With host state (CPU, CUDA) the state comes back as
// typed arrays that the runner compacts between steps; with device state (WebGPU, 'gpu-buffer' outputs) the output
// tensors are fed straight back in and disposed when replaced, and only logits and q_halt are read.
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { gatherRows } from './host-state.js';
import { type OpenedSession, openSession, type SessionSettings } from '../providers.js';
import type { ExecutionProviderChoice, ExecutionProviderName } from '../types.js';
import type { StateArray, StepFeeds, StepFunction, StepOutputs, StepShape } from './step-function.js';

type Ort = typeof import('onnxruntime-node');
type StateType = 'float32' | 'float16';

const INPUTS = ['tokens', 'reset', 'z_h', 'z_l'];
const OUTPUTS = ['z_h_out', 'z_l_out', 'logits', 'q_halt'];

/** Checks the session's inputs and outputs against the graph contract; returns the state's element type. */
export function checkStepGraph(session: InferenceSession, shape: StepShape): StateType {
  const inputs = [...INPUTS, ...(shape.puzzleEmbDim > 0 ? ['puzzle_emb'] : [])];
  const missingIn = inputs.filter((n) => !session.inputNames.includes(n));
  const missingOut = OUTPUTS.filter((n) => !session.outputNames.includes(n));
  if (missingIn.length > 0 || missingOut.length > 0)
    throw new Error(
      `the model is not a TRM step graph: missing ${[...missingIn.map((n) => `input ${n}`), ...missingOut.map((n) => `output ${n}`)].join(', ')} (it has inputs ${session.inputNames.join(', ')}; outputs ${session.outputNames.join(', ')})`,
    );
  if (shape.puzzleEmbDim === 0 && session.inputNames.includes('puzzle_emb'))
    throw new Error('the graph takes puzzle_emb but the config has puzzle_emb_ndim = 0');
  const zh = session.inputMetadata.find((m) => m.name === 'z_h');
  const type = zh?.isTensor ? zh.type : 'float32';
  if (type !== 'float32' && type !== 'float16') throw new Error(`input z_h is ${type}, expected float32 or float16`);
  if (zh?.isTensor) {
    const [, l, d] = zh.shape;
    if ((typeof l === 'number' && l !== shape.stateLen) || (typeof d === 'number' && d !== shape.hidden))
      throw new Error(`input z_h has shape [${zh.shape}], expected [batch, ${shape.stateLen}, ${shape.hidden}]`);
  }
  return type;
}

function zeros(type: StateType, n: number): StateArray {
  return type === 'float16' ? new Uint16Array(n) : new Float32Array(n);
}

/** Inputs common to both kinds of state. */
function inputFeeds(ort: Ort, feeds: StepFeeds<unknown>, shape: StepShape): Record<string, Tensor> {
  const B = feeds.batch;
  const out: Record<string, Tensor> = {
    tokens: new ort.Tensor('int64', feeds.tokens, [B, shape.seqLen]),
    reset: new ort.Tensor('bool', feeds.reset, [B]),
  };
  if (shape.puzzleEmbDim > 0) out.puzzle_emb = new ort.Tensor('float32', feeds.puzzleEmb!, [B, shape.puzzleEmbDim]);
  return out;
}

class HostStateStep implements StepFunction<StateArray> {
  readonly layout = 'compact';

  constructor(
    private readonly ort: Ort,
    private readonly session: InferenceSession,
    readonly shape: StepShape,
    private readonly stateType: StateType,
  ) {}

  async run(feeds: StepFeeds<StateArray>): Promise<StepOutputs<StateArray>> {
    const { stateLen: L, hidden: D } = this.shape;
    const dims = [feeds.batch, L, D];
    // Rows with reset = true ignore the state they are fed, so a fresh batch gets zeros.
    const fresh = feeds.zH === null || feeds.zL === null ? zeros(this.stateType, feeds.batch * L * D) : null;
    const inputs = inputFeeds(this.ort, feeds, this.shape);
    inputs.z_h = new this.ort.Tensor(this.stateType, (feeds.zH ?? fresh)!, dims);
    inputs.z_l = new this.ort.Tensor(this.stateType, (feeds.zL ?? fresh)!, dims);
    const out = await this.session.run(inputs);
    return {
      zH: out.z_h_out!.data as StateArray,
      zL: out.z_l_out!.data as StateArray,
      logits: out.logits!.data as Float32Array,
      qHalt: out.q_halt!.data as Float32Array,
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
  ) {}

  async run(feeds: StepFeeds<Tensor>): Promise<StepOutputs<Tensor>> {
    const { stateLen: L, hidden: D } = this.shape;
    const dims = [feeds.batch, L, D];
    const inputs = inputFeeds(this.ort, feeds, this.shape);
    const fresh =
      feeds.zH === null || feeds.zL === null
        ? new this.ort.Tensor(this.stateType, zeros(this.stateType, feeds.batch * L * D), dims)
        : null;
    inputs.z_h = feeds.zH ?? fresh!;
    inputs.z_l = feeds.zL ?? fresh!;
    const out = await this.session.run(inputs);
    // logits and q_halt were asked for as 'cpu' (providers.ts); never read the state outputs.
    return {
      zH: out.z_h_out!,
      zL: out.z_l_out!,
      logits: out.logits!.data as Float32Array,
      qHalt: out.q_halt!.data as Float32Array,
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
}

/** Opens the step graph at `modelPath` on the provider `ep` chooses and wraps it for the step runner. */
export async function openOrtStep(
  modelPath: string,
  ep: ExecutionProviderChoice,
  settings: SessionSettings,
  shape: StepShape,
): Promise<OrtStep> {
  const ort = await import('onnxruntime-node');
  const opened: OpenedSession = await openSession(modelPath, ep, settings);
  try {
    const stateType = checkStepGraph(opened.session, shape);
    const fn = opened.stateOnDevice
      ? new DeviceStateStep(ort, opened.session, shape, stateType)
      : new HostStateStep(ort, opened.session, shape, stateType);
    return { fn, provider: opened.provider, notes: opened.notes, stateType };
  } catch (err) {
    await opened.session.release();
    throw err;
  }
}
