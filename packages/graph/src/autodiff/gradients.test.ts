// Gradient rules against finite differences, op by op, on ONNX Runtime's CPU provider: for a small graph
// f(inputs) -> scalar, the directional derivative <grad, v> along random directions equals the central difference
// (f(x + eps v) - f(x - eps v)) / 2 eps. float32 arithmetic: agreement within 2e-3 relative.
import { Rng } from '@trm/core';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { IR_VERSION, OPSET } from '../contract.js';
import { GraphBuilder } from '../onnx/graph-builder.js';
import { DataType, encodeModel } from '../onnx/onnx-proto.js';
import { differentiate } from './differentiate.js';
import { type Shape, ShapeTable } from './shapes.js';

interface Case {
  name: string;
  /** float inputs (differentiated) and their shapes; 'batch' dims are 3 at run time */
  inputs: Record<string, number[]>;
  /** builds the function; returns a tensor that is reduced against a fixed random weighting */
  build: (g: GraphBuilder, i: Record<string, string>) => string;
  /** keeps inputs positive (Sqrt, Log, Pow) */
  positive?: boolean;
  /** also a bool input 'c' of this shape */
  cond?: number[];
  /** also an int64 input 'idx' of this shape with values < the given bound */
  indices?: { shape: number[]; bound: number };
}

const CASES: Case[] = [
  { name: 'Add (broadcast)', inputs: { a: [2, 3, 4], b: [4] }, build: (g, i) => g.op('Add', [i.a!, i.b!]) },
  { name: 'Sub (broadcast)', inputs: { a: [3, 1], b: [2, 3, 4] }, build: (g, i) => g.op('Sub', [i.a!, i.b!]) },
  { name: 'Mul (broadcast)', inputs: { a: [2, 3, 4], b: [1, 3, 1] }, build: (g, i) => g.op('Mul', [i.a!, i.b!]) },
  {
    name: 'Div',
    inputs: { a: [2, 3], b: [2, 3] },
    positive: true,
    build: (g, i) => g.op('Div', [i.a!, i.b!]),
  },
  { name: 'Neg', inputs: { a: [5] }, build: (g, i) => g.op('Neg', [i.a!]) },
  { name: 'Pow 2', inputs: { a: [2, 5] }, build: (g, i) => g.op('Pow', [i.a!, g.scalar(2)]) },
  { name: 'Pow 3', inputs: { a: [2, 5] }, positive: true, build: (g, i) => g.op('Pow', [i.a!, g.scalar(3)]) },
  { name: 'Sqrt', inputs: { a: [6] }, positive: true, build: (g, i) => g.op('Sqrt', [i.a!]) },
  { name: 'Exp', inputs: { a: [6] }, build: (g, i) => g.op('Exp', [i.a!]) },
  { name: 'Log', inputs: { a: [6] }, positive: true, build: (g, i) => g.op('Log', [i.a!]) },
  { name: 'Abs', inputs: { a: [6] }, build: (g, i) => g.op('Abs', [i.a!]) },
  { name: 'Relu', inputs: { a: [6] }, build: (g, i) => g.op('Relu', [i.a!]) },
  { name: 'Sigmoid', inputs: { a: [2, 6] }, build: (g, i) => g.op('Sigmoid', [i.a!]) },
  { name: 'Softmax', inputs: { a: [2, 3, 5] }, build: (g, i) => g.op('Softmax', [i.a!], { axis: -1 }) },
  {
    name: 'MatMul (batched x matrix)',
    inputs: { a: [2, 3, 4], b: [4, 5] },
    build: (g, i) => g.op('MatMul', [i.a!, i.b!]),
  },
  {
    name: 'MatMul (matrix x batched)',
    inputs: { a: [5, 3], b: [2, 3, 4] },
    build: (g, i) => g.op('MatMul', [i.a!, i.b!]),
  },
  {
    name: 'MatMul (batched x batched)',
    inputs: { a: [2, 2, 3, 4], b: [2, 2, 4, 3] },
    build: (g, i) => g.op('MatMul', [i.a!, i.b!]),
  },
  { name: 'Gemm', inputs: { a: [3, 4], b: [4, 2] }, build: (g, i) => g.op('Gemm', [i.a!, i.b!]) },
  {
    name: 'ReduceMean (keepdims)',
    inputs: { a: [2, 3, 4] },
    build: (g, i) => g.op('ReduceMean', [i.a!, g.ints([1])], { keepdims: 1 }),
  },
  {
    name: 'ReduceSum (no keepdims)',
    inputs: { a: [2, 3, 4] },
    build: (g, i) => g.op('ReduceSum', [i.a!, g.ints([-1])], { keepdims: 0 }),
  },
  {
    name: 'Transpose',
    inputs: { a: [2, 3, 4] },
    build: (g, i) => g.op('Transpose', [i.a!], { perm: [2, 0, 1] }),
  },
  { name: 'Reshape', inputs: { a: [2, 3, 4] }, build: (g, i) => g.op('Reshape', [i.a!, g.ints([0, 12])]) },
  {
    name: 'Concat',
    inputs: { a: [2, 3], b: [2, 4] },
    build: (g, i) => g.op('Concat', [i.a!, i.b!], { axis: 1 }),
  },
  {
    name: 'Split (one part used twice, one unused)',
    inputs: { a: [2, 7] },
    build: (g, i) => {
      const [p, , r] = g.node('Split', [i.a!, g.ints([2, 3, 2])], { axis: 1 }, { outputs: 3 }) as string[];
      return g.op('Concat', [p!, r!, p!], { axis: 1 });
    },
  },
  {
    name: 'Slice',
    inputs: { a: [2, 6, 3] },
    build: (g, i) => g.op('Slice', [i.a!, g.ints([1]), g.ints([4]), g.ints([1])]),
  },
  { name: 'Pad', inputs: { a: [2, 3] }, build: (g, i) => g.op('Pad', [i.a!, g.ints([0, 1, 0, 2])]) },
  {
    name: 'Gather (embedding)',
    inputs: { a: [5, 3] },
    indices: { shape: [2, 4], bound: 5 },
    build: (g, i) => g.op('Gather', [i.a!, 'idx'], { axis: 0 }),
  },
  {
    name: 'Where',
    inputs: { a: [2, 3], b: [3] },
    cond: [2, 3],
    build: (g, i) => g.op('Where', ['c', i.a!, i.b!]),
  },
  {
    name: 'Cast round trip',
    inputs: { a: [4] },
    build: (g, i) => g.op('Cast', [g.op('Cast', [i.a!], { to: DataType.FLOAT })], { to: DataType.FLOAT }),
  },
  {
    name: 'Expand',
    inputs: { a: [3, 1] },
    build: (g, i) => g.op('Expand', [i.a!, g.ints([2, 3, 4])]),
  },
  {
    name: 'Unsqueeze',
    inputs: { a: [3, 4] },
    build: (g, i) => g.op('Unsqueeze', [i.a!, g.ints([1])]),
  },
  {
    name: 'batch dimension (RMSNorm over the last axis)',
    inputs: { a: [-1, 3, 8] },
    build: (g, i) => {
      const mean = g.op('ReduceMean', [g.op('Pow', [i.a!, g.scalar(2)]), g.ints([-1])], { keepdims: 1 });
      return g.op('Div', [i.a!, g.op('Sqrt', [g.op('Add', [mean, g.scalar(1e-5)])])]);
    },
  },
];

