// Turning caller data into the bytes a tensor occupies, with the checks both writers share: the carrier must be
// the dtype's own typed array (see dtype.ts) or raw bytes (a Uint8Array), so that a Float32Array handed in for
// an F16 tensor is an error rather than garbage.
import { type SafetensorsDType, bytesOf, matchesDType } from './dtype.js';

/** What a caller may hand in as (part of) a tensor's data. */
export type TensorChunk = ArrayBufferView;

/** The bytes of one chunk of tensor `name`; throws when the array type does not fit the dtype. */
export function chunkBytes(name: string, dtype: SafetensorsDType, chunk: TensorChunk): Uint8Array {
  if (matchesDType(dtype, chunk) || chunk instanceof Uint8Array) return bytesOf(chunk);
  const kind = chunk.constructor?.name ?? typeof chunk;
  throw new Error(
    `tensor '${name}': got a ${kind} for dtype ${dtype}; expected its typed array ` +
      '(F16/BF16 as Uint16Array raw bits, I64 as BigInt64Array, BOOL as Uint8Array) or raw bytes in a Uint8Array',
  );
}
