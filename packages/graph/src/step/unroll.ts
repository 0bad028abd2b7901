// k supervision steps in one graph, made from an exported step graph (any dtype, any op choice), so one
// session.run does k steps: the state crosses to the host once per k steps instead of once per step. Two forms:
// - loop: an ONNX Loop of at most k iterations whose body is the step (the state is loop-carried, the answers and
//   halt logits are scan outputs). The graph stays the size of one step. It takes two more inputs per row
//   (MULTI_STEP_INPUTS: the halt logit above which the row halts, and the steps it has left) and ends after the
//   first step at which no row goes on, so a lone puzzle that halts early does not pay for k steps.
// - unrolled: the step's nodes repeated k times, each copy reading the state the previous one wrote. ONNX Runtime's
//   session creation grows with the square of the node count (BENCHMARKS.md: 0.9 s at k = 2 and 11 s at k = 8 for
//   sudoku-mlp on 2 CPU cores, at every optimisation level), so it only suits small k.
// Only the first step applies the graph's reset input: a row that resets starts afresh once, then carries on. Each
// step's logits are reduced to their argmax in the graph (uint8), so what leaves the device per step is S bytes and
// one float per row. The weights stay the step graph's initializers, so their checksum (trm.weights_sha256) holds.
import { METADATA_KEYS, MULTI_STEP_INPUTS, MULTI_STEP_OUTPUTS, STEP_INPUTS, STEP_OUTPUTS } from '../contract.js';
import {
  AttributeType,
  DataType,
  type DataTypeId,
  decodeRawModel,
  encodeRawModel,
  type NodeMsg,
  type RawModel,
  rawValueInfo,
  type TensorMsg,
} from '../onnx/onnx-proto.js';

/** The largest k accepted (the reference's halt_max_steps is 16; a graph of more steps is never needed). */
export const MAX_STEPS_PER_RUN = 64;

function constant(name: string, t: TensorMsg): NodeMsg {
  return {
    name: `n_${name}`,
    op_type: 'Constant',
    input: [],
    output: [name],
    attribute: [{ name: 'value', type: AttributeType.TENSOR, t }],
  };
}

function node(op: string, input: string[], output: string, attrs: NodeMsg['attribute'] = []): NodeMsg {
  return { name: `n_${output}`, op_type: op, input, output: [output], attribute: attrs };
}

const intAttr = (name: string, i: number) => ({ name, type: AttributeType.INT, i });
const intsAttr = (name: string, ints: number[]) => ({ name, type: AttributeType.INTS, ints });

export type MultiStepForm = 'loop' | 'unrolled';
export const MULTI_STEP_FORMS: readonly MultiStepForm[] = ['loop', 'unrolled'];

/**
 * The bytes of a graph that runs `k` supervision steps of the step graph `bytes` per run: inputs as the step
 * graph's (the loop form adds MULTI_STEP_INPUTS), outputs z_h_out, z_l_out (after the last step), answers
 * [B, k', S] (uint8) and q_halts [B, k'], where k' = k, or fewer when the loop form ended early.
 */
export function unrollStepGraph(bytes: Uint8Array, k: number, form: MultiStepForm = 'loop'): Uint8Array {
  if (!Number.isInteger(k) || k < 1 || k > MAX_STEPS_PER_RUN)
    throw new Error(`steps per run must be an integer from 1 to ${MAX_STEPS_PER_RUN} (got ${k})`);
  const m = decodeRawModel(bytes);
  const g = m.graph;
  const meta = new Map((m.metadata_props ?? []).map((p) => [p.key, p.value]));
  if (meta.has(METADATA_KEYS.stepsPerRun)) throw new Error('the graph already runs several steps per run');
  const inputNames = new Set(g.input.map((v) => v.name));
  const outputNames = new Set(g.output.map((v) => v.name));
  for (const name of [STEP_INPUTS.tokens, STEP_INPUTS.reset, STEP_INPUTS.zH, STEP_INPUTS.zL])
    if (!inputNames.has(name)) throw new Error(`not a TRM step graph: no input ${name}`);
  for (const name of Object.values(STEP_OUTPUTS))
    if (!outputNames.has(name)) throw new Error(`not a TRM step graph: no output ${name}`);
  const configJson = meta.get(METADATA_KEYS.config);
  const seqLen = configJson ? (JSON.parse(configJson) as { seq_len?: number }).seq_len : undefined;
  if (!Number.isInteger(seqLen)) throw new Error(`the graph's ${METADATA_KEYS.config} has no seq_len`);
  if (form === 'loop') loopGraph(m, k, seqLen!);
  else unrolledGraph(m, k, seqLen!);
  m.metadata_props = [...(m.metadata_props ?? []), { key: METADATA_KEYS.stepsPerRun, value: String(k) }].sort((a, b) =>
    a.key < b.key ? -1 : a.key > b.key ? 1 : 0,
  );
  return encodeRawModel(m);
}

