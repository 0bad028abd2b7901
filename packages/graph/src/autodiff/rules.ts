// Gradient rules, one per ONNX op the TRM graphs differentiate, in standard ONNX ops. Each returns the gradient of
// every input that needs one, with the input's shape (broadcasting is undone with RuleContext.unbroadcast).
import type { NodeMsg } from '../onnx/onnx-proto.js';
import { DataType } from '../onnx/onnx-proto.js';
import { type GradientRule, type RuleContext, reshapeTarget } from './gradients.js';
import { ShapeError } from './shapes.js';

const shapeOf = (x: RuleContext, v: string) => x.shapes.shape(v);

function intAttr(node: NodeMsg, name: string, fallback: number): number {
  const a = node.attribute.find((t) => t.name === name);
  return a?.i !== undefined ? Number(a.i) : fallback;
}

function intsAttr(node: NodeMsg, name: string): number[] | undefined {
  return node.attribute.find((t) => t.name === name)?.ints?.map(Number);
}

/** Gradient of an input broadcast into the output: gy summed back to the input's shape. */
function back(x: RuleContext, node: NodeMsg, gy: string, i: number): string {
  return x.unbroadcast(gy, shapeOf(x, node.output[0]!), shapeOf(x, node.input[i]!));
}

/** Whether `v` is a float32 or float16 constant of ones. */
function isOnes(x: RuleContext, v: string): boolean {
  const t = x.g.initializerOf(v);
  if (!t) return false;
  const bytes = t.raw_data;
  if (t.data_type === DataType.FLOAT) {
    const f = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < bytes.byteLength; i += 4) if (f.getFloat32(i, true) !== 1) return false;
    return true;
  }
  if (t.data_type === DataType.FLOAT16) {
    const f = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < bytes.byteLength; i += 2) if (f.getUint16(i, true) !== 0x3c00) return false;
    return true;
  }
  return false;
}

/** Swaps the last two axes. */
function swapLast(x: RuleContext, v: string): string {
  const r = shapeOf(x, v).length;
  const perm = Array.from({ length: r }, (_, i) => i);
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return x.g.op('Transpose', [v], { perm }, 'grad_t');
}

function reduceBack(node: NodeMsg, gy: string, x: RuleContext, mean: boolean): string {
  const { g } = x;
  const inShape = shapeOf(x, node.input[0]!);
  const rank = inShape.length;
  const axes = node.input[1]
    ? g.constInts(node.input[1])!.map((a) => (a < 0 ? a + rank : a))
    : inShape.map((_, i) => i);
  const kept = inShape.map((d, i) => (axes.includes(i) ? 1 : d));
  let grad = intAttr(node, 'keepdims', 1) ? gy : g.op('Reshape', [gy, reshapeTarget(x, kept)], {}, 'grad');
  if (mean) {
    let n = 1;
    for (const a of axes) {
      const d = inShape[a];
      if (typeof d !== 'number') throw new ShapeError('ReduceMean over a symbolic axis');
      n *= d;
    }
    grad = g.op('Mul', [grad, x.scalarLike(1 / n, gy)], {}, 'grad');
  }
  return x.expand(grad, inShape);
}

