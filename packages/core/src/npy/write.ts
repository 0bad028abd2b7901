// Writing whole arrays to .npy (version 1.0, little-endian, C order), in memory or straight to a file.
import { closeSync, openSync, writeSync } from 'node:fs';
import { assertLittleEndianHost, type NpyArray, type NpyDtype, type NpyTypedArray } from './dtype.js';
import { encodeNpyHeader, shapeSize } from './header.js';

/** node's fs refuses single reads and writes above 2 GiB; larger arrays go in slices. */
export const MAX_IO_BYTES = 1 << 30;

export function bytesOf(data: NpyTypedArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function checkArray(array: NpyArray): void {
  const expected = shapeSize(array.shape);
  if (array.data.length !== expected)
    throw new RangeError(
      `npy data has ${array.data.length} elements but shape [${array.shape.join(', ')}] needs ${expected}`,
    );
}

/** The complete .npy file as bytes (one copy of the data). */
export function encodeNpy<D extends NpyDtype>(array: NpyArray<D>): Uint8Array {
  assertLittleEndianHost();
  checkArray(array);
  const header = encodeNpyHeader(array.dtype, array.shape);
  const out = new Uint8Array(header.length + array.data.byteLength);
  out.set(header, 0);
  out.set(bytesOf(array.data), header.length);
  return out;
}

/** Writes bytes at the current position of `fd`, in slices small enough for node's fs. */
export function writeAll(fd: number, bytes: Uint8Array, position?: number): void {
  let done = 0;
  while (done < bytes.length) {
    const n = Math.min(MAX_IO_BYTES, bytes.length - done);
    const pos = position === undefined ? null : position + done;
    done += writeSync(fd, bytes, done, n, pos);
  }
}

/** Writes an array to `path` without copying its data. */
export function writeNpy<D extends NpyDtype>(path: string, array: NpyArray<D>): void {
  assertLittleEndianHost();
  checkArray(array);
  const fd = openSync(path, 'w');
  try {
    writeAll(fd, encodeNpyHeader(array.dtype, array.shape));
    writeAll(fd, bytesOf(array.data));
  } finally {
    closeSync(fd);
  }
}
