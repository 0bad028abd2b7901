// Reading .npy files into typed arrays: from bytes already in memory, a whole file at once, or rows on demand
// (`openNpy`) for arrays too large to load, the way the reference loader memory-maps inputs and labels.
import { constants } from 'node:buffer';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { assertLittleEndianHost, NPY_DTYPES, type NpyArray, type NpyTypedArray } from './dtype.js';
import { type NpyHeader, npyHeaderLength, parseNpyHeader, shapeSize } from './header.js';
import { MAX_IO_BYTES } from './write.js';

function swapBytes(bytes: Uint8Array, width: number): void {
  for (let i = 0; i < bytes.length; i += width) {
    for (let a = i, b = i + width - 1; a < b; a++, b--) {
      const t = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = t;
    }
  }
}

/** Typed array over `bytes` (which must start at data element 0), copying only when alignment or byte order demand. */
function toTyped(header: NpyHeader, bytes: Uint8Array, count: number): NpyTypedArray {
  const info = NPY_DTYPES[header.dtype];
  let src = bytes;
  if (header.bigEndian || src.byteOffset % info.bytes !== 0) src = src.slice();
  if (header.bigEndian) swapBytes(src, info.bytes);
  return info.view(src.buffer, src.byteOffset, count);
}

/** Decodes a whole .npy file held in memory; the result shares memory with `bytes` where alignment allows. */
export function decodeNpy(bytes: Uint8Array, source = 'npy data'): NpyArray {
  assertLittleEndianHost();
  const header = parseNpyHeader(bytes, source);
  const count = shapeSize(header.shape);
  const need = header.dataOffset + count * NPY_DTYPES[header.dtype].bytes;
  if (bytes.length !== need)
    throw new Error(
      `${source} has ${bytes.length} bytes but header ${header.dtype} [${header.shape.join(', ')}] needs ${need}`,
    );
  const data = toTyped(header, bytes.subarray(header.dataOffset), count);
  return { dtype: header.dtype, shape: header.shape, data } as NpyArray;
}

function readAt(fd: number, into: Uint8Array, position: number, source: string): void {
  let done = 0;
  while (done < into.length) {
    const n = readSync(fd, into, done, Math.min(MAX_IO_BYTES, into.length - done), position + done);
    if (n === 0) throw new Error(`${source} ended early (read ${done} of ${into.length} bytes at ${position})`);
    done += n;
  }
}

function readHeader(fd: number, path: string): NpyHeader {
  const prefix = new Uint8Array(12);
  readAt(fd, prefix, 0, path);
  const full = new Uint8Array(npyHeaderLength(prefix, path));
  readAt(fd, full, 0, path);
  return parseNpyHeader(full, path);
}

/** An open .npy file whose rows (first-axis slices) are read on demand. */
export class NpyFile {
  readonly rows: number;
  /** Elements per row: the product of shape[1:]. */
  readonly rowSize: number;
  private readonly elementBytes: number;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly fd: number,
    readonly header: NpyHeader,
  ) {
    const [rows = 1, ...rest] = header.shape;
    this.rows = header.shape.length === 0 ? 1 : rows;
    this.rowSize = shapeSize(rest);
    this.elementBytes = NPY_DTYPES[header.dtype].bytes;
    const need = header.dataOffset + this.rows * this.rowSize * this.elementBytes;
    const size = fstatSync(fd).size;
    if (size !== need)
      throw new Error(
        `${path} has ${size} bytes but its header (${header.dtype} [${header.shape.join(', ')}]) needs ${need}`,
      );
  }

  static open(path: string): NpyFile {
    assertLittleEndianHost();
    const fd = openSync(path, 'r');
    try {
      return new NpyFile(path, fd, readHeader(fd, path));
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  get dtype() {
    return this.header.dtype;
  }

  get shape(): number[] {
    return this.header.shape;
  }

  /** Rows [start, start + count) as a fresh typed array of count * rowSize elements. */
  readRows(start: number, count: number): NpyTypedArray {
    if (this.closed) throw new Error(`${this.path} is closed`);
    if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > this.rows)
      throw new RangeError(`${this.path}: rows [${start}, ${start + count}) are outside [0, ${this.rows})`);
    const size = count * this.rowSize * this.elementBytes;
    if (size > constants.MAX_LENGTH)
      throw new RangeError(
        `${this.path}: ${size} bytes are more than one typed array can hold (${constants.MAX_LENGTH}); read fewer rows at a time`,
      );
    const bytes = new Uint8Array(size);
    readAt(this.fd, bytes, this.header.dataOffset + start * this.rowSize * this.elementBytes, this.path);
    return toTyped(this.header, bytes, count * this.rowSize);
  }

  /** The whole array. */
  readAll(): NpyArray {
    const data = this.readRows(0, this.rows);
    return { dtype: this.header.dtype, shape: this.header.shape, data } as NpyArray;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

/** Opens a .npy file for reading rows on demand; close it when done. */
export function openNpy(path: string): NpyFile {
  return NpyFile.open(path);
}

/** Reads a whole .npy file into a typed array (data aligned at offset 0 of its own buffer). */
export function readNpy(path: string): NpyArray {
  const file = NpyFile.open(path);
  try {
    return file.readAll();
  } finally {
    file.close();
  }
}
