// The optimiser update as an ONNX graph, for running it on the training graph's device instead of the host:
// AdamATan2 (as the adam-atan2 kernel computes it) or AdamW, then the EMA, elementwise over the flat float32
// arrays of every parameter. The trainer's host optimiser (trainer/src/optim/host-optim.ts) has the same formulas;
// which of the two is faster depends on the device and on what crosses between host and device each step.
// atan2 is not an ONNX op: its denominator here is a square root (>= 0), so atan2(y, x) = atan(y / x) for x > 0
// and sign(y) x pi/2 for x = 0.
import { IR_VERSION, ONNX_FORMAT_VERSION, OPSET } from '../contract.js';
import { GraphBuilder } from '../onnx/graph-builder.js';
import { DataType, encodeModel, type ValueInfoMsg } from '../onnx/onnx-proto.js';

export type OptimizerGraphKind = 'adam_atan2' | 'adamw';

/** Flat state inputs (each [n]) and the new values the graph returns for them. */
export const OPTIMIZER_STATE = { p: 'p', m: 'm', v: 'v', g: 'g', e: 'e' } as const;
export const OPTIMIZER_OUTPUTS = { p: 'p_out', m: 'm_out', v: 'v_out', e: 'e_out' } as const;

/**
 * Scalar inputs ([] float32), named as the host optimiser's UpdateScalars: lr, wdAlpha = 1 - lr x weight decay,
 * a1 = 1 - beta1, a2 = 1 - beta2, beta2, bc1Reciprocal = 1 / (1 - beta1^t), bc2Sqrt = sqrt(1 - beta2^t),
 * stepSize = lr / (1 - beta1^t), eps, emaRate.
 */
export const OPTIMIZER_SCALARS = [
  'lr',
  'wdAlpha',
  'a1',
  'a2',
  'beta2',
  'bc1Reciprocal',
  'bc2Sqrt',
  'stepSize',
  'eps',
  'emaRate',
] as const;
export type OptimizerScalarName = (typeof OPTIMIZER_SCALARS)[number];

/** atan2(y, x) for x >= 0. */
function atan2NonNegative(g: GraphBuilder, y: string, x: string): string {
  const positive = g.op('Greater', [x, g.scalar(0)]);
  const ratio = g.op('Atan', [g.op('Div', [y, x])]);
  const axis = g.op('Mul', [g.op('Sign', [y]), g.scalar(Math.PI / 2)]);
  return g.op('Where', [positive, ratio, axis], {}, 'atan2');
}

/** The bytes of the update graph for one optimiser, with or without the EMA (e, e_out). */
export function buildOptimizerGraph(kind: OptimizerGraphKind, ema: boolean): Uint8Array {
  const { builder: g, inputs, outputs } = optimizerGraphParts(kind, ema);
  return encodeModel({
    irVersion: IR_VERSION,
    opsets: [{ domain: '', version: OPSET }],
    producerName: 'trm-trainer',
    producerVersion: ONNX_FORMAT_VERSION,
    docString: `TRM optimiser update: ${kind}${ema ? ' + EMA' : ''}, flat float32 state`,
    graphName: 'trm_optimizer_update',
    nodes: g.nodes,
    initializers: g.initializers,
    inputs,
    outputs,
    metadata: {},
  });
}

/** The update graph before encoding: inputs OPTIMIZER_STATE (e with EMA) and the scalars it uses. */
export function optimizerGraphParts(
  kind: OptimizerGraphKind,
  ema: boolean,
): { builder: GraphBuilder; inputs: ValueInfoMsg[]; outputs: ValueInfoMsg[] } {
  const g = new GraphBuilder();
  const s = Object.fromEntries(OPTIMIZER_SCALARS.map((n) => [n, n])) as Record<OptimizerScalarName, string>;
  const { p, m, v, g: grad, e } = OPTIMIZER_STATE;
  const mul = (a: string, b: string) => g.op('Mul', [a, b]);
  // m' = m - m a1 + g a1 (the kernel's lerp)
  const mNew = g.op('Add', [g.op('Sub', [m, mul(m, s.a1)]), mul(grad, s.a1)], {}, 'm_new');
  const g2 = mul(grad, grad);
  let vNew: string;
  let step: string;
  if (kind === 'adam_atan2') {
    vNew = g.op('Add', [g.op('Sub', [v, mul(v, s.a2)]), mul(g2, s.a2)], {}, 'v_new');
    const den = g.op('Div', [g.op('Sqrt', [vNew]), s.bc2Sqrt]);
    step = mul(s.lr, atan2NonNegative(g, mul(mNew, s.bc1Reciprocal), den));
  } else {
    vNew = g.op('Add', [mul(v, s.beta2), mul(g2, s.a2)], {}, 'v_new');
    const den = g.op('Add', [g.op('Div', [g.op('Sqrt', [vNew]), s.bc2Sqrt]), s.eps]);
    step = mul(g.op('Div', [mNew, den]), s.stepSize);
  }
  const pNew = g.op('Sub', [mul(p, s.wdAlpha), step], {}, 'p_new');
  const N = 'n';
  const vec = (name: string): ValueInfoMsg => ({ name, elemType: DataType.FLOAT, shape: [N] });
  const outputs: ValueInfoMsg[] = [];
  const output = (value: string, name: string) => {
    g.node('Identity', [value], {}, { outputs: [name] });
    outputs.push(vec(name));
  };
  output(pNew, OPTIMIZER_OUTPUTS.p);
  output(mNew, OPTIMIZER_OUTPUTS.m);
  output(vNew, OPTIMIZER_OUTPUTS.v);
  const used: OptimizerScalarName[] =
    kind === 'adam_atan2'
      ? ['lr', 'wdAlpha', 'a1', 'a2', 'bc1Reciprocal', 'bc2Sqrt']
      : ['wdAlpha', 'a1', 'a2', 'beta2', 'bc2Sqrt', 'stepSize', 'eps'];
  if (ema) {
    // e' = p' (1 - rate) + e rate
    const rest = g.op('Sub', [g.scalar(1), s.emaRate]);
    output(g.op('Add', [mul(pNew, rest), mul(e, s.emaRate)], {}, 'e_new'), OPTIMIZER_OUTPUTS.e);
    used.push('emaRate');
  }
  const inputs: ValueInfoMsg[] = [
    vec(p),
    vec(m),
    vec(v),
    vec(grad),
    ...(ema ? [vec(e)] : []),
    ...used.map((name): ValueInfoMsg => ({ name, elemType: DataType.FLOAT, shape: [] })),
  ];
  return { builder: g, inputs, outputs };
}
