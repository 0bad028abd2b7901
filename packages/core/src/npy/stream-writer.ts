// A .npy writer that takes the data in chunks, so that arrays larger than memory (augmented ARC sets run to
// gigabytes) are written with one small buffer. The header goes first; when the number of rows is not known
// up front it is counted and patched into the header on close, which numpy's spare header space allows
// without moving the data.
import { closeSync, openSync, rmSync } from 'node:fs';
import { assertLittleEndianHost, NPY_DTYPES, type NpyDtype, type NpyTypedArrays } from './dtype.js';
import { encodeNpyHeader, shapeSize } from './header.js';
import { bytesOf, writeAll } from './write.js';

export interface NpyStreamOptions {
  /** Length of the first dimension when known; otherwise it is counted and written on close. */
  rows?: number;
  /** Size of the write buffer (default 4 MiB). */
  bufferBytes?: number;
}

export class NpyStreamWriter<D extends NpyDtype> {
  private readonly fd: number;
  private readonly buffer: Uint8Array;
  private used = 0;
  private elements = 0;
  private readonly rowSize: number;
  private readonly headerLength: number;
  private closed = false;

  /**
   * Opens `path` for an array of `dtype` whose rows have shape `rowShape` (`[]` for a 1-D array, `[900]`
   * for rows of 900 tokens).
   */
  constructor(
    readonly path: string,
    readonly dtype: D,
    readonly rowShape: readonly number[],
    private readonly opts: NpyStreamOptions = {},
  ) {
    assertLittleEndianHost();
    this.rowSize = shapeSize(rowShape);
    if (opts.rows !== undefined && (!Number.isSafeInteger(opts.rows) || opts.rows < 0))
      throw new RangeError(`rows must be a non-negative integer (got ${opts.rows})`);
    const header = encodeNpyHeader(dtype, [opts.rows ?? 0, ...rowShape]);
    this.headerLength = header.length;
    this.buffer = new Uint8Array(opts.bufferBytes ?? 4 << 20);
    this.fd = openSync(path, 'w');
    writeAll(this.fd, header);
  }

  /** Elements written so far. */
  get length(): number {
    return this.elements;
  }

  /** Whole rows written so far. */
  get rows(): number {
    return this.rowSize === 0 ? 0 : Math.floor(this.elements / this.rowSize);
  }

  /** Appends elements in C order; a chunk need not end on a row boundary. */
  write(chunk: NpyTypedArrays[D]): void {
    if (this.closed) throw new Error(`${this.path} is already closed`);
    const bytes = bytesOf(chunk);
    this.elements += chunk.length;
    if (bytes.length >= this.buffer.length) {
      this.flush();
      writeAll(this.fd, bytes);
      return;
    }
    if (this.used + bytes.length > this.buffer.length) this.flush();
    this.buffer.set(bytes, this.used);
    this.used += bytes.length;
  }

  private flush(): void {
    if (this.used === 0) return;
    writeAll(this.fd, this.buffer.subarray(0, this.used));
    this.used = 0;
  }

  /** Flushes, checks the element count against the shape, writes the final header and closes. Returns the shape. */
  close(): number[] {
    if (this.closed) throw new Error(`${this.path} is already closed`);
    try {
      this.flush();
      const rows = this.opts.rows ?? (this.rowSize === 0 ? 0 : this.elements / this.rowSize);
      if (!Number.isInteger(rows) || rows * this.rowSize !== this.elements) {
        const what = this.opts.rows === undefined ? `a whole number of rows of ${this.rowSize}` : `${rows} rows`;
        throw new Error(`${this.path}: wrote ${this.elements} ${this.dtype} elements, expected ${what}`);
      }
      const shape = [rows, ...this.rowShape];
      if (this.opts.rows === undefined) {
        const header = encodeNpyHeader(this.dtype, shape);
        // The header length does not depend on the row count (numpy's growth padding), so this overwrite is safe.
        if (header.length !== this.headerLength) throw new Error(`${this.path}: header length changed`);
        writeAll(this.fd, header, 0);
      }
      return shape;
    } finally {
      this.closed = true;
      closeSync(this.fd);
    }
  }

  /** Closes and deletes the file (after a failure). */
  abort(): void {
    if (!this.closed) {
      this.closed = true;
      closeSync(this.fd);
    }
    rmSync(this.path, { force: true });
  }

  /** Bytes per element, for callers that size their chunks. */
  get elementBytes(): number {
    return NPY_DTYPES[this.dtype].bytes;
  }
}
