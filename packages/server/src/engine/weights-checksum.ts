// The weights of a step graph checked against the checksum the exporter recorded (METADATA_KEYS.weightsSha256:
// SHA-256 of the initializers' raw_data in graph order), so that a damaged model.onnx is refused by name instead of
// answering garbage: ONNX Runtime loads a file whose weight bytes were overwritten without complaint. The
// initializers are found by a small protobuf walk (ModelProto.graph = 7, GraphProto.initializer = 5,
// TensorProto.raw_data = 9) over views of the file, so no tensor is decoded or copied.
import { readFile } from 'node:fs/promises';
import { METADATA_KEYS, readModelMetadata, weightsSha256 } from '@trm/graph';

interface Field {
  field: number;
  /** for length-delimited fields: the payload's [start, end) */
  start: number;
  end: number;
}

/** The fields of the message in bytes[start, end); throws on a truncated or malformed message. */
function* fields(bytes: Uint8Array, start: number, end: number): Generator<Field> {
  let pos = start;
  const varint = (): number => {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= end) throw new Error('truncated varint');
      const b = bytes[pos++]!;
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
    throw new Error('varint longer than 10 bytes');
  };
  while (pos < end) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) varint();
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const length = varint();
      if (pos + length > end) throw new Error(`field ${field} runs past the end of its message`);
      yield { field, start: pos, end: pos + length };
      pos += length;
      continue;
    } else throw new Error(`unsupported wire type ${wire} in field ${field}`);
    if (pos > end) throw new Error(`field ${field} runs past the end of its message`);
  }
}

/** Views of the raw_data of every initializer of a serialized ModelProto, in graph order. */
export function initializerData(model: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const g of fields(model, 0, model.length)) {
    if (g.field !== 7) continue;
    for (const t of fields(model, g.start, g.end)) {
      if (t.field !== 5) continue;
      for (const d of fields(model, t.start, t.end)) if (d.field === 9) out.push(model.subarray(d.start, d.end));
    }
  }
  return out;
}

/**
 * Checks the weights of the step graph at `path` against their recorded checksum: 'verified', or 'unrecorded' for
 * a graph exported before the checksum existed. A mismatch throws an error that names the file.
 */
export async function verifyStepGraphWeights(path: string): Promise<'verified' | 'unrecorded'> {
  return checkStepGraphWeights(await readFile(path), path);
}

/** verifyStepGraphWeights on the bytes of the file at `path`, already read. */
export function checkStepGraphWeights(bytes: Uint8Array, path: string): 'verified' | 'unrecorded' {
  let recorded: string | undefined;
  let actual: string;
  try {
    recorded = readModelMetadata(bytes)[METADATA_KEYS.weightsSha256];
    if (recorded === undefined) return 'unrecorded';
    actual = weightsSha256(initializerData(bytes));
  } catch (err) {
    throw new Error(`${path} is not a readable ONNX model: ${(err as Error).message}`);
  }
  if (actual !== recorded)
    throw new Error(
      `${path} is damaged: its weights do not match the checksum recorded at export (${METADATA_KEYS.weightsSha256} ` +
        `${recorded.slice(0, 16)}..., the file's weights hash to ${actual.slice(0, 16)}...); export the model again ` +
        'or restore the file',
    );
  return 'verified';
}

/** The warning for a graph without a recorded checksum (exported before it existed). */
export function unrecordedWeightsWarning(path: string): string {
  return (
    `${path} records no checksum of its weights (${METADATA_KEYS.weightsSha256}; exported before the exporter wrote ` +
    'one), so a damaged file cannot be detected; export it again to add one'
  );
}
