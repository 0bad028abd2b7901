// A small read-only ZIP reader for PyTorch checkpoints (torch.save writes a zip of uncompressed entries, always
// with ZIP64 end records). Opening reads only the end records and the central directory; an entry's bytes are then
// read from its offset through a file handle, so a checkpoint with a 2 GB puzzle table is never read whole.
// Deflated entries (a checkpoint re-zipped by hand) are inflated with node:zlib; other methods are refused.
import { type FileHandle, open } from 'node:fs/promises';
import { crc32, inflateRawSync } from 'node:zlib';

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_END = 0x06054b50;
const SIG_END64 = 0x06064b50;
const SIG_END64_LOCATOR = 0x07064b50;
const METHOD_STORED = 0;
const METHOD_DEFLATE = 8;
/** The end record is 22 bytes plus a comment of at most 65535 bytes. */
const END_SEARCH = 22 + 0xffff;
/** One read call is capped near 2 GiB by the OS; larger spans are read in slices. */
const READ_SLICE = 1 << 30;

export class ZipFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ZipFormatError';
  }
}

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflate */
  method: number;
  compressedSize: number;
  size: number;
  crc32: number;
  /** offset of the local header in the file */
  localHeaderOffset: number;
}

/** A value of a little-endian field that must fit in a JS number (ZIP64 fields are 64-bit). */
function u64(view: DataView, at: number, what: string): number {
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipFormatError(`${what} is too large (${v})`);
  return Number(v);
}

export class ZipArchive {
  private readonly byName: Map<string, ZipEntry>;
  /** where each entry's data begins, found from its local header on first use */
  private readonly dataStart = new Map<string, number>();

  private constructor(
    readonly path: string,
    readonly size: number,
    readonly entries: readonly ZipEntry[],
    private readonly file: FileHandle,
  ) {
    this.byName = new Map(entries.map((e) => [e.name, e]));
  }

  /** Opens `path` and reads its central directory. Throws ZipFormatError when it is not a readable zip. */
  static async open(path: string): Promise<ZipArchive> {
    const file = await open(path, 'r');
    try {
      const { size } = await file.stat();
      const entries = await readCentralDirectory(file, size, path);
      return new ZipArchive(path, size, entries, file);
    } catch (err) {
      await file.close();
      throw err;
    }
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  entry(name: string): ZipEntry {
    const e = this.byName.get(name);
    if (!e) throw new ZipFormatError(`${this.path} has no entry ${name}`);
    return e;
  }

  /**
   * Bytes [start, start + length) of an entry's uncompressed content, in a fresh buffer. A stored entry is read
   * from its offset directly; a deflated one is read and inflated whole. Reading a whole entry checks its CRC-32.
   */
  async read(name: string, start = 0, length?: number): Promise<Uint8Array> {
    const e = this.entry(name);
    const n = length ?? e.size - start;
    if (start < 0 || n < 0 || start + n > e.size)
      throw new ZipFormatError(
        `${this.path}: entry ${name} holds ${e.size} bytes; bytes [${start}, ${start + n}) were asked for`,
      );
    const at = await this.dataOffset(e);
    if (at + e.compressedSize > this.size)
      throw new ZipFormatError(
        `${this.path}: entry ${name} is truncated (its ${e.compressedSize} bytes at offset ${at} run past the end of the ${this.size}-byte file)`,
      );
    let bytes: Uint8Array;
    if (e.method === METHOD_STORED) {
      bytes = await readExactly(this.file, at + start, n, `${this.path}, entry ${name}`);
      if (start === 0 && n === e.size) this.checkCrc(e, bytes);
      return bytes;
    }
    const packed = await readExactly(this.file, at, e.compressedSize, `${this.path}, entry ${name}`);
    try {
      bytes = inflateRawSync(packed);
    } catch (err) {
      throw new ZipFormatError(`${this.path}: entry ${name} does not inflate: ${(err as Error).message}`);
    }
    if (bytes.length !== e.size)
      throw new ZipFormatError(`${this.path}: entry ${name} inflates to ${bytes.length} bytes, expected ${e.size}`);
    this.checkCrc(e, bytes);
    // A fresh Uint8Array at offset 0 (a Buffer's slice() would share memory and could be unaligned).
    return new Uint8Array(bytes.subarray(start, start + n));
  }

  async close(): Promise<void> {
    await this.file.close();
  }

  private checkCrc(e: ZipEntry, bytes: Uint8Array): void {
    const got = crc32(bytes) >>> 0;
    if (got !== e.crc32)
      throw new ZipFormatError(
        `${this.path}: entry ${e.name} is corrupt (CRC-32 ${hex(got)}, the directory says ${hex(e.crc32)})`,
      );
  }

  private async dataOffset(e: ZipEntry): Promise<number> {
    const known = this.dataStart.get(e.name);
    if (known !== undefined) return known;
    if (e.localHeaderOffset + 30 > this.size)
      throw new ZipFormatError(`${this.path}: the local header of ${e.name} lies past the end of the file`);
    const head = await readExactly(this.file, e.localHeaderOffset, 30, `${this.path}, local header of ${e.name}`);
    const view = new DataView(head.buffer);
    if (view.getUint32(0, true) !== SIG_LOCAL)
      throw new ZipFormatError(`${this.path}: no local header for ${e.name} at offset ${e.localHeaderOffset}`);
    // The local header's own name and extra-field lengths decide where the data starts (PyTorch pads the extra
    // field so that every storage starts at a multiple of 64 bytes).
    const at = e.localHeaderOffset + 30 + view.getUint16(26, true) + view.getUint16(28, true);
    this.dataStart.set(e.name, at);
    return at;
  }
}

function hex(x: number): string {
  return `0x${x.toString(16).padStart(8, '0')}`;
}

async function readExactly(file: FileHandle, position: number, length: number, what: string): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let off = 0;
  while (off < length) {
    const { bytesRead } = await file.read(out, off, Math.min(length - off, READ_SLICE), position + off);
    if (bytesRead === 0)
      throw new ZipFormatError(`${what}: file truncated (got ${off} of ${length} bytes at offset ${position})`);
    off += bytesRead;
  }
  return out;
}

