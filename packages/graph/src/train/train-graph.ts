// The training graph of one supervision step (TRM-SPEC §2-4), for ONNX Runtime: the step with the trained
// parameters as inputs and the first H_cycles - 1 recursions cut from the gradient, the ACT loss (stable-max or
// softmax cross-entropy per token, mean per row, summed over rows, + 0.5 x BCE of the halt logit against "whole
// answer correct"), its gradient with respect to every parameter and to the batch's puzzle rows, and the per-row
// quantities the host needs for the halting decision and the metrics. The optimiser runs on the host.
import {
  checkpointTensors,
  FlagError,
  type LossType,
  type ModelConfig,
  type NamedArrays,
  puzzleEmbLen,
  stateLen,
} from '@trm/core';
import { differentiate } from '../autodiff/differentiate.js';
import { ShapeTable, type ValueType } from '../autodiff/shapes.js';
import {
  gradientName,
  IGNORE_LABEL,
  IR_VERSION,
  ONNX_FORMAT_VERSION,
  opsetImports,
  STEP_INPUTS,
  STEP_OUTPUTS,
  TRAIN_INPUTS,
  TRAIN_OUTPUTS,
} from '../contract.js';
import { GraphBuilder } from '../onnx/graph-builder.js';
import { MULTI_STEP_FORMS, type MultiStepForm } from '../step/unroll.js';
import { DataType, type DataTypeId, encodeModel, type ValueInfoMsg } from '../onnx/onnx-proto.js';
import { buildStep, type OpChoice } from '../step/step-graph.js';

/**
 * The default op forms of the differentiated part (each has gradient rules). The SwiGLU as two products and SiLU as
 * one QuickGelu were the fastest on an H200 (BENCHMARKS.md, "Op forms of the training graph"); the norm as
 * SimplifiedLayerNormalization and the MLP-mixer over the transposed state were slower there.
 */
export const TRAIN_OPS: OpChoice = {
  norm: 'decomposed',
  attention: 'decomposed',
  swiglu: 'split',
  mlpT: 'broadcast',
  silu: 'op',
  mlpTPad: 'align8',
};

/**
 * Arithmetic of the training graph. fp32: float32 throughout (the CUDA provider runs its matrix products in TF32).
 * fp16: the step in float16 (RMSNorm statistics in float32) from float32 master weights, carry and puzzle rows,
 * which the graph casts; the loss in float32. Gradients come back in float32, scaled by loss_scale: the host
 * chooses the scale so that float16 gradients neither underflow nor overflow (dynamic loss scaling).
 */
export type TrainPrecision = 'fp32' | 'fp16';
export const TRAIN_PRECISIONS: readonly TrainPrecision[] = ['fp32', 'fp16'];

/**
 * The op forms of the recursions outside the gradient (the first H_cycles - 1). differentiable: the same forms as
 * the rest (TRAIN_OPS). inference: the fused forms the step graph serves with (RMSNormalization over the hidden
 * axis, the SwiGLU as two products, SiLU as QuickGelu), which need no gradient rule there; the same function up to
 * rounding.
 */
export type NoGradForm = 'differentiable' | 'inference';
export const NO_GRAD_FORMS: readonly NoGradForm[] = ['differentiable', 'inference'];
/** The inference form: fewer kernels where no gradient flows, faster on an H200 (BENCHMARKS.md). */
export const DEFAULT_NO_GRAD_FORM: NoGradForm = 'inference';
const NO_GRAD_OPS: Record<NoGradForm, Partial<OpChoice> | undefined> = {
  differentiable: undefined,
  inference: { norm: 'op', swiglu: 'split', silu: 'op' },
};

/**
 * The op forms of the differentiated part that have a choice (each has gradient rules): the SwiGLU's [gate | up]
 * as one product and a Split or as two products; the MLP-mixer's token mix with the weights broadcast from the left
 * or, as the reference, over the transposed state (its weight gradients are then one product over the whole batch);
 * the RMSNorm over the last axis decomposed in float32 or as SimplifiedLayerNormalization (one kernel, float32
 * statistics; its gradient reads the op's inverse-RMS output); SiLU as Sigmoid and Mul or as one QuickGelu; the
 * MLP-mixer's products over the sequence padded to a multiple of 8 positions or not.
 */
