// The .npy header: magic, version, and the Python-dict text that names dtype, order and shape.
// Written byte for byte as numpy (>= 1.24) writes version 1.0, including the spare spaces numpy leaves after the
// dict so that the first dimension can grow in place: the streaming writer relies on that to patch the row
// count after the data, without moving it.
import { dtypeFromDescr, NPY_DTYPES, type NpyDtype } from './dtype.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
const ALIGN = 64;
/** numpy's GROWTH_AXIS_MAX_DIGITS: room for any 64-bit length in the growth axis. */
const GROWTH_AXIS_MAX_DIGITS = 21;

export interface NpyHeader {
  dtype: NpyDtype;
  shape: number[];
  /** Offset of the first data byte (the header's total length). */
  dataOffset: number;
  /** True when the file stores big-endian values; the reader swaps them. */
  bigEndian: boolean;
}

/** Python's repr of a shape tuple: `()`, `(3,)`, `(3, 4)`. */
function shapeRepr(shape: readonly number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

function checkShape(shape: readonly number[]): void {
  for (const [i, n] of shape.entries()) {
    if (!Number.isSafeInteger(n) || n < 0)
      throw new RangeError(`npy shape[${i}] must be a non-negative integer (got ${n})`);
  }
}

/** The complete header (magic to newline) of a version 1.0, C-order, little-endian file. */
export function encodeNpyHeader(dtype: NpyDtype, shape: readonly number[]): Uint8Array {
  checkShape(shape);
  let dict = `{'descr': '${NPY_DTYPES[dtype].descr}', 'fortran_order': False, 'shape': ${shapeRepr(shape)}, }`;
  if (shape.length > 0) dict += ' '.repeat(GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length);
  const hlen = dict.length + 1;
  // numpy pads to the next multiple even when already aligned (a full 64 spaces), so this does too.
  const pad = ALIGN - ((MAGIC.length + 2 + 2 + hlen) % ALIGN);
  const total = MAGIC.length + 2 + 2 + hlen + pad;
  if (hlen + pad > 0xffff) throw new RangeError(`npy header too long for format 1.0 (${hlen + pad} bytes)`);
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = (hlen + pad) & 0xff;
  out[9] = (hlen + pad) >> 8;
  const text = `${dict}${' '.repeat(pad)}\n`;
  for (let i = 0; i < text.length; i++) out[10 + i] = text.charCodeAt(i);
  return out;
}

/** Bytes needed before `parseNpyHeader` can succeed: the fixed prefix, then the header length it announces. */
export function npyHeaderLength(prefix: Uint8Array, source = 'npy data'): number {
  if (prefix.length < 12 || MAGIC.some((b, i) => prefix[i] !== b))
    throw new Error(`${source} is not a .npy file (missing the \\x93NUMPY magic)`);
  const major = prefix[6]!;
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  if (major === 1) return 10 + view.getUint16(8, true);
  if (major === 2 || major === 3) return 12 + view.getUint32(8, true);
  throw new Error(`${source} has .npy format version ${major}.${prefix[7]}; expected 1.0, 2.0 or 3.0`);
}

/** Parses a header; `bytes` must hold at least `npyHeaderLength(bytes)` bytes. */
export function parseNpyHeader(bytes: Uint8Array, source = 'npy data'): NpyHeader {
  const dataOffset = npyHeaderLength(bytes, source);
  if (bytes.length < dataOffset) throw new Error(`${source} is truncated inside its header`);
  const start = bytes[6] === 1 ? 10 : 12;
  const text = new TextDecoder(bytes[6] === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, dataOffset));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined)
    throw new Error(`${source} has an unreadable .npy header: ${JSON.stringify(text.trim())}`);
  const type = dtypeFromDescr(descr);
  if (!type) throw new Error(`${source} has dtype '${descr}'; supported: ${Object.keys(NPY_DTYPES).join(', ')}`);
  if (fortran === 'True') throw new Error(`${source} is stored in Fortran order; only C order is supported`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const n = Number(s.replace(/L$/, ''));
      if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${source} has a bad shape (${shapeText})`);
      return n;
    });
  return { dtype: type.dtype, shape, dataOffset, bigEndian: type.bigEndian };
}

export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
