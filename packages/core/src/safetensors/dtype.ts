// The element types a safetensors file can hold, their byte sizes and the typed array that carries each in
// memory. Half-precision types (F16, BF16) travel as their raw bit patterns in a Uint16Array, because Node 20
// has no Float16Array; float16.ts and bfloat16.ts convert them.

/** Safetensors dtype names, as they appear in the header. */
export type SafetensorsDType =
  | 'BOOL'
  | 'U8'
  | 'I8'
  | 'I16'
  | 'U16'
  | 'F16'
  | 'BF16'
  | 'I32'
  | 'U32'
  | 'F32'
  | 'F64'
  | 'I64'
  | 'U64';

/** The typed array that holds each dtype's elements (half floats as raw bits, BOOL as 0/1 bytes). */
export interface DTypeArrays {
  BOOL: Uint8Array;
  U8: Uint8Array;
  I8: Int8Array;
  I16: Int16Array;
  U16: Uint16Array;
  F16: Uint16Array;
  BF16: Uint16Array;
  I32: Int32Array;
  U32: Uint32Array;
  F32: Float32Array;
  F64: Float64Array;
  I64: BigInt64Array;
  U64: BigUint64Array;
}

export type DTypeArray<D extends SafetensorsDType = SafetensorsDType> = DTypeArrays[D];

/** A dense row-major tensor in memory. */
export interface StoredTensor<D extends SafetensorsDType = SafetensorsDType> {
  dtype: D;
  shape: number[];
  data: DTypeArray<D>;
}

type ArrayCtor = {
  new (buffer: ArrayBuffer, byteOffset: number, length: number): DTypeArray;
  new (length: number): DTypeArray;
  readonly BYTES_PER_ELEMENT: number;
};

interface DTypeInfo {
  size: number;
  array: ArrayCtor;
  /**
   * Rank of the dtype in the Rust library's `Dtype` enum. Its writer lays tensors out by this rank, highest
   * first (then by name), which keeps every tensor aligned to its element size; we copy the order so that our
   * files are byte-identical to the reference's.
   */
  rank: number;
}

const INFO: Record<SafetensorsDType, DTypeInfo> = {
  BOOL: { size: 1, array: Uint8Array, rank: 0 },
  U8: { size: 1, array: Uint8Array, rank: 1 },
  I8: { size: 1, array: Int8Array, rank: 2 },
  I16: { size: 2, array: Int16Array, rank: 3 },
  U16: { size: 2, array: Uint16Array, rank: 4 },
  F16: { size: 2, array: Uint16Array, rank: 5 },
  BF16: { size: 2, array: Uint16Array, rank: 6 },
  I32: { size: 4, array: Int32Array, rank: 7 },
  U32: { size: 4, array: Uint32Array, rank: 8 },
  F32: { size: 4, array: Float32Array, rank: 9 },
  F64: { size: 8, array: Float64Array, rank: 10 },
  I64: { size: 8, array: BigInt64Array, rank: 11 },
  U64: { size: 8, array: BigUint64Array, rank: 12 },
};

export const SAFETENSORS_DTYPES = Object.keys(INFO) as SafetensorsDType[];

export function isSafetensorsDType(name: unknown): name is SafetensorsDType {
  return typeof name === 'string' && Object.hasOwn(INFO, name);
}

/** Bytes per element. */
export function dtypeSize(dtype: SafetensorsDType): number {
  return INFO[dtype].size;
}

/** Layout rank used by the reference writer (see DTypeInfo.rank). */
export function dtypeRank(dtype: SafetensorsDType): number {
  return INFO[dtype].rank;
}

/** Number of elements of a shape (1 for a scalar, shape []). */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Throws unless `shape` is a list of non-negative safe integers. `what` names the tensor in the message. */
export function checkShape(shape: unknown, what: string): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new Error(`${what}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (!Number.isSafeInteger(numel(shape))) throw new Error(`${what}: shape ${JSON.stringify(shape)} is too large`);
  return shape as number[];
}

/** A zero-filled array of `length` elements of `dtype`. */
export function allocate<D extends SafetensorsDType>(dtype: D, length: number): DTypeArray<D> {
  return new INFO[dtype].array(length) as DTypeArray<D>;
}

/**
 * Views `length` elements of `dtype` at `byteOffset` of `buffer` without copying. The offset must be a multiple
 * of the element size (typed arrays require it); callers copy first when it is not.
 */
export function viewAs<D extends SafetensorsDType>(
  dtype: D,
  buffer: ArrayBuffer,
  byteOffset: number,
  length: number,
): DTypeArray<D> {
  return new INFO[dtype].array(buffer, byteOffset, length) as DTypeArray<D>;
}

/**
 * Whether `data` is an acceptable carrier for `dtype`: the dtype's own typed array class (see DTypeArrays).
 * Raw bytes (a Uint8Array for a wider dtype) are accepted separately by the writers.
 */
export function matchesDType(dtype: SafetensorsDType, data: ArrayBufferView): boolean {
  return data instanceof INFO[dtype].array;
}

/** The bytes of a typed array, as a Uint8Array view (no copy). */
export function bytesOf(data: ArrayBufferView): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