export type TrainOps = {
  swiglu: OpChoice['swiglu'];
  mlpT: OpChoice['mlpT'];
  norm: 'decomposed' | 'stats';
  silu: 'decomposed' | 'op';
  mlpTPad: 'none' | 'align8';
};
export const TRAIN_OP_CHOICES = {
  swiglu: ['fused', 'split'],
  mlpT: ['broadcast', 'transpose'],
  norm: ['decomposed', 'stats'],
  silu: ['decomposed', 'op'],
  mlpTPad: ['none', 'align8'],
} as const satisfies { [K in keyof TrainOps]: readonly TrainOps[K][] };

export interface TrainGraphOptions {
  precision?: TrainPrecision;
  /** default DEFAULT_NO_GRAD_FORM */
  noGradForm?: NoGradForm;
  /** default TRAIN_OPS's */
  trainOps?: Partial<TrainOps>;
  /**
   * Element type of the carry z_H, z_L in and out: fp32, or fp16 with precision fp16 (half the bytes crossing to
   * the device and back each step; the reference keeps its carry in its forward type, bfloat16). Default:
   * defaultCarry(precision).
   */
  carry?: TrainCarry;
}

export type TrainCarry = 'fp32' | 'fp16';
export const TRAIN_CARRIES: readonly TrainCarry[] = ['fp32', 'fp16'];

/**
 * The carry's default element type: the compute type's width. In float16 the carry crosses as float16, half the
 * bytes (onnxruntime-node moves CUDA inputs and outputs through host memory at about 3 GB/s: 21 % more samples/s
 * for sudoku-mlp at batch 768 on an H100, BENCHMARKS.md).
 */
export function defaultCarry(precision: TrainPrecision): TrainCarry {
  return precision === 'fp16' ? 'fp16' : 'fp32';
}

export interface TrainGraph {
  bytes: Uint8Array;
  /** the trained parameters, graph inputs under their reference names, in checkpoint order */
  params: string[];
  /** whether the graph takes puzzle_emb (and returns its gradient) */
  puzzleEmb: boolean;
  precision: TrainPrecision;
  noGradForm: NoGradForm;
  trainOps: TrainOps;
  carry: TrainCarry;
}

/** Names of the trained parameters of a config (everything but H_init, L_init and the puzzle table). */
export function trainedParams(config: ModelConfig): string[] {
  return checkpointTensors(config)
    .filter((t) => t.kind === 'param')
    .map((t) => t.name);
}

/** Per-token log-probabilities of the labels' classes, [B, S], from logits [B, S, V] (TRM-SPEC §4). */
function labelLogProb(g: GraphBuilder, logits: string, oneHot: string, lossType: LossType): string {
  let logp: string;
  if (lossType === 'stablemax_cross_entropy') {
    // s(x) = 1 / (1 - x) for x < 0, x + 1 otherwise; written 1 / (1 + relu(-x)) so the unselected branch stays finite.
    const neg = g.op('Less', [logits, g.scalar(0)]);
    const low = g.op('Div', [g.scalar(1), g.op('Add', [g.scalar(1), g.op('Relu', [g.op('Neg', [logits])])])]);
    const s = g.op('Where', [neg, low, g.op('Add', [logits, g.scalar(1)])], {}, 'stablemax');
    const total = g.op('ReduceSum', [s, g.ints([-1])], { keepdims: 1 });
    logp = g.op('Sub', [g.op('Log', [s]), g.op('Log', [total])]);
  } else {
    const max = g.stopGradient(g.op('ReduceMax', [logits, g.ints([-1])], { keepdims: 1 }));
    const shifted = g.op('Sub', [logits, max]);
    const lse = g.op('Log', [g.op('ReduceSum', [g.op('Exp', [shifted]), g.ints([-1])], { keepdims: 1 })]);
    logp = g.op('Sub', [shifted, lse]);
  }
  return g.op('ReduceSum', [g.op('Mul', [logp, oneHot]), g.ints([-1])], { keepdims: 0 });
}

/** The graph's inputs: the step's (with the labels and the loss scale), then every trained parameter. */
function trainInputs(
  config: ModelConfig,
  weights: NamedArrays,
  params: readonly string[],
  carry: DataTypeId,
): ValueInfoMsg[] {
  const B = 'batch';
  const S = config.seq_len;
  const L = stateLen(config);
  const D = config.hidden_size;
  const E = config.puzzle_emb_ndim;
  return [
    { name: STEP_INPUTS.tokens, elemType: DataType.INT64, shape: [B, S] },
    { name: TRAIN_INPUTS.labels, elemType: DataType.INT64, shape: [B, S] },
    ...(puzzleEmbLen(config) > 0 ? [{ name: STEP_INPUTS.puzzleEmb, elemType: DataType.FLOAT, shape: [B, E] }] : []),
    { name: STEP_INPUTS.reset, elemType: DataType.BOOL, shape: [B] },
    { name: STEP_INPUTS.zH, elemType: carry, shape: [B, L, D] },
    { name: STEP_INPUTS.zL, elemType: carry, shape: [B, L, D] },
    { name: TRAIN_INPUTS.lossScale, elemType: DataType.FLOAT, shape: [] },
    ...params.map((p) => ({ name: p, elemType: DataType.FLOAT, shape: weights[p]!.shape })),
  ];
}

