// Reverse-mode automatic differentiation over a GraphBuilder: appends to the graph the nodes that compute the
// gradient of a scalar with respect to chosen values, in standard ONNX ops (ORT's training kernels are not in its
// released binaries). Each op's rule is written in terms of the forward values it needs; gradients of values
// used several times are summed. Values marked with GraphBuilder.stopGradient, integer and boolean values, and
// everything that does not depend on the chosen values get no gradient.
import type { GraphBuilder } from '../onnx/graph-builder.js';
import { DataType, type NodeMsg } from '../onnx/onnx-proto.js';
import { parseSymbol, type Shape, ShapeError, type ShapeTable } from './shapes.js';

export interface GradientOptions {
  /**
   * For each symbolic dimension of the shapes (e.g. 'batch'), a 1-D int64 value [1] holding its size at run time;
   * needed where a gradient must be broadcast back to a shape that has the symbol.
   */
  symbols?: Record<string, string>;
  /** the gradient of `loss` to start from (default: the constant 1; `loss` must then be a scalar) */
  seed?: string;
}

/** What a rule sees: the builder, the value types, and helpers that know the run-time shapes. */
export interface RuleContext {
  g: GraphBuilder;
  shapes: ShapeTable;
  /** sums `grad` (whose shape is `from`) down to the shape `to` that was broadcast to `from` */
  unbroadcast(grad: string, from: Shape, to: Shape): string;
  /** a 1-D int64 value holding `shape` at run time */
  shapeValue(shape: Shape): string;
  /** a zero tensor of `shape` (float32 unless `dtype` says otherwise) */
  zeros(shape: Shape, dtype?: number): string;
  /** a scalar constant of the floating type of the value `like` (float32 or float16) */
  scalarLike(value: number, like: string): string;
  /** `v` broadcast to `shape` (which may hold symbols), as a new value of that shape */
  expand(v: string, shape: Shape): string;
}

/** A rule returns one gradient per input of the node (null: none, or the input does not need one). */
export type GradientRule = (
  node: NodeMsg,
  gradOut: (string | null)[],
  needs: boolean[],
  x: RuleContext,
) => (string | null)[];

const FLOAT_TYPES = new Set<number>([DataType.FLOAT, DataType.FLOAT16, DataType.BFLOAT16]);

/**
 * Appends the gradient of the scalar `loss` with respect to each value of `wrt` and returns their names (a value
 * that `loss` does not depend on gets a zero tensor). Rules come from RULES (see rules.ts).
 */
export function addGradients(
  g: GraphBuilder,
  shapes: ShapeTable,
  loss: string,
  wrt: readonly string[],
  rules: Readonly<Record<string, GradientRule>>,
  options: GradientOptions = {},
): Record<string, string> {
  const forward = g.nodes.slice();
  const x = context(g, shapes, options.symbols ?? {});
  const isFloat = (v: string) => FLOAT_TYPES.has(shapes.get(v).dtype);

  // Values that depend on a wrt value through differentiable paths.
  const depends = new Set<string>(wrt);
  for (const node of forward) {
    if (!node.input.some((i) => depends.has(i))) continue;
    for (const o of node.output) if (!g.noGrad.has(o) && isFloat(o)) depends.add(o);
  }
  if (!depends.has(loss)) throw new Error(`the loss ${loss} does not depend on any of the values differentiated`);

  const grads = new Map<string, string[]>();
  const push = (v: string, gv: string) => {
    const list = grads.get(v);
    if (list) list.push(gv);
    else grads.set(v, [gv]);
  };
  // The sum of the contributions so far, collapsed into one value (so each is summed once).
  const total = (v: string): string | null => {
    const list = grads.get(v);
    if (!list || list.length === 0) return null;
    if (list.length === 1) return list[0]!;
    const sum = g.op('Sum', list, {}, 'grad_sum');
    grads.set(v, [sum]);
    return sum;
  };
  if (options.seed) push(loss, options.seed);
  else {
    if (shapes.shape(loss).length !== 0) throw new Error(`the loss ${loss} must be a scalar (or pass a seed)`);
    push(loss, g.scalar(1));
  }

  for (let k = forward.length - 1; k >= 0; k--) {
    const node = forward[k]!;
    const needs = node.input.map((i) => i !== '' && depends.has(i));
    if (!needs.some(Boolean)) continue;
    const gradOut = node.output.map((o) => (depends.has(o) ? total(o) : null));
    if (gradOut.every((gv) => gv === null)) continue;
    const rule = rules[node.op_type];
    if (!rule) throw new Error(`no gradient rule for ${node.op_type} (node ${node.name})`);
    let gradIn: (string | null)[];
    try {
      gradIn = rule(node, gradOut, needs, x);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new ShapeError(`gradient of ${node.op_type} ${node.name}: ${why}`);
    }
    node.input.forEach((input, i) => {
      const gi = gradIn[i];
      if (needs[i] && gi) push(input, gi);
    });
  }

  const out: Record<string, string> = {};
  for (const w of wrt) out[w] = total(w) ?? x.zeros(shapes.shape(w), shapes.get(w).dtype);
  return out;
}