const BATCH = 3;
const realShape = (s: number[]) => s.map((d) => (d === -1 ? BATCH : d));
const count = (s: number[]) => realShape(s).reduce((a, b) => a * b, 1);

async function checkCase(c: Case, rng: Rng): Promise<{ analytic: number; numeric: number }[]> {
  const g = new GraphBuilder();
  const inputs: Record<string, string> = {};
  const types: Record<string, { shape: Shape; dtype: 1 | 9 | 7 }> = {};
  for (const [name, shape] of Object.entries(c.inputs)) {
    inputs[name] = name;
    types[name] = { shape: shape.map((d) => (d === -1 ? 'batch' : d)), dtype: DataType.FLOAT };
  }
  if (c.cond) types.c = { shape: c.cond, dtype: DataType.BOOL };
  if (c.indices) types.idx = { shape: c.indices.shape, dtype: DataType.INT64 };
  const y = c.build(g, inputs);
  const shapes = new ShapeTable(g, types);
  // The weighting broadcasts over the batch dimension.
  const yShape = shapes.shape(y).map((d) => (typeof d === 'number' ? d : 1));
  const weights = Float32Array.from({ length: yShape.reduce((a, b) => a * b, 1) }, () => rng.random() * 2 - 1);
  const w = g.initializer('w', yShape, DataType.FLOAT, weights);
  const loss = g.op('ReduceSum', [g.op('Mul', [y, w])], { keepdims: 0 });
  const symbols: Record<string, string> = {};
  const firstBatch = Object.entries(c.inputs).find(([, s]) => s.includes(-1));
  if (firstBatch) {
    const axis = firstBatch[1].indexOf(-1);
    symbols.batch = g.op('Slice', [g.op('Shape', [firstBatch[0]]), g.ints([axis]), g.ints([axis + 1])]);
  }
  const grads = differentiate(g, shapes, loss, Object.keys(c.inputs), { symbols });
  const names = Object.keys(c.inputs);
  const model = encodeModel({
    irVersion: IR_VERSION,
    opsets: [{ domain: '', version: OPSET }],
    producerName: 'test',
    producerVersion: '0',
    graphName: 'g',
    nodes: g.nodes,
    initializers: g.initializers,
    inputs: [
      ...names.map((n) => ({ name: n, elemType: DataType.FLOAT, shape: types[n]!.shape })),
      ...(c.cond ? [{ name: 'c', elemType: DataType.BOOL, shape: c.cond }] : []),
      ...(c.indices ? [{ name: 'idx', elemType: DataType.INT64, shape: c.indices.shape }] : []),
    ],
    outputs: [
      { name: loss, elemType: DataType.FLOAT, shape: [] },
      ...names.map((n) => ({ name: grads[n]!, elemType: DataType.FLOAT, shape: types[n]!.shape })),
    ],
    metadata: {},
  });
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'disabled',
  });
  const values: Record<string, Float32Array> = {};
  for (const n of names)
    values[n] = Float32Array.from({ length: count(c.inputs[n]!) }, () =>
      c.positive ? 0.5 + rng.random() : rng.random() * 2 - 1,
    );
  const extra: Record<string, ort.Tensor> = {};
  if (c.cond)
    extra.c = new ort.Tensor(
      'bool',
      Uint8Array.from({ length: count(c.cond) }, () => (rng.random() < 0.5 ? 1 : 0)),
      c.cond,
    );
  if (c.indices) {
    const b = c.indices.bound;
    extra.idx = new ort.Tensor(
      'int64',
      BigInt64Array.from({ length: count(c.indices.shape) }, (_, k) =>
        BigInt(k % 3 === 0 ? 1 : Math.floor(rng.random() * b)),
      ),
      c.indices.shape,
    );
  }
  const run = async (vals: Record<string, Float32Array>) => {
    const feeds: Record<string, ort.Tensor> = { ...extra };
    for (const n of names) feeds[n] = new ort.Tensor('float32', vals[n]!, realShape(c.inputs[n]!));
    return session.run(feeds);
  };
  const base = await run(values);
  const out: { analytic: number; numeric: number }[] = [];
  for (let trial = 0; trial < 3; trial++) {
    const dir: Record<string, Float32Array> = {};
    let analytic = 0;
    for (const n of names) {
      dir[n] = Float32Array.from({ length: values[n]!.length }, () => rng.random() * 2 - 1);
      const gv = base[grads[n]!]!.data as Float32Array;
      expect(gv.length).toBe(values[n]!.length);
      for (let k = 0; k < gv.length; k++) analytic += gv[k]! * dir[n]![k]!;
    }
    const eps = 1e-2;
    const shifted = (sign: number) =>
      Object.fromEntries(names.map((n) => [n, values[n]!.map((v, k) => v + sign * eps * dir[n]![k]!)]));
    const plus = (await run(shifted(1)))[loss]!.data as Float32Array;
    const minus = (await run(shifted(-1)))[loss]!.data as Float32Array;
    out.push({ analytic, numeric: (plus[0]! - minus[0]!) / (2 * eps) });
  }
  await session.release();
  return out;
}

