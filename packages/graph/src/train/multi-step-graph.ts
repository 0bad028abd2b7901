// K optimiser steps in one graph, so that one session.run trains K steps: the carry, the batch's slots, the weights,
// the optimiser's moments, the EMA, the loss scale and the puzzle table stay on the device between the steps and
// cross to the host once per run. Each step is a copy of the one-step training graph (trainGraphParts, inlined)
// followed by what the host does between two runs of it: the unscaling and finiteness check of the gradients, the
// optimiser update (optimizerGraphParts, inlined), the sign-SGD of the batch's puzzle rows, the loss-scale rule,
// the halting rule with the exploration minimum, and the admission of the next batch's rows into the halted slots.
// What does not depend on the data comes from the host: the K incoming batches (the sampler's), the exploration
// minimum of every slot and step (its draws do not depend on the data), the learning rates and the bias
// corrections. A step whose `active` entry is false changes nothing, so a run may train fewer than K steps.
import { type ModelConfig, type NamedArrays, puzzleEmbLen, stateLen } from '@trm/core';
import {
  gradientName,
  IR_VERSION,
  ONNX_FORMAT_VERSION,
  opsetImports,
  STEP_INPUTS,
  STEP_OUTPUTS,
  TRAIN_INPUTS,
  TRAIN_OUTPUTS,
} from '../contract.js';
import { GraphBuilder } from '../onnx/graph-builder.js';
import type { MultiStepForm } from '../step/unroll.js';
import { inlineGraph } from '../onnx/inline.js';
import { AttributeType, DataType, encodeModel, rawValueInfo, type ValueInfoMsg } from '../onnx/onnx-proto.js';
import { OPTIMIZER_OUTPUTS, OPTIMIZER_STATE, type OptimizerGraphKind, optimizerGraphParts } from './optimizer-graph.js';
import { type TrainCarry, type TrainGraphOptions, type TrainPrecision, trainGraphParts } from './train-graph.js';

/** Inputs of the K-step graph besides the flat state (MULTI_STATE). */
export const MULTI_INPUTS = {
  /** int32 [K, B, S]: the sampler's batch of each step (a slot takes its row when it resets) */
  tokens: 'in_tokens',
  labels: 'in_labels',
  /** int32 [K, B]: their puzzle ids (models with a puzzle table) */
  ids: 'in_ids',
  /** float32 [K, B]: the exploration minimum of each slot at each step (0: none drawn) */
  minHalt: 'min_halt',
  /** bool [K]: which steps run (a false step changes nothing) */
  active: 'active',
  /** float32 [K]: the learning rate and 1 - lr x weight decay of each step */
  lr: 'lr',
  wdAlpha: 'wd_alpha',
  /** float32 [K]: 1 / (1 - beta1^t) and sqrt(1 - beta2^t) for the run's 1st, 2nd, ... applied update */
  bc1Reciprocal: 'bc1_reciprocal',
  bc2Sqrt: 'bc2_sqrt',
  /** float32 [K]: the puzzle rows' learning rate and 1 - lr x their weight decay at each step */
  puzzleLr: 'puzzle_lr',
  puzzleDecay: 'puzzle_decay',
} as const;

/** State that goes in and comes back (output name: the input's + '_out'). */
export const MULTI_STATE = {
  /** int32 [B, S], [B, S], [B]: each slot's current sample */
  tokens: 'tokens',
  labels: 'labels',
  ids: 'ids',
  /** float32 [B]: supervision steps of each slot's sample; bool [B]: the slots that reset at the next step */
  steps: 'steps',
  halted: 'halted',
  /** the carry [B, L, D] in the carry type */
  zH: 'z_h',
  zL: 'z_l',
  /** float32 [P]: parameters, moments and EMA, flat in `params` order */
  p: 'p',
  m: 'm',
  v: 'v',
  e: 'e',
  /** float32 []: the loss scale and its finite steps in a row (fp16) */
  scale: 'scale',
  good: 'good',
  /** float32 [N, E]: the puzzle table */
  table: 'table',
} as const;

