// The subset of onnx.proto that a TRM step graph needs, as a protobufjs schema with the field numbers of the ONNX
// IR specification (onnx/onnx.proto3). Written by hand so the exporter needs neither protoc nor a generated package;
// protobufjs encodes fields in the order of their numbers, so the same model gives the same bytes.
import protobuf from 'protobufjs';

/** TensorProto.DataType values used here. */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  FLOAT16: 10,
  BFLOAT16: 16,
} as const;
export type DataTypeId = (typeof DataType)[keyof typeof DataType];

/** AttributeProto.AttributeType values. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7 } as const;

const schema = {
  nested: {
    onnx: {
      nested: {
        ModelProto: {
          fields: {
            ir_version: { type: 'int64', id: 1 },
            producer_name: { type: 'string', id: 2 },
            producer_version: { type: 'string', id: 3 },
            domain: { type: 'string', id: 4 },
            model_version: { type: 'int64', id: 5 },
            doc_string: { type: 'string', id: 6 },
            graph: { type: 'GraphProto', id: 7 },
            opset_import: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
            metadata_props: { rule: 'repeated', type: 'StringStringEntryProto', id: 14 },
          },
        },
        OperatorSetIdProto: {
          fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } },
        },
        StringStringEntryProto: {
          fields: { key: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } },
        },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            doc_string: { type: 'string', id: 10 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            name: { type: 'string', id: 3 },
            op_type: { type: 'string', id: 4 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
            domain: { type: 'string', id: 7 },
          },
        },
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            s: { type: 'bytes', id: 4 },
            t: { type: 'TensorProto', id: 5 },
            g: { type: 'GraphProto', id: 6 },
            floats: { rule: 'repeated', type: 'float', id: 7 },
            ints: { rule: 'repeated', type: 'int64', id: 8 },
            type: { type: 'int32', id: 20 },
          },
        },
        TensorProto: {
          fields: {
            dims: { rule: 'repeated', type: 'int64', id: 1 },
            data_type: { type: 'int32', id: 2 },
            name: { type: 'string', id: 8 },
            raw_data: { type: 'bytes', id: 9 },
          },
        },
        ValueInfoProto: {
          fields: { name: { type: 'string', id: 1 }, type: { type: 'TypeProto', id: 2 } },
        },
        TypeProto: {
          fields: { tensor_type: { type: 'TypeProtoTensor', id: 1 } },
        },
        TypeProtoTensor: {
          fields: { elem_type: { type: 'int32', id: 1 }, shape: { type: 'TensorShapeProto', id: 2 } },
        },
        TensorShapeProto: {
          fields: { dim: { rule: 'repeated', type: 'Dimension', id: 1 } },
        },
        Dimension: {
          fields: { dim_value: { type: 'int64', id: 1 }, dim_param: { type: 'string', id: 2 } },
        },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(schema);
const ModelProtoType = root.lookupType('onnx.ModelProto');
const NodeProtoType = root.lookupType('onnx.NodeProto');
const ValueInfoProtoType = root.lookupType('onnx.ValueInfoProto');

// Plain-object shapes of the messages (protobufjs accepts these in `fromObject`).
export interface TensorMsg {
  name: string;
  dims: number[];
  data_type: DataTypeId;
  raw_data: Uint8Array;
}
export interface AttributeMsg {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorMsg;
  /** a subgraph (Loop's body), as a plain GraphProto object */
  g?: unknown;
  floats?: number[];
  ints?: number[];
}
export interface NodeMsg {
  name: string;
  op_type: string;
  domain?: string;
  input: string[];
  output: string[];
  attribute: AttributeMsg[];
}
/** A dimension is a fixed size or a symbolic name such as 'batch'. */
export type Dim = number | string;
export interface ValueInfoMsg {
  name: string;
  elemType: DataTypeId;
  shape: Dim[];
}
export interface ModelMsg {
  irVersion: number;
  opsets: { domain: string; version: number }[];
  producerName: string;
  producerVersion: string;
  docString?: string;
  graphName: string;
  nodes: NodeMsg[];
  initializers: TensorMsg[];
  inputs: ValueInfoMsg[];
  outputs: ValueInfoMsg[];
  metadata: Record<string, string>;
}

function valueInfo(v: ValueInfoMsg) {
  return {
    name: v.name,
    type: {
      tensor_type: {
        elem_type: v.elemType,
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}

/** Serialises a model to the bytes of a .onnx file. Metadata keys are written in sorted order. */
export function encodeModel(m: ModelMsg): Uint8Array {
  const message = ModelProtoType.fromObject({
    ir_version: m.irVersion,
    producer_name: m.producerName,
    producer_version: m.producerVersion,
    doc_string: m.docString ?? '',
    graph: {
      name: m.graphName,
      node: m.nodes,
      initializer: m.initializers,
      input: m.inputs.map(valueInfo),
      output: m.outputs.map(valueInfo),
    },
    opset_import: m.opsets,
    metadata_props: Object.keys(m.metadata)
      .sort()
      .map((key) => ({ key, value: m.metadata[key] })),
  });
  return ModelProtoType.encode(message).finish();
}

/** Decodes a .onnx file into plain objects (tests and the metadata reader use it). */
export function decodeModel(bytes: Uint8Array): Record<string, unknown> {
  return ModelProtoType.toObject(ModelProtoType.decode(bytes), { longs: Number, bytes: Array, defaults: false });
}

/** The bytes of a .onnx file without the metadata_props `keys` (everything else as it was). */
export function withoutMetadata(bytes: Uint8Array, keys: readonly string[]): Uint8Array {
  const message = ModelProtoType.decode(bytes) as unknown as { metadata_props?: { key: string }[] };
  message.metadata_props = (message.metadata_props ?? []).filter((p) => !keys.includes(p.key));
  return ModelProtoType.encode(message as never).finish();
}

/**
 * A decoded .onnx file as protobufjs message objects, for graph transforms: initializers keep their raw_data as a
 * view of the file's bytes (no copy), and re-encoding writes back every field of this schema unchanged.
 */
export interface RawModel {
  graph: {
    node: NodeMsg[];
    initializer: TensorMsg[];
    input: { name: string; type?: unknown }[];
    output: { name: string; type?: unknown }[];
  };
  metadata_props?: { key: string; value: string }[];
  opset_import?: { domain: string; version: number }[];
}

export function decodeRawModel(bytes: Uint8Array): RawModel {
  return ModelProtoType.decode(bytes) as unknown as RawModel;
}

/** Encodes a RawModel; nodes and value infos added as plain objects are converted to messages first. */
export function encodeRawModel(m: RawModel): Uint8Array {
  const g = m.graph;
  g.node = g.node.map((n) => (n instanceof NodeProtoType.ctor ? n : (NodeProtoType.fromObject(n) as never)));
  g.output = g.output.map((v) =>
    v instanceof ValueInfoProtoType.ctor ? v : (ValueInfoProtoType.fromObject(v) as never),
  );
  return ModelProtoType.encode(m as never).finish();
}

/** A ValueInfoMsg in the plain form of a RawModel's graph inputs and outputs. */
export function rawValueInfo(v: ValueInfoMsg): { name: string; type: unknown } {
  return valueInfo(v);
}

/** The metadata_props of a .onnx file (the server reads trm.config from them). */
export function readModelMetadata(bytes: Uint8Array): Record<string, string> {
  const decoded = ModelProtoType.decode(bytes) as unknown as { metadata_props?: { key: string; value: string }[] };
  const out: Record<string, string> = {};
  for (const { key, value } of decoded.metadata_props ?? []) out[key] = value;
  return out;
}