describe('gradient rules against finite differences (ORT CPU, float32)', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const rng = new Rng(7);
      for (const { analytic, numeric } of await checkCase(c, rng)) {
        // Abs and Relu are piecewise linear: a kink within eps of a value is unlikely with these draws.
        expect(Math.abs(analytic - numeric)).toBeLessThanOrEqual(2e-3 * Math.max(1, Math.abs(numeric)));
      }
    });
  }

  it('the stop-gradient case gets the gradient of the direct use only', async () => {
    // d/db [stop(a b) b] = stop(a b): the finite difference sees the path through the stop, the rule must not.
    const g = new GraphBuilder();
    const prod = g.stopGradient(g.op('Mul', ['a', 'b']));
    const loss = g.op('ReduceSum', [g.op('Mul', [prod, 'b'])], { keepdims: 0 });
    const shapes = new ShapeTable(g, {
      a: { shape: [3], dtype: DataType.FLOAT },
      b: { shape: [3], dtype: DataType.FLOAT },
    });
    const grads = differentiate(g, shapes, loss, ['b']);
    const model = encodeModel({
      irVersion: IR_VERSION,
      opsets: [{ domain: '', version: OPSET }],
      producerName: 'test',
      producerVersion: '0',
      graphName: 'g',
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: [
        { name: 'a', elemType: DataType.FLOAT, shape: [3] },
        { name: 'b', elemType: DataType.FLOAT, shape: [3] },
      ],
      outputs: [{ name: grads.b!, elemType: DataType.FLOAT, shape: [3] }],
      metadata: {},
    });
    const s = await ort.InferenceSession.create(model);
    const r = await s.run({
      a: new ort.Tensor('float32', Float32Array.of(1, 2, 3), [3]),
      b: new ort.Tensor('float32', Float32Array.of(4, 5, 6), [3]),
    });
    expect(Array.from(r[grads.b!]!.data as Float32Array)).toEqual([4, 10, 18]);
  });

  it('names the op that has no rule', () => {
    const g = new GraphBuilder();
    const y = g.op('Tanh', ['a']);
    const loss = g.op('ReduceSum', [y], { keepdims: 0 });
    const shapes = new ShapeTable(g, { a: { shape: [3], dtype: DataType.FLOAT } });
    expect(() => differentiate(g, shapes, loss, ['a'])).toThrow(/Tanh/);
  });
});