const int64Const = (value: bigint, dims: number[] = []): TensorMsg => ({
  name: '',
  dims,
  data_type: DataType.INT64,
  raw_data: new Uint8Array(new BigInt64Array([value]).buffer),
});

/** The step's nodes as the body of a Loop of k iterations (see the file's comment). */
function loopGraph(m: RawModel, k: number, seqLen: number): void {
  const g = m.graph;
  const stateInput = g.input.find((v) => v.name === STEP_INPUTS.zH)!;
  const stateType = (stateInput.type as { tensor_type: { elem_type: number } }).tensor_type.elem_type as DataTypeId;
  const stateShape = valueShape(stateInput.type);
  const outer = new Set([...g.initializer.map((t) => t.name), STEP_INPUTS.tokens, STEP_INPUTS.puzzleEmb]);
  // Body values get their own names: a subgraph may not redefine a name of the graph around it.
  const rename = (name: string): string => {
    if (name === '' || outer.has(name)) return name;
    if (name === STEP_INPUTS.reset) return 'loop_reset';
    if (name === STEP_INPUTS.zH) return 'loop_z_h';
    if (name === STEP_INPUTS.zL) return 'loop_z_l';
    return `${name}@loop`;
  };
  const body: NodeMsg[] = [
    constant('loop_zero', int64Const(0n)),
    node('Equal', ['loop_iter', 'loop_zero'], 'loop_first'),
    // the reset applies at the first iteration only
    node('And', [STEP_INPUTS.reset, 'loop_first'], 'loop_reset'),
    ...g.node.map((n) => ({
      name: `${n.name}@loop`,
      op_type: n.op_type,
      ...(n.domain ? { domain: n.domain } : {}),
      input: n.input.map(rename),
      output: n.output.map(rename),
      attribute: n.attribute,
    })),
    node('ArgMax', [rename(STEP_OUTPUTS.logits)], 'loop_argmax', [intAttr('axis', -1), intAttr('keepdims', 0)]),
    node('Cast', ['loop_argmax'], 'loop_answer', [intAttr('to', DataType.UINT8)]),
    // Go on while any row goes on: its halt logit at most its threshold and a step left after this one.
    constant('loop_one', int64Const(1n)),
    node('Add', ['loop_iter', 'loop_one'], 'loop_done'),
    node('Less', ['loop_done', MULTI_STEP_INPUTS.stepsLeft], 'loop_has_steps'),
    node('LessOrEqual', [rename(STEP_OUTPUTS.qHalt), MULTI_STEP_INPUTS.haltLogit], 'loop_not_halted'),
    node('And', ['loop_has_steps', 'loop_not_halted'], 'loop_goes_on'),
    node('Cast', ['loop_goes_on'], 'loop_goes_on_i32', [intAttr('to', DataType.INT32)]),
    node('ReduceMax', ['loop_goes_on_i32'], 'loop_any', [intAttr('keepdims', 0)]),
    node('Cast', ['loop_any'], 'loop_cond_out', [intAttr('to', DataType.BOOL)]),
  ];
  const info = (name: string, elemType: DataTypeId, shape: (number | string)[]) =>
    rawValueInfo({ name, elemType, shape });
  const bodyGraph = {
    name: 'trm_step_body',
    node: body,
    input: [
      info('loop_iter', DataType.INT64, []),
      info('loop_cond_in', DataType.BOOL, []),
      info('loop_z_h', stateType, stateShape),
      info('loop_z_l', stateType, stateShape),
    ],
    output: [
      info('loop_cond_out', DataType.BOOL, []),
      info(rename(STEP_OUTPUTS.zH), stateType, stateShape),
      info(rename(STEP_OUTPUTS.zL), stateType, stateShape),
      info('loop_answer', DataType.UINT8, ['batch', seqLen]),
      info(rename(STEP_OUTPUTS.qHalt), DataType.FLOAT, ['batch']),
    ],
  };
  g.node = [
    constant('loop_trips', int64Const(BigInt(k))),
    constant('loop_true', { name: '', dims: [], data_type: DataType.BOOL, raw_data: new Uint8Array([1]) }),
    {
      name: 'n_loop',
      op_type: 'Loop',
      input: ['loop_trips', 'loop_true', STEP_INPUTS.zH, STEP_INPUTS.zL],
      output: [STEP_OUTPUTS.zH, STEP_OUTPUTS.zL, 'loop_answers', 'loop_q_halts'],
      attribute: [{ name: 'body', type: AttributeType.GRAPH, g: bodyGraph }],
    },
    node('Transpose', ['loop_answers'], MULTI_STEP_OUTPUTS.answers, [intsAttr('perm', [1, 0, 2])]),
    node('Transpose', ['loop_q_halts'], MULTI_STEP_OUTPUTS.qHalts, [intsAttr('perm', [1, 0])]),
  ];
  setMultiStepOutputs(g, 'steps', seqLen);
  g.input = [
    ...g.input,
    rawValueInfo({ name: MULTI_STEP_INPUTS.haltLogit, elemType: DataType.FLOAT, shape: ['batch'] }),
    rawValueInfo({ name: MULTI_STEP_INPUTS.stepsLeft, elemType: DataType.INT64, shape: ['batch'] }),
  ] as never;
}

