// Streaming safetensors writer. The header needs every tensor's dtype and shape up front; the data then goes to
// disk chunk by chunk, so a 2 GB puzzle-embedding table can be written from row blocks without ever holding it
// whole. The file appears atomically: everything goes to a temporary file beside the target, which is synced
// and renamed over it only when complete; on failure the temporary file is removed and the target is untouched.
import { randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type TensorChunk, chunkBytes } from './bytes.js';
import type { StoredTensor } from './dtype.js';
import { encodeHeader, layoutTensors, type SafetensorsEntry, type SafetensorsSpec } from './header.js';
import type { SafetensorsOptions } from './serialize.js';

/** Small chunks are gathered into a buffer of this size before each write system call. */
const BUFFER_BYTES = 4 << 20;

/** The temporary path beside `path` that an atomic write goes through. */
export function temporaryPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/**
 * Writes one safetensors file tensor by tensor. Create it with the specs of all tensors, call `write(name,
 * chunk)` with each tensor's data in `layout` order (any number of chunks per tensor), then `close()`.
 */
export class SafetensorsWriter {
  /** Tensors in the order their data must arrive. */
  readonly layout: readonly SafetensorsEntry[];
  private index = 0;
  /** Bytes of tensor `index` written so far. */
  private filled = 0;
  private readonly buffer = new Uint8Array(BUFFER_BYTES);
  private buffered = 0;
  private done = false;

  private constructor(
    readonly path: string,
    private readonly tempPath: string,
    private readonly file: FileHandle,
    layout: SafetensorsEntry[],
  ) {
    this.layout = layout;
  }

  static async create(
    path: string,
    specs: readonly SafetensorsSpec[],
    options: SafetensorsOptions = {},
  ): Promise<SafetensorsWriter> {
    const layout = layoutTensors(specs, options.order);
    const header = encodeHeader(layout, options.metadata);
    const tempPath = temporaryPathFor(path);
    const file = await open(tempPath, 'wx');
    const writer = new SafetensorsWriter(path, tempPath, file, layout);
    try {
      await writer.append(header);
    } catch (err) {
      await writer.abort();
      throw err;
    }
    return writer;
  }

  /** The tensor whose data is expected next, or undefined when all are complete. */
  get current(): SafetensorsEntry | undefined {
    this.skipComplete();
    return this.layout[this.index];
  }

  /** Appends a chunk to tensor `name`, which must be the current one. */
  async write(name: string, chunk: TensorChunk): Promise<void> {
    if (this.done) throw new Error(`tensor '${name}': writer for ${this.path} is already closed`);
    const entry = this.current;
    if (entry === undefined)
      throw new Error(`tensor '${name}': all ${this.layout.length} tensors are already complete`);
    if (entry.name !== name && this.filled > 0) {
      throw new Error(
        `tensor '${entry.name}' is incomplete: ${this.filled} of ${entry.end - entry.begin} bytes written ` +
          `before data for '${name}' arrived`,
      );
    }
    if (entry.name !== name) {
      const known = this.layout.some((e) => e.name === name);
      throw new Error(
        known
          ? `tensor '${name}' written out of order: tensor '${entry.name}' comes first ` +
              `(order: ${this.layout.map((e) => e.name).join(', ')})`
          : `tensor '${name}' is not among the tensors declared for ${this.path}`,
      );
    }
    const bytes = chunkBytes(name, entry.dtype, chunk);
    const size = entry.end - entry.begin;
    if (this.filled + bytes.length > size) {
      throw new Error(
        `tensor '${name}': ${this.filled + bytes.length} bytes written but shape ${JSON.stringify(entry.shape)} of ` +
          `${entry.dtype} holds ${size}`,
      );
    }
    await this.append(bytes);
    this.filled += bytes.length;
  }

  /** Checks that every tensor is complete, syncs and renames the file into place. */
  async close(): Promise<void> {
    if (this.done) return;
    const missing = this.current;
    if (missing !== undefined) {
      await this.abort();
      throw new Error(
        `tensor '${missing.name}' is incomplete: ${this.filled} of ${missing.end - missing.begin} bytes written ` +
          `(${this.path} not written)`,
      );
    }
    try {
      await this.flush();
      await this.file.sync();
      await this.file.close();
      this.done = true;
      await rename(this.tempPath, this.path);
    } catch (err) {
      await this.abort();
      throw err;
    }
  }

