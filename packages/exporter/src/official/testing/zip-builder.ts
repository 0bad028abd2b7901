// Test support: writes small zip archives (stored or deflated entries, or any method number for refusal tests)
// and rebuilds a fixture checkpoint with some entries edited, so that bad checkpoints can be made from good ones.
import { writeFile } from 'node:fs/promises';
import { crc32, deflateRawSync } from 'node:zlib';
import { ZipArchive } from '../zip-reader.js';

export interface ZipInput {
  name: string;
  data: Uint8Array;
  /** 0 stored (default), 8 deflate; any other number is written as is with the data stored */
  method?: number;
  /** the size the directory claims (default: the real one), for truncation tests */
  claimedSize?: number;
}

/** A zip file's bytes: local headers with data, then the central directory and the end record. */
export function buildZip(entries: readonly ZipInput[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  const enc = new TextEncoder();
  for (const e of entries) {
    const name = enc.encode(e.name);
    const method = e.method ?? 0;
    const body = method === 8 ? new Uint8Array(deflateRawSync(e.data)) : e.data;
    const size = e.claimedSize ?? e.data.length;
    const packed = method === 8 ? body.length : (e.claimedSize ?? body.length);
    const crc = crc32(e.data) >>> 0;
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, method, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, packed, true);
    lv.setUint32(22, size, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    const dir = new Uint8Array(46 + name.length);
    const dv = new DataView(dir.buffer);
    dv.setUint32(0, 0x02014b50, true);
    dv.setUint16(4, 20, true);
    dv.setUint16(6, 20, true);
    dv.setUint16(10, method, true);
    dv.setUint32(16, crc, true);
    dv.setUint32(20, packed, true);
    dv.setUint32(24, size, true);
    dv.setUint16(28, name.length, true);
    dv.setUint32(42, offset, true);
    dir.set(name, 46);
    parts.push(local, body);
    central.push(dir);
    offset += local.length + body.length;
  }
  const dirSize = central.reduce((n, c) => n + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, dirSize, true);
  ev.setUint32(16, offset, true);
  return Buffer.concat([...parts, ...central, end]);
}

/** Every entry of a zip, in order. */
export async function readZipEntries(path: string): Promise<ZipInput[]> {
  const zip = await ZipArchive.open(path);
  try {
    const out: ZipInput[] = [];
    for (const e of zip.entries) out.push({ name: e.name, data: await zip.read(e.name) });
    return out;
  } finally {
    await zip.close();
  }
}

/** Writes `to`: the archive at `from` with `edit` applied to its list of entries. */
export async function rebuildZip(from: string, to: string, edit: (entries: ZipInput[]) => ZipInput[]): Promise<void> {
  await writeFile(to, buildZip(edit(await readZipEntries(from))));
}

/** Replaces the first occurrence of `find` in `bytes` (throws when absent, so a test cannot silently not edit). */
type Pattern = Uint8Array | readonly number[] | string;

export function replaceBytes(bytes: Uint8Array, find: Pattern, put: Pattern): Uint8Array {
  const asBuffer = (x: Pattern) => (typeof x === 'string' ? Buffer.from(x, 'latin1') : Buffer.from(Uint8Array.from(x)));
  const f = asBuffer(find);
  const p = asBuffer(put);
  const b = Buffer.from(bytes);
  const at = b.indexOf(f);
  if (at < 0) throw new Error(`pattern ${JSON.stringify(f.toString('latin1'))} not found`);
  return Buffer.concat([b.subarray(0, at), p, b.subarray(at + f.length)]);
}