/** Per-step outputs, [K, B] or [K]. */
export const MULTI_OUTPUTS = {
  qHalt: 'step_q_halt',
  lmLoss: 'step_lm_loss',
  qHaltLoss: 'step_q_halt_loss',
  rowCorrect: 'step_row_correct',
  rowAccuracy: 'step_row_accuracy',
  rowCount: 'step_row_count',
  /** float32 [K, B]: 1 where the slot halted after the step, and its step count */
  halted: 'step_halted',
  steps: 'step_steps',
  /** float32 [K]: 1 where the step's gradients were finite and applied */
  applied: 'step_applied',
} as const;

export const outName = (state: string) => `${state}_out`;

/** The loop-carried count of the updates applied so far in the run (the bias corrections' index). */
const APPLIED = 'applied';

/** The shape of a per-step output, [K, B] or [K] (the step's own part is the shape without the first axis). */
function perStepShape(name: string, B: string): (number | string)[] {
  const scalar: string[] = [MULTI_OUTPUTS.lmLoss, MULTI_OUTPUTS.qHaltLoss, MULTI_OUTPUTS.applied];
  return scalar.includes(name) ? ['K'] : ['K', B];
}

/**
 * How the K steps are laid out, as for the inference graph of several steps (MULTI_STEP_FORMS): `loop`, one ONNX
 * Loop whose body is a step (the graph stays the size of one step), or `unrolled`, K copies of the step (ONNX
 * Runtime's session takes longer to open as K grows).
 */
export type TrainStepsForm = MultiStepForm;

export interface MultiStepOptions extends TrainGraphOptions {
  /** optimiser steps per run, K >= 1 */
  steps: number;
  optimizer: OptimizerGraphKind;
  ema: boolean;
  hyper: { beta1: number; beta2: number; eps: number; emaRate: number };
  /** halt_max_steps, and whether the learned halting applies (training with halt_max_steps > 1) */
  maxSteps: number;
  learnedHalt: boolean;
  /** the loss-scale rule (precision fp16): growth interval and bounds */
  lossScale: { growthInterval: number; min: number; max: number } | null;
  /** rows of the puzzle table (models with a puzzle embedding) */
  puzzleRows: number;
  /** default loop */
  form?: TrainStepsForm;
}

export interface MultiStepGraph {
  bytes: Uint8Array;
  /** the trained parameters in flat order, with their sizes */
  params: string[];
  sizes: number[];
  puzzleEmb: boolean;
  precision: TrainPrecision;
  carry: TrainCarry;
  steps: number;
}

