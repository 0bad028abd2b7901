// The numpy dtypes that .npy files in this project use, with their on-disk descriptor and the typed array
// that holds them in memory. float16 has no typed array in Node 20, so it travels as raw IEEE bits (Uint16Array).
import { endianness } from 'node:os';

export interface NpyTypedArrays {
  bool: Uint8Array;
  uint8: Uint8Array;
  int8: Int8Array;
  uint16: Uint16Array;
  int16: Int16Array;
  uint32: Uint32Array;
  int32: Int32Array;
  int64: BigInt64Array;
  uint64: BigUint64Array;
  float16: Uint16Array;
  float32: Float32Array;
  float64: Float64Array;
}

export type NpyDtype = keyof NpyTypedArrays;
export type NpyTypedArray = NpyTypedArrays[NpyDtype];

interface DtypeInfo {
  /** numpy `descr` as numpy itself writes it (little-endian, '|' where byte order does not apply). */
  descr: string;
  bytes: number;
  /** Builds a typed array view over `length` elements of `buffer` starting at `byteOffset`. */
  view(buffer: ArrayBufferLike, byteOffset: number, length: number): NpyTypedArray;
}

export const NPY_DTYPES: Record<NpyDtype, DtypeInfo> = {
  bool: { descr: '|b1', bytes: 1, view: (b, o, n) => new Uint8Array(b, o, n) },
  uint8: { descr: '|u1', bytes: 1, view: (b, o, n) => new Uint8Array(b, o, n) },
  int8: { descr: '|i1', bytes: 1, view: (b, o, n) => new Int8Array(b, o, n) },
  uint16: { descr: '<u2', bytes: 2, view: (b, o, n) => new Uint16Array(b, o, n) },
  int16: { descr: '<i2', bytes: 2, view: (b, o, n) => new Int16Array(b, o, n) },
  uint32: { descr: '<u4', bytes: 4, view: (b, o, n) => new Uint32Array(b, o, n) },
  int32: { descr: '<i4', bytes: 4, view: (b, o, n) => new Int32Array(b, o, n) },
  int64: { descr: '<i8', bytes: 8, view: (b, o, n) => new BigInt64Array(b, o, n) },
  uint64: { descr: '<u8', bytes: 8, view: (b, o, n) => new BigUint64Array(b, o, n) },
  float16: { descr: '<f2', bytes: 2, view: (b, o, n) => new Uint16Array(b, o, n) },
  float32: { descr: '<f4', bytes: 4, view: (b, o, n) => new Float32Array(b, o, n) },
  float64: { descr: '<f8', bytes: 8, view: (b, o, n) => new Float64Array(b, o, n) },
};

export const NPY_DTYPE_NAMES = Object.keys(NPY_DTYPES) as NpyDtype[];

/** Maps a numpy descr (any byte-order mark) to our dtype name and whether its bytes are big-endian. */
export function dtypeFromDescr(descr: string): { dtype: NpyDtype; bigEndian: boolean } | undefined {
  const order = descr[0];
  const code = descr.slice(1);
  if (order !== '<' && order !== '>' && order !== '|' && order !== '=') return undefined;
  for (const name of NPY_DTYPE_NAMES) {
    const info = NPY_DTYPES[name];
    if (info.descr.slice(1) !== code) continue;
    // Single-byte types have no byte order; '=' means native, which assertLittleEndianHost makes little.
    return { dtype: name, bigEndian: order === '>' && info.bytes > 1 };
  }
  return undefined;
}

/**
 * Typed arrays are read and written in the host's byte order while .npy files here are little-endian; every
 * machine this project targets (x86-64, arm64) is little-endian, so a big-endian host is refused up front
 * rather than silently producing swapped files.
 */
export function assertLittleEndianHost(): void {
  if (endianness() !== 'LE') throw new Error(`.npy I/O needs a little-endian host (this one is ${endianness()})`);
}

/** An n-dimensional array as stored in a .npy file: C order, `data.length` = product of `shape`. */
export interface NpyArray<D extends NpyDtype = NpyDtype> {
  dtype: D;
  shape: number[];
  data: NpyTypedArrays[D];
}