function context(g: GraphBuilder, shapes: ShapeTable, symbols: Record<string, string>): RuleContext {
  const shapeValue = (shape: Shape): string => {
    if (shape.every((d) => typeof d === 'number')) return g.ints(shape as number[]);
    const parts = shape.map((d) => {
      if (typeof d === 'number') return g.ints([d]);
      const { name, k } = parseSymbol(d);
      const s = symbols[name];
      if (!s) throw new ShapeError(`no run-time value given for the dimension '${name}'`);
      return k === 1 ? s : g.op('Mul', [s, g.ints([k])], {}, 'shape');
    });
    return g.op('Concat', parts, { axis: 0 }, 'shape');
  };
  const unbroadcast = (grad: string, from: Shape, to: Shape): string => {
    const offset = from.length - to.length;
    const axes: number[] = [];
    for (let i = 0; i < from.length; i++) {
      const t = i < offset ? undefined : to[i - offset];
      if (t === undefined || (t === 1 && from[i] !== 1)) axes.push(i);
      else if (t !== from[i]) throw new ShapeError(`cannot sum [${from}] down to [${to}]`);
    }
    if (axes.length === 0) return grad;
    const summed = g.op('ReduceSum', [grad, g.ints(axes)], { keepdims: 1 }, 'grad');
    if (offset === 0) return summed;
    return g.op('Reshape', [summed, shapeValueForReshape(to)], {}, 'grad');
  };
  // Reshape takes one -1: a single symbol becomes -1 and needs no run-time value.
  const shapeValueForReshape = (shape: Shape): string => {
    const symbolic = shape.filter((d) => typeof d !== 'number');
    if (symbolic.length === 1) return g.ints(shape.map((d) => (typeof d === 'number' ? d : -1)));
    return shapeValue(shape);
  };
  const expand = (v: string, shape: Shape): string => {
    const target = shapeValue(shape);
    const dtype = shapes.get(v).dtype;
    const out = g.op('Expand', [v, target], {}, 'grad');
    shapes.declare(out, { shape, dtype });
    return out;
  };
  const scalarLike = (value: number, like: string): string =>
    g.scalar(value, shapes.get(like).dtype === DataType.FLOAT16 ? DataType.FLOAT16 : DataType.FLOAT);
  const zeros = (shape: Shape, dtype: number = DataType.FLOAT): string =>
    expand(g.scalar(0, dtype === DataType.FLOAT16 ? DataType.FLOAT16 : DataType.FLOAT), shape);
  return { g, shapes, unbroadcast, shapeValue, zeros, scalarLike, expand };
}

/** The 1-D int64 value for Reshape to `shape` (one symbolic dimension becomes -1). */
export function reshapeTarget(x: RuleContext, shape: Shape): string {
  const symbolic = shape.filter((d) => typeof d !== 'number');
  if (symbolic.length === 1) return x.g.ints(shape.map((d) => (typeof d === 'number' ? d : -1)));
  return x.shapeValue(shape);
}