/** The values of the ACT loss that the graph returns or differentiates, each [B] per row or a scalar. */
interface ActLoss {
  /** supervised cells per row */
  count: string;
  /** max(count, 1) */
  divisor: string;
  correctCount: string;
  /** 1 where every supervised cell is right */
  rowCorrect: string;
  qHalt: string;
  lmLoss: string;
  qHaltLoss: string;
  /** (lm_loss + 0.5 q_halt_loss) x loss_scale */
  objective: string;
}

/**
 * The ACT loss (TRM-SPEC §4), float32: per-token cross-entropy, mean over a row's supervised cells, summed over rows;
 * plus half the BCE of the halt logit against "whole answer correct"; scaled by loss_scale.
 */
function actLoss(g: GraphBuilder, config: ModelConfig, step: { logits: string; qHalt: string }): ActLoss {
  const labels = TRAIN_INPUTS.labels;
  const supervised = g.op('Cast', [g.op('Not', [g.op('Equal', [labels, g.ints([IGNORE_LABEL])])])], {
    to: DataType.FLOAT,
  });
  const count = g.op('ReduceSum', [supervised, g.ints([-1])], { keepdims: 0 }, 'count'); // [B]
  const divisor = g.op('Max', [count, g.scalar(1)]);
  const range = g.ints(
    Array.from({ length: config.vocab_size }, (_, i) => i),
    'vocab',
  );
  const oneHot = g.op('Cast', [g.op('Equal', [g.op('Unsqueeze', [labels, g.ints([-1])]), range])], {
    to: DataType.FLOAT,
  });
  const logProb = labelLogProb(g, step.logits, oneHot, config.loss_type); // [B, S]
  const rowLoss = g.op('Div', [g.op('Neg', [g.op('ReduceSum', [logProb, g.ints([-1])], { keepdims: 0 })]), divisor]);
  const lmLoss = g.op('ReduceSum', [rowLoss], { keepdims: 0 }, 'lm_loss');

  const hit = g.op('Equal', [g.op('ArgMax', [step.logits], { axis: -1, keepdims: 0 }), labels]);
  const correct = g.op('Mul', [g.op('Cast', [hit], { to: DataType.FLOAT }), supervised]);
  const correctCount = g.op('ReduceSum', [correct, g.ints([-1])], { keepdims: 0 });
  const rowCorrect = g.op('Cast', [g.op('Equal', [correctCount, count])], { to: DataType.FLOAT }, 'row_correct');

  const qHalt = g.op('Reshape', [step.qHalt, g.ints([-1])], {}, 'q_halt'); // [B]
  // BCE with logits in the stable form max(x, 0) - x y + log(1 + exp(-|x|)).
  const bce = g.op('Add', [
    g.op('Sub', [g.op('Relu', [qHalt]), g.op('Mul', [qHalt, rowCorrect])]),
    g.op('Log', [g.op('Add', [g.scalar(1), g.op('Exp', [g.op('Neg', [g.op('Abs', [qHalt])])])])]),
  ]);
  const qHaltLoss = g.op('ReduceSum', [bce], { keepdims: 0 }, 'q_halt_loss');
  const total = g.op('Add', [lmLoss, g.op('Mul', [qHaltLoss, g.scalar(0.5)])]);
  const objective = g.op('Mul', [total, TRAIN_INPUTS.lossScale], {}, 'objective');
  return { count, divisor, correctCount, rowCorrect, qHalt, lmLoss, qHaltLoss, objective };
}

