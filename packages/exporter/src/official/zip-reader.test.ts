// The zip reader on a real torch.save archive (ZIP64 end records, data descriptors, 64-byte aligned storages) and on
// small hand-made archives: ranged reads, deflate, refused methods, CRC checks and damaged directories.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildZip } from './testing/zip-builder.js';
import { ZipArchive } from './zip-reader.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'official', 'att', 'step_0');
const root = mkdtempSync(join(tmpdir(), 'zip-reader-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
function file(bytes: Uint8Array): string {
  const p = join(root, `z${n++}`);
  writeFileSync(p, bytes);
  return p;
}

describe('ZipArchive', () => {
  it("lists a torch.save archive's entries and reads them whole or in part", async () => {
    const zip = await ZipArchive.open(FIXTURE);
    try {
      expect(zip.entries.map((e) => e.name).slice(0, 4)).toEqual([
        'step_0/data.pkl',
        'step_0/.format_version',
        'step_0/.storage_alignment',
        'step_0/byteorder',
      ]);
      expect(zip.entries).toHaveLength(21);
      expect(new TextDecoder().decode(await zip.read('step_0/byteorder'))).toBe('little');
      expect(new TextDecoder().decode(await zip.read('step_0/version'))).toBe('3\n');
      // data/5 is q_head.bias: 2 float32 values; the second read alone.
      const bias = new Float32Array((await zip.read('step_0/data/5')).buffer);
      const second = new Float32Array((await zip.read('step_0/data/5', 4, 4)).buffer);
      expect(second[0]).toBe(bias[1]);
      await expect(zip.read('step_0/data/5', 4, 8)).rejects.toThrow('holds 8 bytes; bytes [4, 12) were asked for');
      await expect(zip.read('nope')).rejects.toThrow('has no entry nope');
    } finally {
      await zip.close();
    }
  });

  it('inflates deflated entries and refuses other methods and bad CRCs', async () => {
    const text = new TextEncoder().encode('tiny recursive model '.repeat(50));
    const zip = await ZipArchive.open(file(buildZip([{ name: 'a/x', data: text, method: 8 }])));
    expect(zip.entry('a/x').compressedSize).toBeLessThan(text.length);
    expect(await zip.read('a/x', 5, 9)).toEqual(text.subarray(5, 14));
    await zip.close();
    await expect(ZipArchive.open(file(buildZip([{ name: 'a/x', data: text, method: 14 }])))).rejects.toThrow(
      'entry a/x is compressed with method 14; only stored (0) and deflate (8) entries can be read',
    );
    const bytes = buildZip([{ name: 'a/x', data: text }]);
    bytes[40 + 3]! ^= 0xff;
    const corrupt = await ZipArchive.open(file(bytes));
    await expect(corrupt.read('a/x')).rejects.toThrow(
      /entry a\/x is corrupt \(CRC-32 0x[0-9a-f]{8}, the directory says/,
    );
    await corrupt.close();
  });

  it('says what is wrong with files that are not (whole) zips', async () => {
    await expect(ZipArchive.open(file(new TextEncoder().encode('hello')))).rejects.toThrow(
      'is not a zip archive (no end-of-central-directory record',
    );
    const good = buildZip([{ name: 'a/x', data: new Uint8Array(1000) }]);
    // the directory claims an entry larger than the file holds
    const long = await ZipArchive.open(file(buildZip([{ name: 'a/x', data: new Uint8Array(10), claimedSize: 5000 }])));
    await expect(long.read('a/x')).rejects.toThrow('entry a/x is truncated');
    await long.close();
    // the end record survives but the directory it points to is cut away
    const cut = Buffer.concat([good.subarray(0, 500), good.subarray(good.length - 22)]);
    await expect(ZipArchive.open(file(cut))).rejects.toThrow('runs past the end of the');
  });
});
