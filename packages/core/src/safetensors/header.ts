// The safetensors header: an 8-byte little-endian length N, then N bytes of JSON mapping each tensor name to
// {dtype, shape, data_offsets} (offsets relative to the first byte after the header) plus an optional
// "__metadata__" map of strings. The reference writer pads the JSON with spaces to a multiple of 8 bytes, lays
// tensors out by dtype (widest rank first, see dtype.ts) then by name, back to back, and rejects files whose
// tensors leave gaps, overlap or end before the file does; this module does the same.
import { endianness } from 'node:os';
import {
  type SafetensorsDType,
  SAFETENSORS_DTYPES,
  checkShape,
  dtypeRank,
  dtypeSize,
  isSafetensorsDType,
  numel,
} from './dtype.js';

if (endianness() !== 'LE') throw new Error('safetensors I/O assumes a little-endian machine (typed arrays are native)');

/** The reference implementation refuses headers larger than this (100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

/** Name, dtype and shape of one tensor: what the header needs before any data is written. */
export interface SafetensorsSpec {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
}

/** A tensor's place in the file: data bytes [begin, end) counted from `dataStart`. */
export interface SafetensorsEntry extends SafetensorsSpec {
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** The `__metadata__` map, when present. */
  metadata: Record<string, string> | undefined;
  /** Tensors in file order (increasing offsets). */
  tensors: SafetensorsEntry[];
  /** Byte offset of the data section in the file: 8 + header length. */
  dataStart: number;
  /** Total bytes of tensor data. */
  dataLength: number;
}

/** Expected byte length of a tensor's data. */
export function byteLength(spec: { dtype: SafetensorsDType; shape: readonly number[] }): number {
  return numel(spec.shape) * dtypeSize(spec.dtype);
}

/**
 * Assigns offsets. `reference` order (the default) is the reference writer's: dtype rank descending, then name,
 * which aligns every tensor to its element size. `given` keeps the caller's order.
 */
export function layoutTensors(
  specs: readonly SafetensorsSpec[],
  order: 'reference' | 'given' = 'reference',
): SafetensorsEntry[] {
  const seen = new Set<string>();
  for (const s of specs) {
    if (typeof s.name !== 'string' || s.name.length === 0) throw new Error('tensor name must be a non-empty string');
    if (s.name === '__metadata__') throw new Error(`tensor name '__metadata__' is reserved for the metadata map`);
    if (seen.has(s.name)) throw new Error(`tensor '${s.name}' is listed twice`);
    seen.add(s.name);
    if (!isSafetensorsDType(s.dtype)) {
      throw new Error(
        `tensor '${s.name}': unknown dtype '${String(s.dtype)}'; expected one of ${SAFETENSORS_DTYPES.join(', ')}`,
      );
    }
    checkShape(s.shape, `tensor '${s.name}'`);
  }
  const sorted =
    order === 'reference'
      ? [...specs].sort((a, b) => dtypeRank(b.dtype) - dtypeRank(a.dtype) || compareNames(a.name, b.name))
      : [...specs];
  let offset = 0;
  return sorted.map((s) => {
    const begin = offset;
    offset += byteLength(s);
    return { name: s.name, dtype: s.dtype, shape: [...s.shape], begin, end: offset };
  });
}

/** Byte-wise name order, as Rust compares Strings (UTF-8 bytes), not JavaScript's UTF-16 code units. */
function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The 8-byte length prefix plus the space-padded JSON header for laid-out tensors. */
export function encodeHeader(entries: readonly SafetensorsEntry[], metadata?: Record<string, string>): Uint8Array {
  const obj: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new Error(`metadata '${k}': expected a string value, got ${typeof v}`);
    }
    obj.__metadata__ = metadata;
  }
  for (const e of entries) obj[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [e.begin, e.end] };
  const json = Buffer.from(JSON.stringify(obj), 'utf8');
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length);
  return out;
}

/** Reads the header length from the first 8 bytes and checks it against the file size. */
export function decodeHeaderLength(prefix: Uint8Array, fileSize: number): number {
  if (prefix.length < 8 || fileSize < 8) {
    throw new Error(`file is ${fileSize} bytes, too short for a safetensors header (8-byte length prefix)`);
  }
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new Error(`header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit: not a safetensors file?`);
  }
  if (Number(n) > fileSize - 8) {
    throw new Error(`header length ${n} runs past the end of the file (${fileSize} bytes): file truncated`);
  }
  return Number(n);
}

/**
 * Parses and validates the JSON header. `headerLength` is N from the prefix, `fileSize` the whole file's size.
 * Errors name the offending tensor.
 */
export function decodeHeader(json: Uint8Array, headerLength: number, fileSize: number): SafetensorsHeader {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(json.buffer, json.byteOffset, json.byteLength).toString('utf8'));
  } catch (err) {
    throw new Error(`header is not valid JSON: ${(err as Error).message}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error('header must be a JSON object');
  let metadata: Record<string, string> | undefined;
  const tensors: SafetensorsEntry[] = [];
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = decodeMetadata(value);
      continue;
    }
    tensors.push(decodeEntry(name, value));
  }
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  const dataStart = 8 + headerLength;
  const available = fileSize - dataStart;
  let offset = 0;
  for (const t of tensors) {
    if (t.begin !== offset) {
      throw new Error(
        `tensor '${t.name}': data_offsets [${t.begin},${t.end}] start at ${t.begin}, expected ${offset} ` +
          '(tensors must follow each other without gaps or overlaps)',
      );
    }
    if (t.end > available) {
      throw new Error(
        `tensor '${t.name}': data_offsets [${t.begin},${t.end}] run past the ${available} data bytes in the file: ` +
          'file truncated or offsets out of range',
      );
    }
    offset = t.end;
  }
  if (offset !== available) {
    throw new Error(
      `${available - offset} unexpected bytes after the last tensor (data ends at ${offset} of ${available})`,
    );
  }
  return { metadata, tensors, dataStart, dataLength: offset };
}

function decodeMetadata(value: unknown): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error('__metadata__ must be an object of string values');
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== 'string') throw new Error(`__metadata__['${k}'] must be a string, got ${JSON.stringify(v)}`);
    out[k] = v;
  }
  return out;
}

function decodeEntry(name: string, value: unknown): SafetensorsEntry {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`tensor '${name}': header entry must be an object {dtype, shape, data_offsets}`);
  }
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (!isSafetensorsDType(dtype)) {
    throw new Error(
      `tensor '${name}': unknown dtype ${JSON.stringify(dtype)}; expected one of ${SAFETENSORS_DTYPES.join(', ')}`,
    );
  }
  const dims = checkShape(shape, `tensor '${name}'`);
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
    offsets[0] > offsets[1]
  ) {
    throw new Error(
      `tensor '${name}': data_offsets must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(offsets)}`,
    );
  }
  const [begin, end] = offsets as [number, number];
  const need = byteLength({ dtype, shape: dims });
  if (end - begin !== need) {
    throw new Error(
      `tensor '${name}': shape ${JSON.stringify(dims)} of ${dtype} needs ${need} bytes, ` +
        `but data_offsets [${begin},${end}] span ${end - begin}`,
    );
  }
  return { name, dtype, shape: dims, begin, end };
}