/** The bytes of the K-step training graph (see the file's comment). */
export function buildMultiStepGraph(config: ModelConfig, weights: NamedArrays, o: MultiStepOptions): MultiStepGraph {
  const K = o.steps;
  if (!Number.isInteger(K) || K < 1) throw new Error(`steps per run must be a positive integer (got ${K})`);
  const one = trainGraphParts(config, weights, o);
  const opt = optimizerGraphParts(o.optimizer, o.ema);
  const form = o.form ?? 'loop';
  const B = 'batch';
  const S = config.seq_len;
  const L = stateLen(config);
  const D = config.hidden_size;
  const E = config.puzzle_emb_ndim;
  const N = o.puzzleRows;
  const puzzle = puzzleEmbLen(config) > 0;
  if (puzzle && N < 1) throw new Error('a model with a puzzle embedding needs puzzleRows >= 1');
  const carryType = one.carry === 'fp16' ? DataType.FLOAT16 : DataType.FLOAT;
  const sizes = one.params.map((p) => weights[p]!.data.length);
  const P = sizes.reduce((a, b) => a + b, 0);
  const I = MULTI_INPUTS;
  const X = MULTI_STATE;

  const inputs: ValueInfoMsg[] = [
    { name: I.tokens, elemType: DataType.INT32, shape: [K, B, S] },
    { name: I.labels, elemType: DataType.INT32, shape: [K, B, S] },
    ...(puzzle ? [{ name: I.ids, elemType: DataType.INT32, shape: [K, B] }] : []),
    { name: I.minHalt, elemType: DataType.FLOAT, shape: [K, B] },
    { name: I.active, elemType: DataType.BOOL, shape: [K] },
    ...[I.lr, I.wdAlpha, I.bc1Reciprocal, I.bc2Sqrt].map((name) => ({ name, elemType: DataType.FLOAT, shape: [K] })),
    ...(puzzle ? [I.puzzleLr, I.puzzleDecay].map((name) => ({ name, elemType: DataType.FLOAT, shape: [K] })) : []),
  ];
  const stateInfo: ValueInfoMsg[] = [
    { name: X.tokens, elemType: DataType.INT32, shape: [B, S] },
    { name: X.labels, elemType: DataType.INT32, shape: [B, S] },
    ...(puzzle ? [{ name: X.ids, elemType: DataType.INT32, shape: [B] }] : []),
    { name: X.steps, elemType: DataType.FLOAT, shape: [B] },
    { name: X.halted, elemType: DataType.BOOL, shape: [B] },
    { name: X.zH, elemType: carryType, shape: [B, L, D] },
    { name: X.zL, elemType: carryType, shape: [B, L, D] },
    { name: X.p, elemType: DataType.FLOAT, shape: [P] },
    { name: X.m, elemType: DataType.FLOAT, shape: [P] },
    { name: X.v, elemType: DataType.FLOAT, shape: [P] },
    ...(o.ema ? [{ name: X.e, elemType: DataType.FLOAT, shape: [P] }] : []),
    ...(o.lossScale
      ? [
          { name: X.scale, elemType: DataType.FLOAT, shape: [] },
          { name: X.good, elemType: DataType.FLOAT, shape: [] },
        ]
      : []),
    ...(puzzle ? [{ name: X.table, elemType: DataType.FLOAT, shape: [N, E] }] : []),
  ];
  inputs.push(...stateInfo);

  const offsets = sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));

  /**
   * Appends step `index` (an int64 [1] value of `g`: which row of the per-step inputs it reads) to `g`: reads and
   * replaces the state values `s` and the applied-update count; returns its per-step outputs.
   */
  const appendStep = (
    g: GraphBuilder,
    s: Record<string, string>,
    index: string,
    tag: string,
  ): Record<string, string> => {
    const f = (v: number) => g.scalar(v);
    /** row `at` (int64 [1]; default: this step's) of a per-step input */
    const pick = (v: string, at = index) => g.op('Squeeze', [g.op('Gather', [v, at], { axis: 0 }), g.ints([0])]);
    const rows = g.op(
      'Cast',
      [g.op('Squeeze', [g.op('Slice', [g.op('Shape', [s[X.tokens]!]), g.ints([0]), g.ints([1])]), g.ints([0])])],
      { to: DataType.FLOAT },
    );
    const act = pick(I.active); // bool []
    const scale = o.lossScale ? s[X.scale]! : f(1); // this step's loss scale
    const reset = s[X.halted]!;
    const reset2 = g.op('Unsqueeze', [reset, g.ints([1])]);
    const tokens = g.op('Where', [reset2, pick(I.tokens), s[X.tokens]!]);
    const labels = g.op('Where', [reset2, pick(I.labels), s[X.labels]!]);
    const ids = puzzle ? g.op('Where', [reset, pick(I.ids), s[X.ids]!]) : '';
    const stepsBefore = g.op('Where', [reset, f(0), s[X.steps]!]);
    const bind: Record<string, string> = {
      [STEP_INPUTS.tokens]: g.op('Cast', [tokens], { to: DataType.INT64 }),
      [TRAIN_INPUTS.labels]: g.op('Cast', [labels], { to: DataType.INT64 }),
      [STEP_INPUTS.reset]: reset,
      [STEP_INPUTS.zH]: s[X.zH]!,
      [STEP_INPUTS.zL]: s[X.zL]!,
      [TRAIN_INPUTS.lossScale]: g.op('Div', [scale, rows]),
    };
    if (puzzle) bind[STEP_INPUTS.puzzleEmb] = g.op('Gather', [s[X.table]!, ids], { axis: 0 });
    one.params.forEach((name, i) => {
      const flat = g.op('Slice', [s[X.p]!, g.ints([offsets[i]!]), g.ints([offsets[i]! + sizes[i]!])]);
      bind[name] = g.op('Reshape', [flat, g.ints(weights[name]!.shape)]);
    });
    const v = inlineGraph(g, one.builder, bind, `${tag}s/`, 'step/');

    // The gradients, unscaled; the step applies only when they are finite (always in fp32).
    const inv = g.op('Reciprocal', [scale]);
    const grad = g.op('Mul', [
      g.op(
        'Concat',
        one.params.map((p) => g.op('Reshape', [v(gradientName(p)), g.ints([-1])])),
        { axis: 0 },
      ),
      inv,
    ]);
    const puzzleGrad = puzzle ? g.op('Mul', [v(gradientName(STEP_INPUTS.puzzleEmb)), inv]) : '';
    const bad = (x: string) =>
      g.op(
        'ReduceMax',
        [g.op('Cast', [g.op('Or', [g.op('IsNaN', [x]), g.op('IsInf', [x])])], { to: DataType.FLOAT })],
        { keepdims: 0 },
      );
    const finite = o.lossScale
      ? g.op('Equal', [puzzle ? g.op('Max', [bad(grad), bad(puzzleGrad)]) : bad(grad), f(0)])
      : g.initializerOf('true')
        ? 'true'
        : g.initializer('true', [], DataType.BOOL, Uint8Array.of(1));
    const update = g.op('And', [act, finite]);
    const nth = g.op('Cast', [g.op('Reshape', [s[APPLIED]!, g.ints([1])])], { to: DataType.INT64 });
    const bc1 = pick(I.bc1Reciprocal, nth);
    const bc2 = pick(I.bc2Sqrt, nth);
    const lr = pick(I.lr);
    const scalars: Record<string, string> = {
      lr,
      wdAlpha: pick(I.wdAlpha),
      a1: f(1 - o.hyper.beta1),
      a2: f(1 - o.hyper.beta2),
      beta2: f(o.hyper.beta2),
      bc1Reciprocal: bc1,
      bc2Sqrt: bc2,
      stepSize: g.op('Mul', [lr, bc1]),
      eps: f(o.hyper.eps),
      emaRate: f(o.hyper.emaRate),
    };
    const optBind: Record<string, string> = {
      [OPTIMIZER_STATE.p]: s[X.p]!,
      [OPTIMIZER_STATE.m]: s[X.m]!,
      [OPTIMIZER_STATE.v]: s[X.v]!,
      [OPTIMIZER_STATE.g]: grad,
      ...(o.ema ? { [OPTIMIZER_STATE.e]: s[X.e]! } : {}),
    };
    for (const info of opt.inputs) if (!(info.name in optBind)) optBind[info.name] = scalars[info.name]!;
    const u = inlineGraph(g, opt.builder, optBind, `${tag}u/`, 'update/');
    const keep = (x: string, next: string, when = update) => g.op('Where', [when, next, x]);
    const next: Record<string, string> = {
      [X.p]: keep(s[X.p]!, u(OPTIMIZER_OUTPUTS.p)),
      [X.m]: keep(s[X.m]!, u(OPTIMIZER_OUTPUTS.m)),
      [X.v]: keep(s[X.v]!, u(OPTIMIZER_OUTPUTS.v)),
    };
    if (o.ema) next[X.e] = keep(s[X.e]!, u(OPTIMIZER_OUTPUTS.e));
    if (puzzle) {
      // sign-SGD of the rows the batch touched, from their summed gradients (optim/sign-sgd.ts)
      const zeros = (dims: number[]) =>
        g.op('ConstantOfShape', [g.ints(dims)], {
          value: { name: '', dims: [1], data_type: DataType.FLOAT, raw_data: new Uint8Array(4) },
        });
      const index = g.op('Unsqueeze', [g.op('Cast', [ids], { to: DataType.INT64 }), g.ints([1])]); // [B, 1]
      const sums = g.op('ScatterND', [zeros([N, E]), index, puzzleGrad], { reduction: 'add' });
      const ones = g.op('Expand', [f(1), g.op('Shape', [ids])]);
      const counts = g.op('ScatterND', [zeros([N]), index, ones], { reduction: 'add' });
      const touched = g.op('Unsqueeze', [g.op('Greater', [counts, f(0)]), g.ints([1])]); // [N, 1]
      const stepped = g.op('Sub', [
        g.op('Mul', [s[X.table]!, pick(I.puzzleDecay)]),
        g.op('Mul', [pick(I.puzzleLr), g.op('Sign', [sums])]),
      ]);
      next[X.table] = keep(s[X.table]!, keep(s[X.table]!, stepped, touched));
    }
    s[APPLIED] = g.op('Add', [s[APPLIED]!, g.op('Cast', [update], { to: DataType.FLOAT })]);
    if (o.lossScale) {
      const { growthInterval, min, max } = o.lossScale;
      const overflow = g.op('And', [act, g.op('Not', [finite])]);
      const counted = g.op('Where', [update, g.op('Add', [s[X.good]!, f(1)]), s[X.good]!]);
      const grow = g.op('And', [update, g.op('GreaterOrEqual', [counted, f(growthInterval)])]);
      const halved = g.op('Max', [g.op('Mul', [scale, f(0.5)]), f(min)]);
      const doubled = g.op('Min', [g.op('Mul', [scale, f(2)]), f(max)]);
      next[X.scale] = g.op('Where', [grow, doubled, g.op('Where', [overflow, halved, scale])]);
      next[X.good] = g.op('Where', [g.op('Or', [grow, overflow]), f(0), counted]);
    }

    // The halting rule (act/slots.ts endStep), then the state the next step starts from.
    const stepsAfter = g.op('Add', [stepsBefore, f(1)]);
    let halt = g.op('GreaterOrEqual', [stepsAfter, f(o.maxSteps)]);
    const qHalt = v(STEP_OUTPUTS.qHalt);
    if (o.learnedHalt)
      halt = g.op('And', [
        g.op('Or', [halt, g.op('Greater', [qHalt, f(0)])]),
        g.op('GreaterOrEqual', [stepsAfter, pick(I.minHalt)]),
      ]);
    const moved: Record<string, string> = {
      [X.tokens]: tokens,
      [X.labels]: labels,
      [X.steps]: stepsAfter,
      [X.halted]: halt,
      [X.zH]: v(STEP_OUTPUTS.zH),
      [X.zL]: v(STEP_OUTPUTS.zL),
      ...(puzzle ? { [X.ids]: ids } : {}),
    };
    for (const [k, x] of Object.entries(moved))
      s[k] =
        k === X.halted // Where has no bool kernel on the CPU provider
          ? g.op('Or', [g.op('And', [act, x]), g.op('And', [g.op('Not', [act]), s[k]!])])
          : keep(s[k]!, x, act);
    for (const [k, x] of Object.entries(next)) s[k] = x;
    return {
      [MULTI_OUTPUTS.qHalt]: qHalt,
      [MULTI_OUTPUTS.lmLoss]: v(TRAIN_OUTPUTS.lmLoss),
      [MULTI_OUTPUTS.qHaltLoss]: v(TRAIN_OUTPUTS.qHaltLoss),
      [MULTI_OUTPUTS.rowCorrect]: v(TRAIN_OUTPUTS.rowCorrect),
      [MULTI_OUTPUTS.rowAccuracy]: v(TRAIN_OUTPUTS.rowAccuracy),
      [MULTI_OUTPUTS.rowCount]: v(TRAIN_OUTPUTS.rowCount),
      [MULTI_OUTPUTS.halted]: g.op('Cast', [halt], { to: DataType.FLOAT }),
      [MULTI_OUTPUTS.steps]: stepsAfter,
      [MULTI_OUTPUTS.applied]: g.op('Cast', [update], { to: DataType.FLOAT }),
    };
  };

  const g = new GraphBuilder();
  const s: Record<string, string> = {};
  for (const info of stateInfo) s[info.name] = info.name;
  const perStep: Record<string, string[]> = Object.fromEntries(Object.values(MULTI_OUTPUTS).map((k) => [k, []]));
  if (form === 'unrolled') {
    s[APPLIED] = g.scalar(0);
    for (let j = 0; j < K; j++) {
      const out = appendStep(g, s, g.ints([j]), `${j}/`);
      for (const [k, x] of Object.entries(out)) perStep[k]!.push(g.op('Unsqueeze', [x, g.ints([0])]));
    }
    for (const [name, list] of Object.entries(perStep)) g.node('Concat', list, { axis: 0 }, { outputs: [name] });
  } else {
    // one Loop of K iterations whose body is the step: the state is loop-carried, the per-step outputs scanned
    const b = new GraphBuilder();
    const carried = [...stateInfo, { name: APPLIED, elemType: DataType.FLOAT, shape: [] } as ValueInfoMsg];
    const inner: Record<string, string> = {};
    for (const info of carried) inner[info.name] = `body_${info.name}`;
    const index = b.op('Reshape', ['body_iter', b.ints([1])], {}, 'body_index');
    const out = appendStep(b, inner, index, '');
    const bodyOut = (x: string, name: string) => b.node('Identity', [x], {}, { outputs: [name] })[0]!;
    bodyOut('body_cond_in', 'body_cond_out');
    for (const info of carried) bodyOut(inner[info.name]!, `body_${info.name}_out`);
    for (const [name, x] of Object.entries(out)) bodyOut(x, `body_${name}`);
    const info = (v: ValueInfoMsg) => rawValueInfo(v);
    const body = {
      name: 'trm_train_step_body',
      node: b.nodes,
      initializer: b.initializers,
      input: [
        info({ name: 'body_iter', elemType: DataType.INT64, shape: [] }),
        info({ name: 'body_cond_in', elemType: DataType.BOOL, shape: [] }),
        ...carried.map((c) => info({ ...c, name: `body_${c.name}` })),
      ],
      output: [
        info({ name: 'body_cond_out', elemType: DataType.BOOL, shape: [] }),
        ...carried.map((c) => info({ ...c, name: `body_${c.name}_out` })),
        ...Object.keys(out).map((name) =>
          info({ name: `body_${name}`, elemType: DataType.FLOAT, shape: perStepShape(name, B).slice(1) }),
        ),
      ],
    };
    for (const d of b.domains) g.domains.add(d);
    const trips = g.initializer('loop_trips', [], DataType.INT64, BigInt64Array.of(BigInt(K)));
    const yes = g.initializer('loop_true', [], DataType.BOOL, Uint8Array.of(1));
    const zero = g.initializer('loop_zero', [], DataType.FLOAT, Float32Array.of(0));
    const finals = carried.map((c) => `loop_${c.name}`);
    g.nodes.push({
      name: 'n_loop',
      op_type: 'Loop',
      input: [trips, yes, ...stateInfo.map((c) => c.name), zero],
      output: [...finals, ...Object.keys(out)],
      attribute: [{ name: 'body', type: AttributeType.GRAPH, g: body }],
    });
    carried.forEach((c, i) => {
      s[c.name] = finals[i]!;
    });
  }
  const outputs: ValueInfoMsg[] = [];
  for (const info of stateInfo) {
    const name = outName(info.name);
    g.node('Identity', [s[info.name]!], {}, { outputs: [name] });
    outputs.push({ ...info, name });
  }
  for (const name of Object.values(MULTI_OUTPUTS))
    outputs.push({ name, elemType: DataType.FLOAT, shape: [K, ...perStepShape(name, B).slice(1)] });
  const bytes = encodeModel({
    irVersion: IR_VERSION,
    opsets: opsetImports(g.domains),
    producerName: 'trm-trainer',
    producerVersion: ONNX_FORMAT_VERSION,
    docString: `${one.docString}; ${K} optimiser steps per run, ${o.optimizer}${o.ema ? ' + EMA' : ''}`,
    graphName: 'trm_train_steps',
    nodes: g.nodes,
    initializers: g.initializers,
    inputs,
    outputs,
    metadata: {},
  });
  return {
    bytes,
    params: one.params,
    sizes,
    puzzleEmb: puzzle,
    precision: one.precision,
    carry: one.carry,
    steps: K,
  };
}