  /** Discards everything written; the target path is left as it was. */
  async abort(): Promise<void> {
    if (!this.done) {
      this.done = true;
      await this.file.close().catch(() => undefined);
    }
    await rm(this.tempPath, { force: true });
  }

  private skipComplete(): void {
    while (this.index < this.layout.length) {
      const e = this.layout[this.index]!;
      if (this.filled < e.end - e.begin) return;
      this.index++;
      this.filled = 0;
    }
  }

  private async append(bytes: Uint8Array): Promise<void> {
    if (this.buffered + bytes.length <= this.buffer.length) {
      this.buffer.set(bytes, this.buffered);
      this.buffered += bytes.length;
      return;
    }
    await this.flush();
    if (bytes.length >= this.buffer.length) {
      await writeAll(this.file, bytes);
    } else {
      this.buffer.set(bytes, 0);
      this.buffered = bytes.length;
    }
  }

  private async flush(): Promise<void> {
    if (this.buffered === 0) return;
    await writeAll(this.file, this.buffer.subarray(0, this.buffered));
    this.buffered = 0;
  }
}

async function writeAll(file: FileHandle, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) {
    // One write call is capped near 2 GiB by the OS; larger arrays go in slices.
    const { bytesWritten } = await file.write(bytes, off, Math.min(bytes.length - off, 1 << 30));
    off += bytesWritten;
  }
}

/** Data for one tensor: an array, chunks, or a function producing them when the writer gets to that tensor. */
export type ChunkSource =
  | TensorChunk
  | Iterable<TensorChunk>
  | AsyncIterable<TensorChunk>
  | (() => TensorChunk | Iterable<TensorChunk> | AsyncIterable<TensorChunk>);

export interface SafetensorsSource extends SafetensorsSpec {
  data: ChunkSource;
}

/**
 * Writes tensors to `path` atomically. Each source's data is pulled only when the writer reaches it (a function
 * is called then), so lazily produced chunks keep memory at one chunk. Accepts a list of sources or a plain map
 * of in-memory tensors.
 */
export async function writeSafetensors(
  path: string,
  tensors: readonly SafetensorsSource[] | Record<string, StoredTensor> | ReadonlyMap<string, StoredTensor>,
  options: SafetensorsOptions = {},
): Promise<void> {
  const sources: SafetensorsSource[] = Array.isArray(tensors)
    ? [...tensors]
    : (tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors as Record<string, StoredTensor>)).map(
        ([name, t]) => ({ name, dtype: t.dtype, shape: t.shape, data: t.data }),
      );
  const byName = new Map(sources.map((s) => [s.name, s]));
  const writer = await SafetensorsWriter.create(path, sources, options);
  try {
    for (const entry of writer.layout) {
      let written = 0;
      for await (const chunk of chunksOf(entry.name, byName.get(entry.name)!.data)) {
        await writer.write(entry.name, chunk);
        written += chunk.byteLength;
      }
      if (written !== entry.end - entry.begin) {
        throw new Error(
          `tensor '${entry.name}': data has ${written} bytes but shape ${JSON.stringify(entry.shape)} of ` +
            `${entry.dtype} needs ${entry.end - entry.begin}`,
        );
      }
    }
    await writer.close();
  } catch (err) {
    await writer.abort();
    throw err;
  }
}

async function* chunksOf(name: string, source: ChunkSource): AsyncGenerator<TensorChunk> {
  const value = typeof source === 'function' ? source() : source;
  // A typed array is itself iterable (over numbers), so test for one before treating the value as chunks.
  if (ArrayBuffer.isView(value)) {
    yield value;
    return;
  }
  for await (const chunk of value as AsyncIterable<TensorChunk> | Iterable<TensorChunk>) {
    if (!ArrayBuffer.isView(chunk))
      throw new Error(`tensor '${name}': expected typed array chunks, got ${typeof chunk}`);
    yield chunk;
  }
}
