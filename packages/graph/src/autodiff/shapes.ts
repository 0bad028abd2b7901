// Static shapes and element types of the values of a graph under construction, for the ops this project writes.
// Reverse-mode differentiation needs them to undo broadcasting (which axes a gradient sums over) and to invert
// reshapes, slices and pads. A dimension is a number or a symbol (the dynamic batch, 'batch'); symbols only ever
// pass through unchanged or broadcast against 1.
import type { GraphBuilder } from '../onnx/graph-builder.js';
import { DataType, type DataTypeId, type Dim, type NodeMsg } from '../onnx/onnx-proto.js';

export type Shape = Dim[];
export interface ValueType {
  shape: Shape;
  dtype: DataTypeId;
}

export class ShapeError extends Error {}

function attr(node: NodeMsg, name: string): number | number[] | undefined {
  const a = node.attribute.find((x) => x.name === name);
  if (!a) return undefined;
  if (a.ints) return a.ints.map(Number);
  if (a.i !== undefined) return Number(a.i);
  return undefined;
}

function intAttr(node: NodeMsg, name: string, fallback: number): number {
  const v = attr(node, name);
  return typeof v === 'number' ? v : fallback;
}

const norm = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

/** Numpy broadcasting of two shapes; a symbol broadcasts only against itself or 1. */
export function broadcastShapes(a: Shape, b: Shape): Shape {
  const rank = Math.max(a.length, b.length);
  const out: Shape = [];
  for (let i = 0; i < rank; i++) {
    const x = a[a.length - rank + i] ?? 1;
    const y = b[b.length - rank + i] ?? 1;
    if (x === y || y === 1) out.push(x);
    else if (x === 1) out.push(y);
    else throw new ShapeError(`cannot broadcast [${a}] with [${b}]`);
  }
  return out;
}

const UNARY_SAME = new Set([
  'Identity',
  'Neg',
  'Sqrt',
  'Exp',
  'Log',
  'Abs',
  'Relu',
  'Sigmoid',
  'Softmax',
  'Reciprocal',
  'Sign',
  'Not',
  'Atan',
  // the fused norm of the inference forms, which a training graph uses where no gradient flows
  'RMSNormalization',
  // com.microsoft x * sigmoid(alpha * x): SiLU at alpha = 1
  'QuickGelu',
]);
const BINARY = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min']);
const COMPARE = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or']);
const REDUCE = new Set(['ReduceMean', 'ReduceSum', 'ReduceMax']);

/** A symbolic dimension 'name' or 'name*k'. */
export function parseSymbol(d: string | number): { name: string; k: number } {
  const [name, k] = String(d).split('*') as [string, string | undefined];
  return { name, k: k === undefined ? 1 : Number(k) };
}

function symbolTimes(name: string, k: number): string {
  return k === 1 ? name : `${name}*${k}`;
}

function product(dims: Shape): number | null {
  let p = 1;
  for (const d of dims) {
    if (typeof d !== 'number') return null;
    p *= d;
  }
  return p;
}

/** Reshape's output shape: a 0 copies the input's dimension, a -1 takes what the others leave of the input. */
function reshaped(input: Shape, target: readonly number[]): Shape {
  const shape: Shape = target.map((d, i) => (d === 0 ? input[i]! : d));
  const minus = shape.indexOf(-1);
  if (minus < 0) return shape;
  const known = product(shape.filter((_, i) => i !== minus));
  const total = product(input);
  if (known !== null && total !== null) {
    shape[minus] = total / known;
    return shape;
  }
  // One symbol (possibly times a number, as 'batch*6'): the -1 takes what the numbers leave of it.
  const cannot = () => new ShapeError(`cannot resolve -1 in [${target}] for [${input}]`);
  const symIn = input.filter((d) => typeof d !== 'number').map(parseSymbol);
  const symOut = shape.filter((d, i) => i !== minus && typeof d !== 'number').map(parseSymbol);
  const numIn = product(input.filter((d) => typeof d === 'number'))!;
  const numOut = product(shape.filter((d, i) => i !== minus && typeof d === 'number'))!;
  if (symIn.length !== 1) throw cannot();
  const inK = symIn[0]!.k * numIn;
  if (symOut.length === 0) {
    if (inK % numOut !== 0) throw cannot();
    shape[minus] = symbolTimes(symIn[0]!.name, inK / numOut);
  } else if (symOut.length === 1 && symOut[0]!.name === symIn[0]!.name) {
    shape[minus] = inK / (symOut[0]!.k * numOut);
  } else throw cannot();
  return shape;
}

/** Keeps the type of every value of a builder, inferring each node's outputs as it is asked for. */
export class ShapeTable {
  private readonly types = new Map<string, ValueType>();
  private inferred = 0;

