// A small builder for ONNX graphs: named values, nodes with typed attributes, initializers from typed arrays.
// Value names are generated from a per-prefix counter, so building the same graph twice gives the same names and
// therefore the same bytes.
import { f32ToF16 } from '@trm/core';
import {
  AttributeType,
  type AttributeMsg,
  DataType,
  type DataTypeId,
  type NodeMsg,
  type TensorMsg,
} from './onnx-proto.js';

export type AttrValue = number | number[] | string | { float: number } | { floats: number[] } | TensorMsg;

/** Little-endian bytes of a typed array (ONNX raw_data is little-endian; so is every host we run on). */
function bytesOf(a: Float32Array | Uint16Array | Int32Array | BigInt64Array | Uint8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function attribute(name: string, v: AttrValue): AttributeMsg {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`attribute ${name}: ${v} is not an integer; use { float } for floats`);
    return { name, type: AttributeType.INT, i: v };
  }
  if (typeof v === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: AttributeType.INTS, ints: v };
  if ('float' in v) return { name, type: AttributeType.FLOAT, f: v.float };
  if ('floats' in v) return { name, type: AttributeType.FLOATS, floats: v.floats };
  return { name, type: AttributeType.TENSOR, t: v };
}

export class GraphBuilder {
  readonly nodes: NodeMsg[] = [];
  readonly initializers: TensorMsg[] = [];
  private readonly counters = new Map<string, number>();
  private readonly initByName = new Map<string, TensorMsg>();
  /** Domains used by nodes, so the model can declare their opsets. */
  readonly domains = new Set<string>();
  /** Values that reverse-mode differentiation treats as constants (see stopGradient). */
  readonly noGrad = new Set<string>();

  /** A fresh value name `<hint>_<n>`. */
  name(hint: string): string {
    const n = this.counters.get(hint) ?? 0;
    this.counters.set(hint, n + 1);
    return `${hint}_${n}`;
  }

  /** Adds a node and returns its output names (one fresh name per output unless given). */
  node(
    opType: string,
    inputs: string[],
    attrs: Record<string, AttrValue> = {},
    options: { outputs?: number | string[]; domain?: string; hint?: string } = {},
  ): string[] {
    const hint = options.hint ?? opType.toLowerCase();
    const outputs = Array.isArray(options.outputs)
      ? options.outputs
      : Array.from({ length: options.outputs ?? 1 }, () => this.name(hint));
    const domain = options.domain ?? '';
    if (domain) this.domains.add(domain);
    this.nodes.push({
      name: this.name(`n_${opType}`),
      op_type: opType,
      ...(domain ? { domain } : {}),
      input: inputs,
      output: outputs,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outputs;
  }

  /** Single-output node. */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, hint?: string): string {
    return this.node(opType, inputs, attrs, { hint })[0]!;
  }

  /**
   * The value of `x` with no gradient flowing back through it (an Identity whose output autodiff treats as a
   * constant), as PyTorch's detach() or torch.no_grad() around what produced it.
   */
  stopGradient(x: string): string {
    const y = this.op('Identity', [x], {}, 'stop');
    this.noGrad.add(y);
    return y;
  }

  /** The initializer called `name`, if any. */
  initializerOf(name: string): TensorMsg | undefined {
    return this.initByName.get(name);
  }

  /** The int64 values of a constant made by `ints` (or any int64 initializer), or null for other values. */
  constInts(name: string): number[] | null {
    const t = this.initByName.get(name);
    if (!t || t.data_type !== DataType.INT64) return null;
    const view = new BigInt64Array(
      t.raw_data.buffer.slice(t.raw_data.byteOffset, t.raw_data.byteOffset + t.raw_data.byteLength),
    );
    return Array.from(view, Number);
  }

  /** The float32 values of a float32 initializer, or null for other values. */
  constFloats(name: string): number[] | null {
    const t = this.initByName.get(name);
    if (!t || t.data_type !== DataType.FLOAT) return null;
    const view = new Float32Array(
      t.raw_data.buffer.slice(t.raw_data.byteOffset, t.raw_data.byteOffset + t.raw_data.byteLength),
    );
    return Array.from(view);
  }

  /** Adds a named initializer (a graph constant); the name must be new. */
  initializer(
    name: string,
    dims: number[],
    dataType: DataTypeId,
    data: Float32Array | Uint16Array | Int32Array | BigInt64Array | Uint8Array,
  ): string {
    if (this.initByName.has(name)) throw new Error(`initializer ${name} defined twice`);
    const count = dims.reduce((a, b) => a * b, 1);
    if (count !== data.length) throw new Error(`initializer ${name}: ${data.length} values for shape [${dims}]`);
    const t: TensorMsg = { name, dims, data_type: dataType, raw_data: bytesOf(data) };
    this.initByName.set(name, t);
    this.initializers.push(t);
    return name;
  }

  /** Adds an initializer message as it is (e.g. one taken from another graph); the name must be new. */
  addTensor(t: TensorMsg): string {
    if (this.initByName.has(t.name)) throw new Error(`initializer ${t.name} defined twice`);
    this.initByName.set(t.name, t);
    this.initializers.push(t);
    return t.name;
  }

  /** An int64 constant (shapes, axes, indices), deduplicated by value. */
  ints(values: number[], hint = 'const_i64'): string {
    const name = `${hint}_[${values.join(',')}]`;
    if (this.initByName.has(name)) return name;
    return this.initializer(name, [values.length], DataType.INT64, BigInt64Array.from(values.map(BigInt)));
  }

  /** A float32 (or float16) scalar constant, deduplicated by value. */
  scalar(value: number, dataType: DataTypeId = DataType.FLOAT): string {
    const name = `const_${dataType === DataType.FLOAT16 ? 'f16' : 'f32'}_${value}`;
    if (this.initByName.has(name)) return name;
    if (dataType === DataType.FLOAT) return this.initializer(name, [], DataType.FLOAT, Float32Array.of(value));
    if (dataType === DataType.FLOAT16)
      return this.initializer(name, [], DataType.FLOAT16, f32ToF16(Float32Array.of(value)));
    throw new Error('scalar: only float32 and float16 scalars are created directly; cast for other types');
  }
}