interface DirectoryPlace {
  count: number;
  offset: number;
  size: number;
}

/** Finds the central directory through the end record (and its ZIP64 form when the fields overflow or exist). */
async function findDirectory(file: FileHandle, size: number, path: string): Promise<DirectoryPlace> {
  const tailLen = Math.min(size, END_SEARCH);
  const tail = await readExactly(file, size - tailLen, tailLen, path);
  const view = new DataView(tail.buffer);
  let end = -1;
  for (let i = tailLen - 22; i >= 0; i--) {
    if (view.getUint32(i, true) === SIG_END) {
      end = i;
      break;
    }
  }
  if (end < 0)
    throw new ZipFormatError(
      `${path} is not a zip archive (no end-of-central-directory record; the file may be truncated or not a checkpoint)`,
    );
  let place: DirectoryPlace = {
    count: view.getUint16(end + 10, true),
    size: view.getUint32(end + 12, true),
    offset: view.getUint32(end + 16, true),
  };
  if (view.getUint16(end + 4, true) !== 0 || view.getUint16(end + 6, true) !== 0)
    throw new ZipFormatError(`${path} is a multi-part zip archive, which is not supported`);
  const locator = end - 20;
  if (locator >= 0 && view.getUint32(locator, true) === SIG_END64_LOCATOR) {
    const end64 = u64(view, locator + 8, `${path}: ZIP64 end record offset`);
    if (end64 + 56 > size) throw new ZipFormatError(`${path}: the ZIP64 end record lies past the end of the file`);
    const rec = await readExactly(file, end64, 56, path);
    const v64 = new DataView(rec.buffer);
    if (v64.getUint32(0, true) !== SIG_END64)
      throw new ZipFormatError(`${path}: no ZIP64 end record at offset ${end64}`);
    place = {
      count: u64(v64, 32, `${path}: entry count`),
      size: u64(v64, 40, `${path}: central directory size`),
      offset: u64(v64, 48, `${path}: central directory offset`),
    };
  } else if (place.count === 0xffff || place.size === 0xffffffff || place.offset === 0xffffffff) {
    throw new ZipFormatError(`${path}: the end record needs a ZIP64 record, which is missing`);
  }
  if (place.offset + place.size > size)
    throw new ZipFormatError(
      `${path}: the central directory (${place.size} bytes at offset ${place.offset}) runs past the end of the ${size}-byte file`,
    );
  return place;
}

async function readCentralDirectory(file: FileHandle, size: number, path: string): Promise<ZipEntry[]> {
  const place = await findDirectory(file, size, path);
  const dir = await readExactly(file, place.offset, place.size, path);
  const view = new DataView(dir.buffer);
  const decoder = new TextDecoder('utf-8', { fatal: false });
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < place.count; i++) {
    if (p + 46 > dir.length || view.getUint32(p, true) !== SIG_CENTRAL)
      throw new ZipFormatError(`${path}: central directory entry ${i} is damaged (offset ${place.offset + p})`);
    const flags = view.getUint16(p + 8, true);
    const method = view.getUint16(p + 10, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    if (p + 46 + nameLen + extraLen + commentLen > dir.length)
      throw new ZipFormatError(`${path}: central directory entry ${i} runs past the directory`);
    const name = decoder.decode(dir.subarray(p + 46, p + 46 + nameLen));
    let compressedSize = view.getUint32(p + 20, true);
    let uncompressed = view.getUint32(p + 24, true);
    let localHeaderOffset = view.getUint32(p + 42, true);
    // ZIP64 extended information: 64-bit values for exactly the fields that hold 0xffffffff, in this order.
    let x = p + 46 + nameLen;
    const extraEnd = x + extraLen;
    while (x + 4 <= extraEnd) {
      const id = view.getUint16(x, true);
      const len = view.getUint16(x + 2, true);
      if (id === 0x0001) {
        let q = x + 4;
        const take = (what: string) => {
          if (q + 8 > x + 4 + len) throw new ZipFormatError(`${path}: entry ${name} has a short ZIP64 field`);
          const v = u64(view, q, `${path}: entry ${name} ${what}`);
          q += 8;
          return v;
        };
        if (uncompressed === 0xffffffff) uncompressed = take('size');
        if (compressedSize === 0xffffffff) compressedSize = take('compressed size');
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = take('offset');
      }
      x += 4 + len;
    }
    if (flags & 1) throw new ZipFormatError(`${path}: entry ${name} is encrypted, which is not supported`);
    if (method !== METHOD_STORED && method !== METHOD_DEFLATE)
      throw new ZipFormatError(
        `${path}: entry ${name} is compressed with method ${method}; only stored (0) and deflate (8) entries can be read (torch.save writes stored entries)`,
      );
    if (method === METHOD_STORED && compressedSize !== uncompressed)
      throw new ZipFormatError(
        `${path}: stored entry ${name} has ${compressedSize} bytes on disk but a size of ${uncompressed}`,
      );
    entries.push({
      name,
      method,
      compressedSize,
      size: uncompressed,
      crc32: view.getUint32(p + 16, true),
      localHeaderOffset,
    });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}