export const RULES: Readonly<Record<string, GradientRule>> = {
  Identity: (_n, [gy]) => [gy!],
  Add: (n, [gy], needs, x) => [needs[0] ? back(x, n, gy!, 0) : null, needs[1] ? back(x, n, gy!, 1) : null],
  Sub: (n, [gy], needs, x) => [
    needs[0] ? back(x, n, gy!, 0) : null,
    needs[1] ? back(x, n, x.g.op('Neg', [gy!], {}, 'grad'), 1) : null,
  ],
  Sum: (n, [gy], needs, x) => n.input.map((_, i) => (needs[i] ? back(x, n, gy!, i) : null)),
  Mul: (n, [gy], needs, x) => {
    const [a, b] = n.input as [string, string];
    return [
      needs[0] ? back(x, n, x.g.op('Mul', [gy!, b], {}, 'grad'), 0) : null,
      needs[1] ? back(x, n, x.g.op('Mul', [gy!, a], {}, 'grad'), 1) : null,
    ];
  },
  Div: (n, [gy], needs, x) => {
    const { g } = x;
    const b = n.input[1]!;
    const y = n.output[0]!;
    return [
      needs[0] ? back(x, n, g.op('Div', [gy!, b], {}, 'grad'), 0) : null,
      needs[1] ? back(x, n, g.op('Neg', [g.op('Div', [g.op('Mul', [gy!, y]), b])], {}, 'grad'), 1) : null,
    ];
  },
  Neg: (_n, [gy], _needs, x) => [x.g.op('Neg', [gy!], {}, 'grad')],
  Pow: (n, [gy], needs, x) => {
    const { g } = x;
    if (needs[1]) throw new ShapeError('Pow: the exponent must be a constant');
    const p = g.constFloats(n.input[1]!);
    if (p?.length !== 1) throw new ShapeError('Pow: the exponent must be a float32 scalar constant');
    const base = n.input[0]!;
    const e = p[0]!;
    const c = (v: number) => x.scalarLike(v, base);
    const d = e === 2 ? g.op('Mul', [base, c(2)]) : g.op('Mul', [g.op('Pow', [base, g.scalar(e - 1)]), c(e)]);
    return [g.op('Mul', [gy!, d], {}, 'grad'), null];
  },
  Sqrt: (n, [gy], _needs, x) => {
    const y = n.output[0]!;
    return [x.g.op('Div', [gy!, x.g.op('Mul', [y, x.scalarLike(2, y)])], {}, 'grad')];
  },
  Exp: (n, [gy], _needs, x) => [x.g.op('Mul', [gy!, n.output[0]!], {}, 'grad')],
  Log: (n, [gy], _needs, x) => [x.g.op('Div', [gy!, n.input[0]!], {}, 'grad')],
  Abs: (n, [gy], _needs, x) => [x.g.op('Mul', [gy!, x.g.op('Sign', [n.input[0]!])], {}, 'grad')],
  Relu: (n, [gy], _needs, x) => {
    const { g } = x;
    const a = n.input[0]!;
    return [g.op('Where', [g.op('Greater', [a, x.scalarLike(0, a)]), gy!, x.scalarLike(0, gy!)], {}, 'grad')];
  },
  Sigmoid: (n, [gy], _needs, x) => {
    const { g } = x;
    const y = n.output[0]!;
    return [g.op('Mul', [gy!, g.op('Mul', [y, g.op('Sub', [x.scalarLike(1, y), y])])], {}, 'grad')];
  },
  QuickGelu: (n, [gy], _needs, x) => {
    // y = v * s with s = sigmoid(alpha v): dy/dv = s (1 + alpha v (1 - s)) = s (1 + alpha (v - y)); s is recomputed
    // (one pass) rather than kept from the forward, which computes y in one kernel.
    const { g } = x;
    const v = n.input[0]!;
    const y = n.output[0]!;
    const alphaAttr = n.attribute.find((a) => a.name === 'alpha');
    const alpha = alphaAttr?.f ?? 1.702;
    const s = g.op('Sigmoid', [alpha === 1 ? v : g.op('Mul', [v, x.scalarLike(alpha, v)])], {}, 'grad');
    let t = g.op('Sub', [v, y], {}, 'grad');
    if (alpha !== 1) t = g.op('Mul', [t, x.scalarLike(alpha, v)], {}, 'grad');
    const d = g.op('Mul', [s, g.op('Add', [t, x.scalarLike(1, v)], {}, 'grad')], {}, 'grad');
    return [g.op('Mul', [gy!, d], {}, 'grad')];
  },
  SimplifiedLayerNormalization: (n, [gy], needs, x) => {
    // y = v * r over the last axis, r = 1 / sqrt(mean(v^2) + eps) (the op's second output, float32), scale 1:
    // dv = r (gy - y mean(gy y)).
    const { g } = x;
    if (needs[1]) throw new ShapeError('SimplifiedLayerNormalization: the scale gets no gradient');
    const [v, scale] = n.input as [string, string];
    if (!isOnes(x, scale))
      throw new ShapeError('SimplifiedLayerNormalization: only a scale of ones (a gain-free norm)');
    const rank = shapeOf(x, v).length;
    const axis = intAttr(n, 'axis', -1);
    if (axis !== -1 && axis !== rank - 1) throw new ShapeError('SimplifiedLayerNormalization: only the last axis');
    const [y, r] = n.output as [string, string | undefined];
    if (!r) throw new ShapeError('SimplifiedLayerNormalization: its inv_std_var output must be kept for the gradient');
    const dtype = x.shapes.get(y).dtype;
    const rc = x.shapes.get(r).dtype === dtype ? r : g.op('Cast', [r], { to: dtype }, 'grad');
    const dot = g.op('ReduceMean', [g.op('Mul', [gy!, y], {}, 'grad'), g.ints([-1])], { keepdims: 1 }, 'grad');
    const centred = g.op('Sub', [gy!, g.op('Mul', [y, dot], {}, 'grad')], {}, 'grad');
    return [g.op('Mul', [centred, rc], {}, 'grad'), null];
  },
  Softmax: (n, [gy], _needs, x) => {
    const { g } = x;
    const y = n.output[0]!;
    const axis = intAttr(n, 'axis', -1);
    const dot = g.op('ReduceSum', [g.op('Mul', [gy!, y]), g.ints([axis])], { keepdims: 1 });
    return [g.op('Mul', [y, g.op('Sub', [gy!, dot])], {}, 'grad')];
  },
  MatMul: (n, [gy], needs, x) => {
    const { g } = x;
    const [a, b] = n.input as [string, string];
    const sa = shapeOf(x, a);
    const sb = shapeOf(x, b);
    let ga: string | null = null;
    let gb: string | null = null;
    if (needs[0]) {
      const full = g.op('MatMul', [gy!, swapLast(x, b)], {}, 'grad');
      const fullShape = [...shapeOf(x, n.output[0]!).slice(0, -2), sa.at(-2)!, sa.at(-1)!];
      ga = x.unbroadcast(full, fullShape, sa);
    }
    if (needs[1]) {
      if (sb.length === 2 && sa.length > 2) {
        // A weight on the right: one GEMM over the flattened batch instead of a batched product and a sum.
        const k = sa.at(-1)!;
        const m = sb.at(-1)!;
        const a2 = g.op('Reshape', [a, g.ints([-1, k as number])]);
        const g2 = g.op('Reshape', [gy!, g.ints([-1, m as number])]);
        gb = g.op('Gemm', [a2, g2], { transA: 1 }, 'grad');
      } else if (sb.length === 2 && sa.length === 2) {
        gb = g.op('Gemm', [a, gy!], { transA: 1 }, 'grad');
      } else {
        const full = g.op('MatMul', [swapLast(x, a), gy!], {}, 'grad');
        const fullShape = [...shapeOf(x, n.output[0]!).slice(0, -2), sb.at(-2)!, sb.at(-1)!];
        gb = x.unbroadcast(full, fullShape, sb);
      }
    }
    return [ga, gb];
  },
  Gemm: (n, [gy], needs, x) => {
    // Only the plain form (no transposes, alpha = beta = 1, no C) is differentiated.
    const { g } = x;
    if (intAttr(n, 'transA', 0) || intAttr(n, 'transB', 0) || n.input.length > 2)
      throw new ShapeError('Gemm: only A x B without transposes or C is differentiated');
    const [a, b] = n.input as [string, string];
    return [
      needs[0] ? g.op('Gemm', [gy!, b], { transB: 1 }, 'grad') : null,
      needs[1] ? g.op('Gemm', [a, gy!], { transA: 1 }, 'grad') : null,
    ];
  },
  ReduceSum: (n, [gy], _needs, x) => [reduceBack(n, gy!, x, false), null],
  ReduceMean: (n, [gy], _needs, x) => [reduceBack(n, gy!, x, true), null],
  Transpose: (n, [gy], _needs, x) => {
    const rank = shapeOf(x, n.input[0]!).length;
    const perm = intsAttr(n, 'perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
    const inverse = new Array<number>(rank);
    perm.forEach((p, i) => {
      inverse[p] = i;
    });
    return [x.g.op('Transpose', [gy!], { perm: inverse }, 'grad')];
  },
  Reshape: (n, [gy], _needs, x) => [
    x.g.op('Reshape', [gy!, reshapeTarget(x, shapeOf(x, n.input[0]!))], {}, 'grad'),
    null,
  ],
  Unsqueeze: (n, [gy], _needs, x) => [
    x.g.op('Reshape', [gy!, reshapeTarget(x, shapeOf(x, n.input[0]!))], {}, 'grad'),
    null,
  ],
  Squeeze: (n, [gy], _needs, x) => [
    x.g.op('Reshape', [gy!, reshapeTarget(x, shapeOf(x, n.input[0]!))], {}, 'grad'),
    null,
  ],
  Expand: (n, [gy], _needs, x) => [back(x, n, gy!, 0), null],
  Cast: (n, [gy], _needs, x) => [x.g.op('Cast', [gy!], { to: x.shapes.get(n.input[0]!).dtype }, 'grad')],
  Split: (n, gys, _needs, x) => {
    const { g } = x;
    const parts = n.output.map((o, i) => gys[i] ?? x.zeros(shapeOf(x, o), x.shapes.get(o).dtype));
    return [g.op('Concat', parts, { axis: intAttr(n, 'axis', 0) }, 'grad'), null];
  },
  Concat: (n, [gy], needs, x) => {
    const { g } = x;
    const rank = shapeOf(x, n.input[0]!).length;
    const axisAttr = intAttr(n, 'axis', 0);
    const axis = axisAttr < 0 ? axisAttr + rank : axisAttr;
    let start = 0;
    return n.input.map((v, i) => {
      const size = shapeOf(x, v)[axis] as number;
      const from = start;
      start += size;
      if (!needs[i]) return null;
      return g.op('Slice', [gy!, g.ints([from]), g.ints([from + size]), g.ints([axis])], {}, 'grad');
    });
  },
  Slice: (n, [gy], _needs, x) => {
    const { g } = x;
    const inShape = shapeOf(x, n.input[0]!);
    const { starts, ends, axes } = x.shapes.sliceParams(n, inShape);
    const r = inShape.length;
    const pads = new Array<number>(2 * r).fill(0);
    axes.forEach((ax, i) => {
      pads[ax] = starts[i]!;
      pads[ax + r] = (inShape[ax] as number) - ends[i]!;
    });
    return [g.op('Pad', [gy!, g.ints(pads)], {}, 'grad'), null, null, null, null];
  },
  Pad: (n, [gy], _needs, x) => {
    const { g } = x;
    const mode = n.attribute.find((a) => a.name === 'mode');
    if (mode?.s && new TextDecoder().decode(mode.s) !== 'constant') throw new ShapeError('Pad: only constant mode');
    const pads = g.constInts(n.input[1]!);
    if (!pads || pads.some((p) => p < 0)) throw new ShapeError('Pad: pads must be a non-negative constant');
    const inShape = shapeOf(x, n.input[0]!);
    const r = inShape.length;
    const axes: number[] = [];
    const starts: number[] = [];
    const ends: number[] = [];
    for (let i = 0; i < r; i++) {
      if (pads[i] === 0 && pads[i + r] === 0) continue;
      axes.push(i);
      starts.push(pads[i]!);
      ends.push(pads[i]! + (inShape[i] as number));
    }
    return [g.op('Slice', [gy!, g.ints(starts), g.ints(ends), g.ints(axes)], {}, 'grad'), null];
  },
  Gather: (n, [gy], needs, x) => {
    // An embedding lookup: data [V, D] by integer indices. The gradient adds each row's gradients into the
    // looked-up row, as one-hot(indices)^T x gy.
    const { g } = x;
    if (needs[1]) throw new ShapeError('Gather: indices get no gradient');
    const data = shapeOf(x, n.input[0]!);
    if (intAttr(n, 'axis', 0) !== 0 || data.length !== 2) throw new ShapeError('Gather: only axis 0 of a matrix');
    const [V, D] = data as [number, number];
    let idx = n.input[1]!;
    if (x.shapes.get(idx).dtype !== DataType.INT64) idx = g.op('Cast', [idx], { to: DataType.INT64 });
    const flat = g.op('Reshape', [idx, g.ints([-1, 1])]);
    const range = g.ints(
      Array.from({ length: V }, (_, i) => i),
      'range',
    );
    const oneHot = g.op('Cast', [g.op('Equal', [flat, range])], { to: x.shapes.get(gy!).dtype }, 'one_hot');
    const rows = g.op('Reshape', [gy!, g.ints([-1, D])]);
    return [g.op('Gemm', [oneHot, rows], { transA: 1 }, 'grad'), null];
  },
  Where: (n, [gy], needs, x) => {
    const { g } = x;
    const c = n.input[0]!;
    const zero = x.scalarLike(0, gy!);
    return [
      null,
      needs[1] ? back(x, n, g.op('Where', [c, gy!, zero], {}, 'grad'), 1) : null,
      needs[2] ? back(x, n, g.op('Where', [c, zero, gy!], {}, 'grad'), 2) : null,
    ];
  },
};
