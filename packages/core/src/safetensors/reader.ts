// Random-access safetensors reader. Opening reads only the header; each tensor, or a range of rows of one (the
// first axis), is then read from its file offset into a fresh buffer, so picking a few rows of a 2 GB
// puzzle-embedding table costs only those rows.
import { type FileHandle, open } from 'node:fs/promises';
import { type SafetensorsDType, type StoredTensor, numel, viewAs } from './dtype.js';
import { decodeHeader, decodeHeaderLength, type SafetensorsHeader, type SafetensorsEntry } from './header.js';
import type { ParsedSafetensors } from './serialize.js';

/** One read call is capped near 2 GiB by the OS; larger tensors are read in slices of this size. */
const READ_SLICE = 1 << 30;

export class SafetensorsFile {
  private readonly byName: Map<string, SafetensorsEntry>;

  private constructor(
    readonly path: string,
    readonly header: SafetensorsHeader,
    private readonly file: FileHandle,
  ) {
    this.byName = new Map(header.tensors.map((t) => [t.name, t]));
  }

  /** Opens `path` and validates its header (offsets, sizes, dtypes) against the file size. */
  static async open(path: string): Promise<SafetensorsFile> {
    const file = await open(path, 'r');
    try {
      const { size } = await file.stat();
      const prefix = await readExactly(file, 0, Math.min(8, size), path);
      const n = decodeHeaderLength(prefix, size);
      const json = await readExactly(file, 8, n, path);
      return new SafetensorsFile(path, decodeHeader(json, n, size), file);
    } catch (err) {
      await file.close();
      throw new Error(`${path}: ${(err as Error).message}`, { cause: err });
    }
  }

  get metadata(): Record<string, string> | undefined {
    return this.header.metadata;
  }

  /** StoredTensor names in file order. */
  get names(): string[] {
    return this.header.tensors.map((t) => t.name);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** Dtype, shape and offsets of one tensor. */
  info(name: string): SafetensorsEntry {
    const entry = this.byName.get(name);
    if (entry === undefined) {
      const names = this.names;
      const shown = names.slice(0, 20).join(', ') + (names.length > 20 ? `, ... (${names.length} in all)` : '');
      throw new Error(`tensor '${name}' is not in ${this.path}; it holds: ${shown || '(no tensors)'}`);
    }
    return entry;
  }

  /** Reads one whole tensor. */
  async read(name: string): Promise<StoredTensor> {
    const e = this.info(name);
    return this.readSpan(e, e.shape, e.begin, e.end);
  }

  /** Reads rows [start, end) along the first axis; the result has shape [end - start, ...rest]. */
  async readRows(name: string, start: number, end: number): Promise<StoredTensor> {
    const e = this.info(name);
    if (e.shape.length === 0) throw new Error(`tensor '${name}' is a scalar; readRows needs at least one axis`);
    const rows = e.shape[0]!;
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end > rows) {
      throw new Error(`tensor '${name}': row range [${start}, ${end}) is outside [0, ${rows}]`);
    }
    const rest = e.shape.slice(1);
    const rowBytes = (e.end - e.begin) / (rows || 1);
    return this.readSpan(e, [end - start, ...rest], e.begin + start * rowBytes, e.begin + end * rowBytes);
  }

  async close(): Promise<void> {
    await this.file.close();
  }

  private async readSpan(e: SafetensorsEntry, shape: number[], begin: number, end: number): Promise<StoredTensor> {
    const bytes = await readExactly(
      this.file,
      this.header.dataStart + begin,
      end - begin,
      `${this.path}, tensor '${e.name}'`,
    );
    const data = viewAs(e.dtype as SafetensorsDType, bytes.buffer as ArrayBuffer, 0, numel(shape));
    return { dtype: e.dtype, shape, data };
  }
}

/** Reads `length` bytes at `position` into a fresh buffer; a short read means the file shrank or is truncated. */
async function readExactly(file: FileHandle, position: number, length: number, what: string): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let off = 0;
  while (off < length) {
    const { bytesRead } = await file.read(out, off, Math.min(length - off, READ_SLICE), position + off);
    if (bytesRead === 0)
      throw new Error(`${what}: file truncated (got ${off} of ${length} bytes at offset ${position})`);
    off += bytesRead;
  }
  return out;
}

/** Header of a file, without its data. */
export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  const f = await SafetensorsFile.open(path);
  await f.close();
  return f.header;
}

/** Reads every tensor of a file (for files that fit in memory comfortably). */
export async function readSafetensors(path: string): Promise<ParsedSafetensors> {
  const f = await SafetensorsFile.open(path);
  try {
    const tensors = new Map<string, StoredTensor>();
    for (const name of f.names) tensors.set(name, await f.read(name));
    return { metadata: f.metadata, tensors };
  } finally {
    await f.close();
  }
}