  constructor(
    private readonly g: GraphBuilder,
    inputs: Record<string, ValueType>,
  ) {
    for (const [name, t] of Object.entries(inputs)) this.types.set(name, t);
  }

  /** Declares the type of a value that no node produces (a graph input added later). */
  declare(name: string, t: ValueType): void {
    this.types.set(name, t);
  }

  /** The type of a value; infers every node added since the last call. */
  get(name: string): ValueType {
    this.catchUp();
    return this.lookup(name);
  }

  private lookup(name: string): ValueType {
    const known = this.types.get(name);
    if (known) return known;
    const init = this.g.initializerOf(name);
    if (init) {
      const t = { shape: init.dims.map(Number), dtype: init.data_type };
      this.types.set(name, t);
      return t;
    }
    throw new ShapeError(`no type known for value ${name}`);
  }

  shape(name: string): Shape {
    return this.get(name).shape;
  }

  private catchUp(): void {
    const nodes = this.g.nodes;
    while (this.inferred < nodes.length) {
      const node = nodes[this.inferred++]!;
      // Declared by whoever built the node (e.g. an Expand to a run-time shape).
      if (node.output.every((o) => this.types.has(o))) continue;
      try {
        const outs = this.infer(node);
        node.output.forEach((o, i) => {
          this.types.set(o, outs[i]!);
        });
      } catch (e) {
        const why = e instanceof Error ? e.message : String(e);
        throw new ShapeError(`${node.op_type} ${node.name} (${node.input.join(', ')}): ${why}`);
      }
    }
  }

  private ints(name: string | undefined, what: string): number[] {
    const v = name ? this.g.constInts(name) : null;
    if (!v) throw new ShapeError(`${what} must be an int64 constant`);
    return v;
  }

