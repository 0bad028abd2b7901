// Whole-file safetensors encoding and decoding in memory, for small files (configs, tests, train state).
// Large files go through writer.ts and reader.ts, which never hold more than one chunk or the asked-for rows.
import { type SafetensorsDType, numel, type StoredTensor, viewAs } from './dtype.js';
import { chunkBytes } from './bytes.js';
import {
  byteLength,
  decodeHeader,
  decodeHeaderLength,
  encodeHeader,
  layoutTensors,
  type SafetensorsHeader,
} from './header.js';

export type StoredTensorMap = Record<string, StoredTensor> | ReadonlyMap<string, StoredTensor>;

export interface SafetensorsOptions {
  /** Free-form string map stored as `__metadata__`. */
  metadata?: Record<string, string>;
  /** StoredTensor order in the file: the reference writer's (default; byte-identical files) or the caller's. */
  order?: 'reference' | 'given';
}

export interface ParsedSafetensors {
  metadata: Record<string, string> | undefined;
  tensors: Map<string, StoredTensor>;
}

function entriesOf(tensors: StoredTensorMap): [string, StoredTensor][] {
  return tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors as Record<string, StoredTensor>);
}

/** Encodes tensors into one safetensors byte array. */
export function serializeSafetensors(tensors: StoredTensorMap, options: SafetensorsOptions = {}): Uint8Array {
  const list = entriesOf(tensors);
  const byName = new Map(list);
  const layout = layoutTensors(
    list.map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape })),
    options.order,
  );
  const header = encodeHeader(layout, options.metadata);
  const total = layout.length > 0 ? layout[layout.length - 1]!.end : 0;
  const out = new Uint8Array(header.length + total);
  out.set(header, 0);
  for (const e of layout) {
    const bytes = chunkBytes(e.name, e.dtype, byName.get(e.name)!.data);
    if (bytes.length !== e.end - e.begin) {
      throw new Error(
        `tensor '${e.name}': data has ${bytes.length} bytes but shape ${JSON.stringify(e.shape)} of ${e.dtype} ` +
          `needs ${e.end - e.begin}`,
      );
    }
    out.set(bytes, header.length + e.begin);
  }
  return out;
}

/** Reads and validates only the header of an in-memory file. */
export function parseSafetensorsHeader(bytes: Uint8Array): SafetensorsHeader {
  const n = decodeHeaderLength(bytes, bytes.length);
  return decodeHeader(bytes.subarray(8, 8 + n), n, bytes.length);
}

/** Decodes a whole in-memory file. StoredTensor data is copied into fresh, aligned typed arrays. */
export function parseSafetensors(bytes: Uint8Array): ParsedSafetensors {
  const header = parseSafetensorsHeader(bytes);
  const tensors = new Map<string, StoredTensor>();
  for (const e of header.tensors) {
    const src = bytes.subarray(header.dataStart + e.begin, header.dataStart + e.end);
    tensors.set(e.name, tensorFromBytes(e.dtype, e.shape, src));
  }
  return { metadata: header.metadata, tensors };
}

/** A tensor whose data is a copy of `src` (which may sit at any alignment). */
export function tensorFromBytes<D extends SafetensorsDType>(
  dtype: D,
  shape: number[],
  src: Uint8Array,
): StoredTensor<D> {
  const need = byteLength({ dtype, shape });
  if (src.length !== need) {
    throw new Error(`${dtype} tensor of shape ${JSON.stringify(shape)} needs ${need} bytes, got ${src.length}`);
  }
  const buffer = new ArrayBuffer(src.length);
  new Uint8Array(buffer).set(src);
  return { dtype, shape: [...shape], data: viewAs(dtype, buffer, 0, numel(shape)) };
}