/** The graph's outputs: the carry, the halt logits, the losses, the per-row quantities, then the gradients. */
function trainOutputs(
  g: GraphBuilder,
  config: ModelConfig,
  step: { zH: string; zL: string },
  loss: ActLoss,
  /** the gradients of these inputs, in this order */
  wrt: readonly string[],
  grads: Record<string, string>,
  shapes: ShapeTable,
  carry: DataTypeId,
): ValueInfoMsg[] {
  const B = 'batch';
  const L = stateLen(config);
  const D = config.hidden_size;
  const outputs: ValueInfoMsg[] = [];
  const output = (value: string, name: string, elemType: number, shape: (number | string)[]) => {
    g.node('Identity', [value], {}, { outputs: [name] });
    outputs.push({ name, elemType: elemType as ValueInfoMsg['elemType'], shape });
  };
  output(step.zH, STEP_OUTPUTS.zH, carry, [B, L, D]);
  output(step.zL, STEP_OUTPUTS.zL, carry, [B, L, D]);
  output(loss.qHalt, STEP_OUTPUTS.qHalt, DataType.FLOAT, [B]);
  output(loss.lmLoss, TRAIN_OUTPUTS.lmLoss, DataType.FLOAT, []);
  output(loss.qHaltLoss, TRAIN_OUTPUTS.qHaltLoss, DataType.FLOAT, []);
  output(loss.rowCorrect, TRAIN_OUTPUTS.rowCorrect, DataType.FLOAT, [B]);
  output(g.op('Div', [loss.correctCount, loss.divisor]), TRAIN_OUTPUTS.rowAccuracy, DataType.FLOAT, [B]);
  output(loss.count, TRAIN_OUTPUTS.rowCount, DataType.FLOAT, [B]);
  for (const w of wrt) output(grads[w]!, gradientName(w), DataType.FLOAT, shapes.shape(w));
  return outputs;
}

/**
 * Builds the training graph. `weights` supplies the buffers that stay constant during training (H_init, L_init)
 * and the shapes of the parameters; the parameters' values are inputs of every run.
 */
export function buildTrainGraph(
  config: ModelConfig,
  weights: NamedArrays,
  options: TrainGraphOptions = {},
): TrainGraph {
  const { builder, inputs, outputs, docString, ...graph } = trainGraphParts(config, weights, options);
  const bytes = encodeModel({
    irVersion: IR_VERSION,
    opsets: opsetImports(builder.domains),
    producerName: 'trm-trainer',
    producerVersion: ONNX_FORMAT_VERSION,
    docString,
    graphName: 'trm_train_step',
    nodes: builder.nodes,
    initializers: builder.initializers,
    inputs,
    outputs,
    metadata: {},
  });
  return { bytes, ...graph };
}

/** A training graph before encoding: its builder (nodes, initializers, domains), inputs and outputs. */
export interface TrainGraphParts extends Omit<TrainGraph, 'bytes'> {
  builder: GraphBuilder;
  inputs: ValueInfoMsg[];
  outputs: ValueInfoMsg[];
  docString: string;
}

/** The training graph of one supervision step, not yet encoded (buildTrainGraph encodes it). */
export function trainGraphParts(
  config: ModelConfig,
  weights: NamedArrays,
  options: TrainGraphOptions = {},
): TrainGraphParts {
  const precision = options.precision ?? 'fp32';
  if (!TRAIN_PRECISIONS.includes(precision))
    throw new Error(`precision must be one of ${TRAIN_PRECISIONS.join(', ')} (got ${precision})`);
  const noGradForm = options.noGradForm ?? DEFAULT_NO_GRAD_FORM;
  if (!NO_GRAD_FORMS.includes(noGradForm))
    throw new Error(`noGradForm must be one of ${NO_GRAD_FORMS.join(', ')} (got ${noGradForm})`);
  const trainOps = checkTrainOps(options.trainOps ?? {});
  const carry = options.carry ?? defaultCarry(precision);
  if (!TRAIN_CARRIES.includes(carry))
    throw new Error(`carry must be one of ${TRAIN_CARRIES.join(', ')} (got ${carry})`);
  if (carry === 'fp16' && precision !== 'fp16') throw new Error('a float16 carry needs precision fp16');
  const carryType = carry === 'fp16' ? DataType.FLOAT16 : DataType.FLOAT;
  const g = new GraphBuilder();
  const params = trainedParams(config);
  const hasPuzzle = puzzleEmbLen(config) > 0;
  const inputs = trainInputs(config, weights, params, carryType);
  const types: Record<string, ValueType> = {};
  for (const i of inputs) types[i.name] = { shape: i.shape, dtype: i.elemType };
  const shapes = new ShapeTable(g, types);

  const raw = buildStep(g, config, weights, {
    dtype: precision,
    ops: { ...TRAIN_OPS, ...trainOps },
    inputs: new Set(params),
    truncateGradient: true,
    // SimplifiedLayerNormalization is one kernel like RMSNormalization and also serves the sequence axis
    noGradOps:
      trainOps.norm === 'stats' && NO_GRAD_OPS[noGradForm]
        ? { ...NO_GRAD_OPS[noGradForm], norm: 'stats' }
        : NO_GRAD_OPS[noGradForm],
    float32State: carry === 'fp32',
  });
  const wide = (v: string) => (precision === 'fp32' ? v : g.op('Cast', [v], { to: DataType.FLOAT }));
  const state = (v: string) => (carry === 'fp16' ? v : wide(v));
  const step = { zH: state(raw.zH), zL: state(raw.zL), logits: wide(raw.logits), qHalt: wide(raw.qHalt) };
  const loss = actLoss(g, config, step);

  const wrt = hasPuzzle ? [...params, STEP_INPUTS.puzzleEmb] : params;
  const batch = g.op('Slice', [g.op('Shape', [STEP_INPUTS.tokens]), g.ints([0]), g.ints([1])], {}, 'batch');
  const grads = differentiate(g, shapes, loss.objective, wrt, { symbols: { batch } });
  const outputs = trainOutputs(g, config, step, loss, wrt, grads, shapes, carryType);

  return {
    builder: g,
    inputs,
    outputs,
    docString: `TRM training step: ${config.task}, ${config.mlp_t ? 'MLP-mixer' : 'attention'}, D=${config.hidden_size}, T=${config.H_cycles}, n=${config.L_cycles}, ${precision}, no-gradient recursions ${noGradForm}, ${JSON.stringify({ ...pickTrainOps(TRAIN_OPS), ...trainOps })}`,
    params,
    puzzleEmb: hasPuzzle,
    precision,
    noGradForm,
    trainOps: { ...pickTrainOps(TRAIN_OPS), ...trainOps },
    carry,
  };
}

