// A streaming reader of tar archives (ustar, with GNU long names and pax path/size records), enough to pull a few
// files out of an npm tarball after gunzip without holding the archive in memory: the CUDA provider library alone
// is 230 MB. Each wanted entry is written through a sink as its bytes arrive; the rest is skipped.

const BLOCK = 512;

export interface TarEntryHeader {
  path: string;
  size: number;
  /** '0' file, '5' folder, '2' symlink, ... */
  type: string;
}

/** Receives one wanted entry's bytes in order, then `close`. */
export interface TarSink {
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/** Returns a sink for entries to keep, or null to skip one. */
export type TarSelector = (entry: TarEntryHeader) => Promise<TarSink | null> | TarSink | null;

function text(block: Uint8Array, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return new TextDecoder().decode(end < 0 ? field : field.subarray(0, end));
}

function octal(block: Uint8Array, start: number, length: number, what: string): number {
  // Sizes of 8 GiB and more use GNU's base-256 form: the high bit of the first byte set.
  if (block[start]! & 0x80) {
    let v = block[start]! & 0x7f;
    for (let i = 1; i < length; i++) v = v * 256 + block[start + i]!;
    return v;
  }
  const s = text(block, start, length).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new Error(`tar header: ${what} field is not octal (${JSON.stringify(s)})`);
  return Number.parseInt(s, 8);
}

function checksumOk(block: Uint8Array): boolean {
  const stored = octal(block, 148, 8, 'checksum');
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!;
  return sum === stored;
}

/** pax extended header records: "<len> <key>=<value>\n" repeated. */
function parsePax(data: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  const s = new TextDecoder().decode(data);
  let pos = 0;
  while (pos < s.length) {
    const space = s.indexOf(' ', pos);
    if (space < 0) break;
    const len = Number.parseInt(s.slice(pos, space), 10);
    if (!Number.isFinite(len) || len <= 0) break;
    const record = s.slice(space + 1, pos + len - 1);
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    pos += len;
  }
  return out;
}

export class TarReader {
  private pending = new Uint8Array(0);
  /** bytes of the current entry's data still to come, then padding to the block */
  private remaining = 0;
  private padding = 0;
  private sink: TarSink | null = null;
  /** data of a GNU long-name or pax header being collected */
  private meta: { kind: 'L' | 'x'; parts: Uint8Array[] } | null = null;
  private nextPath: string | null = null;
  private nextSize: number | null = null;
  private ended = false;
  entries = 0;

  constructor(private readonly select: TarSelector) {}

  async write(chunk: Uint8Array): Promise<void> {
    let data = this.pending.length > 0 ? concat(this.pending, chunk) : chunk;
    this.pending = new Uint8Array(0);
    while (data.length > 0 && !this.ended) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, data.length);
        const part = data.subarray(0, n);
        if (this.sink) await this.sink.write(part);
        else if (this.meta) this.meta.parts.push(part.slice());
        this.remaining -= n;
        data = data.subarray(n);
        if (this.remaining === 0) await this.finishEntry();
        continue;
      }
      if (this.padding > 0) {
        const n = Math.min(this.padding, data.length);
        this.padding -= n;
        data = data.subarray(n);
        continue;
      }
      if (data.length < BLOCK) {
        this.pending = data.slice();
        return;
      }
      await this.header(data.subarray(0, BLOCK));
      data = data.subarray(BLOCK);
    }
  }

  /** Checks that the archive ended cleanly (no entry cut short). */
  async end(): Promise<void> {
    if (this.remaining > 0 || this.meta || (this.pending.length > 0 && !this.ended))
      throw new Error('the tar archive is truncated');
  }

  private async header(block: Uint8Array): Promise<void> {
    if (block.every((b) => b === 0)) {
      // Two zero blocks end the archive; one is enough to stop reading.
      this.ended = true;
      return;
    }
    if (!checksumOk(block)) throw new Error('tar header checksum mismatch: the archive is corrupt');
    const type = text(block, 156, 1) || '0';
    const name = text(block, 0, 100);
    const prefix = text(block, 257, 6).startsWith('ustar') ? text(block, 345, 155) : '';
    const size = this.nextSize ?? octal(block, 124, 12, 'size');
    const path = this.nextPath ?? (prefix ? `${prefix}/${name}` : name);
    this.remaining = size;
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (type === 'L' || type === 'x') {
      this.meta = { kind: type, parts: [] };
      this.nextPath = null;
      this.nextSize = null;
      if (size === 0) await this.finishEntry();
      return;
    }
    this.nextPath = null;
    this.nextSize = null;
    this.entries++;
    this.sink = type === '0' || type === '7' ? await this.select({ path, size, type }) : null;
    if (size === 0) await this.finishEntry();
  }

  private async finishEntry(): Promise<void> {
    if (this.meta) {
      const data = concat(...this.meta.parts);
      if (this.meta.kind === 'L') this.nextPath = text(data, 0, data.length);
      else {
        const pax = parsePax(data);
        if (pax.path !== undefined) this.nextPath = pax.path;
        if (pax.size !== undefined) this.nextSize = Number(pax.size);
      }
      this.meta = null;
      return;
    }
    const sink = this.sink;
    this.sink = null;
    if (sink) await sink.close();
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
