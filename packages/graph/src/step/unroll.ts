// k supervision steps in one graph, made from an exported step graph (any dtype, any op choice): the step's nodes
// are repeated k times, each copy reading the state the previous one wrote, so one session.run does k steps. The
// state crosses to the host once per k steps instead of once per step, and a run launches one graph instead of k.
// Only the reset input of the first copy is the graph's: a row that resets starts afresh once, then carries on.
// Each copy's logits are reduced to their argmax in the graph (uint8), so what leaves the device per step is S
// bytes and one float per row. The weights are the step graph's initializers, shared by the copies, so their
// checksum (trm.weights_sha256) still holds.
import { METADATA_KEYS, MULTI_STEP_OUTPUTS, STEP_INPUTS, STEP_OUTPUTS } from '../contract.js';
import {
  AttributeType,
  DataType,
  decodeRawModel,
  encodeRawModel,
  type NodeMsg,
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

/**
 * The bytes of a graph that runs `k` supervision steps of the step graph `bytes` per run: inputs as the step
 * graph's, outputs z_h_out, z_l_out (after step k), answers [B, k, S] (uint8) and q_halts [B, k].
 */
export function unrollStepGraph(bytes: Uint8Array, k: number): Uint8Array {
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

  const shared = new Set([...g.initializer.map((t) => t.name), STEP_INPUTS.tokens, STEP_INPUTS.puzzleEmb]);
  const step = g.node;
  const nodes: NodeMsg[] = [
    constant('unroll_false', { name: '', dims: [], data_type: DataType.BOOL, raw_data: new Uint8Array(1) }),
    // later copies reset no row: reset AND false keeps the batch dimension
    node('And', [STEP_INPUTS.reset, 'unroll_false'], 'unroll_no_reset'),
    constant('unroll_axis1', {
      name: '',
      dims: [1],
      data_type: DataType.INT64,
      raw_data: new Uint8Array(new BigInt64Array([1n]).buffer),
    }),
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
  const keep = g.output.filter((v) => v.name === STEP_OUTPUTS.zH || v.name === STEP_OUTPUTS.zL);
  g.output = [
    ...keep,
    rawValueInfo({ name: MULTI_STEP_OUTPUTS.answers, elemType: DataType.UINT8, shape: ['batch', k, seqLen!] }),
    rawValueInfo({ name: MULTI_STEP_OUTPUTS.qHalts, elemType: DataType.FLOAT, shape: ['batch', k] }),
  ] as never;
  m.metadata_props = [...(m.metadata_props ?? []), { key: METADATA_KEYS.stepsPerRun, value: String(k) }].sort((a, b) =>
    a.key < b.key ? -1 : a.key > b.key ? 1 : 0,
  );
  return encodeRawModel(m);
}