  // long: one shape rule per ONNX op the project writes, a flat table read by op name
  private infer(node: NodeMsg): ValueType[] {
    const ins = node.input.map((n) => (n === '' ? null : this.lookup(n)));
    const a = ins[0]!;
    const op = node.op_type;
    if (UNARY_SAME.has(op)) return [{ ...a, dtype: op === 'Not' ? DataType.BOOL : a.dtype }];
    if (op === 'Cast') return [{ shape: a.shape, dtype: intAttr(node, 'to', 1) as DataTypeId }];
    if (op === 'SimplifiedLayerNormalization') {
      // Y like X; inv_std_var keeps the axes before `axis` (the rest 1), in stash_type (float32 unless 1 says so)
      const axis = norm(intAttr(node, 'axis', -1), a.shape.length);
      const stats = a.shape.map((d, i) => (i < axis ? d : 1));
      return [a, { shape: stats, dtype: intAttr(node, 'stash_type', 1) === 1 ? DataType.FLOAT : a.dtype }];
    }
    if (op === 'Shape') return [{ shape: [a.shape.length], dtype: DataType.INT64 }];
    if (op === 'Sum')
      return [{ shape: ins.reduce((acc, t) => broadcastShapes(acc, t!.shape), [] as Shape), dtype: a.dtype }];
    if (BINARY.has(op)) {
      if (op !== 'Pow' && a.dtype !== ins[1]!.dtype)
        throw new ShapeError(`operands of different element types (${a.dtype} and ${ins[1]!.dtype})`);
      return [{ shape: broadcastShapes(a.shape, ins[1]!.shape), dtype: a.dtype }];
    }
    if (COMPARE.has(op)) return [{ shape: broadcastShapes(a.shape, ins[1]!.shape), dtype: DataType.BOOL }];
    if (op === 'Where')
      return [{ shape: broadcastShapes(a.shape, broadcastShapes(ins[1]!.shape, ins[2]!.shape)), dtype: ins[1]!.dtype }];
    if (op === 'MatMul') {
      const x = a.shape;
      const y = ins[1]!.shape;
      if (x.length < 2 || y.length < 2) throw new ShapeError('MatMul operands must have rank >= 2');
      if (x.at(-1) !== y.at(-2)) throw new ShapeError(`MatMul inner dimensions differ: [${x}] x [${y}]`);
      const batch = broadcastShapes(x.slice(0, -2), y.slice(0, -2));
      return [{ shape: [...batch, x.at(-2)!, y.at(-1)!], dtype: a.dtype }];
    }
    if (op === 'Gemm') {
      const x = a.shape;
      const y = ins[1]!.shape;
      const m = intAttr(node, 'transA', 0) ? x[1]! : x[0]!;
      const n = intAttr(node, 'transB', 0) ? y[0]! : y[1]!;
      return [{ shape: [m, n], dtype: a.dtype }];
    }
    if (REDUCE.has(op) || op === 'ArgMax') {
      const rank = a.shape.length;
      const keep = intAttr(node, 'keepdims', 1);
      const axes =
        op === 'ArgMax'
          ? [norm(intAttr(node, 'axis', 0), rank)]
          : node.input[1]
            ? this.ints(node.input[1], 'reduce axes').map((x) => norm(x, rank))
            : a.shape.map((_, i) => i);
      const shape: Shape = [];
      a.shape.forEach((d, i) => {
        if (!axes.includes(i)) shape.push(d);
        else if (keep) shape.push(1);
      });
      return [{ shape, dtype: op === 'ArgMax' ? DataType.INT64 : a.dtype }];
    }
    if (op === 'Transpose') {
      const perm = (attr(node, 'perm') as number[] | undefined) ?? a.shape.map((_, i) => a.shape.length - 1 - i);
      return [{ shape: perm.map((p) => a.shape[p]!), dtype: a.dtype }];
    }
    if (op === 'Reshape')
      return [{ shape: reshaped(a.shape, this.ints(node.input[1], 'Reshape shape')), dtype: a.dtype }];
    if (op === 'Concat') {
      const axis = norm(intAttr(node, 'axis', 0), a.shape.length);
      const shape = a.shape.slice();
      let total = 0;
      for (const t of ins) {
        const d = t!.shape[axis];
        if (typeof d !== 'number') throw new ShapeError('Concat along a symbolic axis');
        total += d;
      }
      shape[axis] = total;
      return [{ shape, dtype: a.dtype }];
    }
    if (op === 'Split') {
      const axis = norm(intAttr(node, 'axis', 0), a.shape.length);
      const sizes = this.ints(node.input[1], 'Split sizes');
      return sizes.map((s) => {
        const shape = a.shape.slice();
        shape[axis] = s;
        return { shape, dtype: a.dtype };
      });
    }
    if (op === 'Slice') {
      const { starts, ends, axes } = this.sliceParams(node, a.shape);
      const shape = a.shape.slice();
      axes.forEach((ax, i) => {
        shape[ax] = ends[i]! - starts[i]!;
      });
      return [{ shape, dtype: a.dtype }];
    }
    if (op === 'Pad') {
      const pads = this.ints(node.input[1], 'Pad pads');
      const r = a.shape.length;
      const shape = a.shape.map((d, i) => {
        if (pads[i] === 0 && pads[i + r] === 0) return d;
        if (typeof d !== 'number') throw new ShapeError('Pad of a symbolic axis');
        return d + pads[i]! + pads[i + r]!;
      });
      return [{ shape, dtype: a.dtype }];
    }
    if (op === 'Gather') {
      const axis = norm(intAttr(node, 'axis', 0), a.shape.length);
      const idx = ins[1]!.shape;
      return [{ shape: [...a.shape.slice(0, axis), ...idx, ...a.shape.slice(axis + 1)], dtype: a.dtype }];
    }
    if (op === 'Unsqueeze') {
      const axes = this.ints(node.input[1], 'Unsqueeze axes');
      const rank = a.shape.length + axes.length;
      const at = axes.map((x) => norm(x, rank));
      const shape: Shape = [];
      let k = 0;
      for (let i = 0; i < rank; i++) shape.push(at.includes(i) ? 1 : a.shape[k++]!);
      return [{ shape, dtype: a.dtype }];
    }
    if (op === 'Squeeze') {
      const axes = this.ints(node.input[1], 'Squeeze axes').map((x) => norm(x, a.shape.length));
      return [{ shape: a.shape.filter((_, i) => !axes.includes(i)), dtype: a.dtype }];
    }
    if (op === 'Expand') {
      const target = this.ints(node.input[1], 'Expand shape');
      return [{ shape: broadcastShapes(a.shape, target), dtype: a.dtype }];
    }
    throw new ShapeError(`no shape rule for ${op}`);
  }

  /** Slice's starts/ends clamped to the axis (steps must be 1, the only form written here). */
  sliceParams(node: NodeMsg, shape: Shape): { starts: number[]; ends: number[]; axes: number[] } {
    const starts = this.ints(node.input[1], 'Slice starts');
    const ends = this.ints(node.input[2], 'Slice ends');
    const axes = node.input[3]
      ? this.ints(node.input[3], 'Slice axes').map((x) => norm(x, shape.length))
      : starts.map((_, i) => i);
    if (node.input[4] && this.ints(node.input[4], 'Slice steps').some((s) => s !== 1))
      throw new ShapeError('Slice steps other than 1');
    const s: number[] = [];
    const e: number[] = [];
    axes.forEach((ax, i) => {
      const d = shape[ax];
      if (typeof d !== 'number') throw new ShapeError('Slice of a symbolic axis');
      const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
      s.push(clamp(starts[i]!));
      e.push(Math.max(clamp(ends[i]!), clamp(starts[i]!)));
    });
    return { starts: s, ends: e, axes };
  }
}