function valueShape(type: unknown): (number | string)[] {
  const dims = (type as { tensor_type: { shape: { dim: { dim_value?: number; dim_param?: string }[] } } }).tensor_type
    .shape.dim;
  return dims.map((d) => d.dim_param || Number(d.dim_value));
}

/** The outputs of a multi-step graph; `steps` is k, or a symbolic dimension where the loop may end early. */
function setMultiStepOutputs(g: RawModel['graph'], steps: number | string, seqLen: number): void {
  const keep = g.output.filter((v) => v.name === STEP_OUTPUTS.zH || v.name === STEP_OUTPUTS.zL);
  g.output = [
    ...keep,
    rawValueInfo({ name: MULTI_STEP_OUTPUTS.answers, elemType: DataType.UINT8, shape: ['batch', steps, seqLen] }),
    rawValueInfo({ name: MULTI_STEP_OUTPUTS.qHalts, elemType: DataType.FLOAT, shape: ['batch', steps] }),
  ] as never;
}

/** The step's nodes repeated k times (see the file's comment). */
function unrolledGraph(m: RawModel, k: number, seqLen: number): void {
  const g = m.graph;
  const shared = new Set([...g.initializer.map((t) => t.name), STEP_INPUTS.tokens, STEP_INPUTS.puzzleEmb]);
  const step = g.node;
  const nodes: NodeMsg[] = [
    constant('unroll_false', { name: '', dims: [], data_type: DataType.BOOL, raw_data: new Uint8Array(1) }),
    // later copies reset no row: reset AND false keeps the batch dimension
    node('And', [STEP_INPUTS.reset, 'unroll_false'], 'unroll_no_reset'),
    constant('unroll_axis1', int64Const(1n, [1])),
  ];
  const answers: string[] = [];
  const qHalts: string[] = [];
  for (let j = 0; j < k; j++) {
    const last = j === k - 1;
    const rename = (name: string): string => {
      if (name === '' || shared.has(name)) return name;
      if (name === STEP_INPUTS.reset) return j === 0 ? name : 'unroll_no_reset';
      if (name === STEP_INPUTS.zH) return j === 0 ? name : `${STEP_OUTPUTS.zH}@${j - 1}`;
      if (name === STEP_INPUTS.zL) return j === 0 ? name : `${STEP_OUTPUTS.zL}@${j - 1}`;
      if (last && (name === STEP_OUTPUTS.zH || name === STEP_OUTPUTS.zL)) return name;
      return `${name}@${j}`;
    };
    for (const n of step)
      nodes.push({
        name: `${n.name}@${j}`,
        op_type: n.op_type,
        ...(n.domain ? { domain: n.domain } : {}),
        input: n.input.map(rename),
        output: n.output.map(rename),
        attribute: n.attribute,
      });
    const argmax = `unroll_argmax@${j}`;
    nodes.push(
      node('ArgMax', [rename(STEP_OUTPUTS.logits)], argmax, [intAttr('axis', -1), intAttr('keepdims', 0)]),
      node('Unsqueeze', [argmax, 'unroll_axis1'], `unroll_answer@${j}`),
      node('Unsqueeze', [rename(STEP_OUTPUTS.qHalt), 'unroll_axis1'], `unroll_q@${j}`),
    );
    answers.push(`unroll_answer@${j}`);
    qHalts.push(`unroll_q@${j}`);
  }
  const concat = (parts: string[], out: string) =>
    parts.length === 1 ? node('Identity', parts, out) : node('Concat', parts, out, [intAttr('axis', 1)]);
  nodes.push(
    concat(answers, 'unroll_answers_i64'),
    node('Cast', ['unroll_answers_i64'], MULTI_STEP_OUTPUTS.answers, [intAttr('to', DataType.UINT8)]),
    concat(qHalts, MULTI_STEP_OUTPUTS.qHalts),
  );
  g.node = nodes;
  setMultiStepOutputs(g, k, seqLen);
}