function pickTrainOps(o: OpChoice): TrainOps {
  return {
    swiglu: o.swiglu,
    mlpT: o.mlpT,
    norm: o.norm as TrainOps['norm'],
    silu: o.silu ?? 'decomposed',
    mlpTPad: o.mlpTPad ?? 'none',
  };
}

/**
 * Parses the forms of a training graph as text, `no-grad=inference,swiglu=split,mlpT=transpose,norm=stats,silu=op,
 * carry=fp16` (any subset; the rest keep their defaults), for the train command's --graph-ops; errors name the key
 * or value.
 */
export function parseGraphOps(text: string): {
  noGradForm?: NoGradForm;
  trainOps: Partial<TrainOps>;
  carry?: TrainCarry;
  stepsForm?: MultiStepForm;
} {
  const trainOps: Record<string, string> = {};
  const out: { noGradForm?: NoGradForm; carry?: TrainCarry; stepsForm?: MultiStepForm } = {};
  const keys = ['no-grad', ...Object.keys(TRAIN_OP_CHOICES), 'carry', 'steps'];
  const pick = <T extends string>(k: string, v: string, allowed: readonly T[]): T => {
    if (!allowed.includes(v as T))
      throw new FlagError(`--graph-ops: ${k} must be one of ${allowed.join(', ')} (got "${v}")`, '--graph-ops');
    return v as T;
  };
  for (const part of text.split(',').filter(Boolean)) {
    const [k, v = ''] = part.split('=') as [string, string | undefined];
    if (k === 'no-grad') out.noGradForm = pick(k, v, NO_GRAD_FORMS);
    else if (k === 'carry') out.carry = pick(k, v, TRAIN_CARRIES);
    else if (k === 'steps') out.stepsForm = pick(k, v, MULTI_STEP_FORMS);
    else {
      const allowed = (TRAIN_OP_CHOICES as Record<string, readonly string[]>)[k];
      if (!allowed) throw new FlagError(`--graph-ops: unknown key "${k}" (known: ${keys.join(', ')})`, '--graph-ops');
      trainOps[k] = pick(k, v, allowed);
    }
  }
  return {
    noGradForm: out.noGradForm,
    trainOps: trainOps as Partial<TrainOps>,
    carry: out.carry,
    stepsForm: out.stepsForm,
  };
}

/** `o` when each key is a known form of TRAIN_OP_CHOICES; an error that names the key otherwise. */
function checkTrainOps(o: Partial<TrainOps>): Partial<TrainOps> {
  for (const [key, value] of Object.entries(o)) {
    const allowed = (TRAIN_OP_CHOICES as Record<string, readonly string[]>)[key];
    if (!allowed) throw new Error(`trainOps may set ${Object.keys(TRAIN_OP_CHOICES).join(', ')} (got ${key})`);
    if (!allowed.includes(value as string))
      throw new Error(`trainOps.${key} must be one of ${allowed.join(', ')} (got ${value})`);
  }
  return o;
}
