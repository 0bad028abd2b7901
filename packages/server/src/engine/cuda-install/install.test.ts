import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CUDA_PACKAGE, installCudaProvider } from './install.js';

const root = mkdtempSync(join(tmpdir(), 'trm-cuda-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const cudaLib = randomBytes(300_000);
const sharedLib = randomBytes(1_000);

/** A synthetic package tree like the real tarball's, packed by the system's tar. */
function makePackage(format: 'gnu' | 'pax'): string {
  const src = join(root, `src-${format}`);
  const lib = join(src, CUDA_PACKAGE.folder);
  mkdirSync(lib, { recursive: true });
  writeFileSync(join(lib, 'libonnxruntime_providers_cuda.so'), cudaLib);
  writeFileSync(join(lib, 'libonnxruntime_providers_shared.so'), sharedLib);
  writeFileSync(join(lib, 'libonnxruntime.so'), 'not wanted');
  writeFileSync(join(src, 'package', 'package.json'), '{"name":"x"}');
  // A path over 100 characters needs a GNU long-name or pax record.
  const deep = join(src, 'package', 'a-rather-long-folder-name-'.repeat(4));
  mkdirSync(deep, { recursive: true });
  writeFileSync(join(deep, 'libonnxruntime_providers_cuda.so'), 'a decoy outside the plugin folder');
  const tgz = join(root, `pkg-${format}.tgz`);
  execFileSync('tar', [`--format=${format}`, '-czf', tgz, '-C', src, 'package']);
  return tgz;
}

function fakeOrt(version = '1.29.0'): string {
  const dir = mkdtempSync(join(root, 'ort-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'onnxruntime-node', version }));
  const bin = join(dir, 'bin', 'napi-v6', process.platform, process.arch);
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'libonnxruntime.so.1'), '');
  return dir;
}
const binOf = (ortDir: string) => join(ortDir, 'bin', 'napi-v6', process.platform, process.arch);
const integrityOf = (file: string) => `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;

describe('installCudaProvider', () => {
  for (const format of ['gnu', 'pax'] as const) {
    it(`places both libraries from a ${format} tarball and nothing else`, async () => {
      const tgz = makePackage(format);
      const ortDir = fakeOrt();
      const progress: number[] = [];
      const r = await installCudaProvider({
        from: tgz,
        ortDir,
        integrity: integrityOf(tgz),
        onProgress: (bytes) => progress.push(bytes),
      });
      const bin = binOf(ortDir);
      expect(readFileSync(join(bin, 'libonnxruntime_providers_cuda.so')).equals(cudaLib)).toBe(true);
      expect(readFileSync(join(bin, 'libonnxruntime_providers_shared.so')).equals(sharedLib)).toBe(true);
      expect(readdirSync(bin).sort()).toEqual([
        'libonnxruntime.so.1',
        'libonnxruntime_providers_cuda.so',
        'libonnxruntime_providers_shared.so',
      ]);
      expect(r.files).toEqual([
        { name: 'libonnxruntime_providers_cuda.so', bytes: 300_000 },
        { name: 'libonnxruntime_providers_shared.so', bytes: 1_000 },
      ]);
      expect(progress.at(-1)).toBe(readFileSync(tgz).length);
    });
  }

  it('downloads through fetch with progress, and refuses a tarball whose sha512 is not the published one', async () => {
    const tgz = makePackage('gnu');
    const bytes = readFileSync(tgz);
    const ortDir = fakeOrt();
    const urls: string[] = [];
    const fakeFetch = (async (url: string) => {
      urls.push(url);
      return new Response(bytes, { headers: { 'content-length': String(bytes.length) } });
    }) as unknown as typeof fetch;
    const totals: (number | null)[] = [];
    await expect(
      installCudaProvider({ ortDir, fetch: fakeFetch, onProgress: (_b, total) => totals.push(total) }),
    ).rejects.toThrow(`its sha512 is ${integrityOf(tgz)}, the registry publishes ${CUDA_PACKAGE.integrity}`);
    expect(urls).toEqual([CUDA_PACKAGE.tarball]);
    expect(totals[0]).toBe(bytes.length);
    // Nothing was placed, not even a temporary file.
    expect(readdirSync(binOf(ortDir))).toEqual(['libonnxruntime.so.1']);
    await installCudaProvider({ ortDir, fetch: fakeFetch, integrity: integrityOf(tgz) });
    expect(existsSync(join(binOf(ortDir), 'libonnxruntime_providers_cuda.so'))).toBe(true);
  });

  it('copies from a folder (offline hosts)', async () => {
    makePackage('gnu');
    const ortDir = fakeOrt();
    const r = await installCudaProvider({ from: join(root, 'src-gnu'), ortDir });
    expect(r.files.map((f) => f.bytes)).toEqual([300_000, 1_000]);
    expect(readFileSync(join(binOf(ortDir), 'libonnxruntime_providers_cuda.so')).equals(cudaLib)).toBe(true);
    await expect(installCudaProvider({ from: root, ortDir })).rejects.toThrow('no folder holding');
  });

  it('refuses another onnxruntime-node version and a tarball without the libraries', async () => {
    await expect(installCudaProvider({ from: 'x.tgz', ortDir: fakeOrt('1.30.0') })).rejects.toThrow(
      'is version 1.30.0, but the CUDA provider',
    );
    const src = join(root, 'empty', 'package');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'package.json'), '{}');
    const tgz = join(root, 'empty.tgz');
    execFileSync('tar', ['-czf', tgz, '-C', join(root, 'empty'), 'package']);
    const ortDir = fakeOrt();
    await expect(installCudaProvider({ from: tgz, ortDir, integrity: null })).rejects.toThrow(
      'has no libonnxruntime_providers_cuda.so, libonnxruntime_providers_shared.so under package/Plugins/Linux/x64/',
    );
    expect(readdirSync(binOf(ortDir))).toEqual(['libonnxruntime.so.1']);
  });
});

describe('the tarball reader', () => {
  it('refuses a corrupt header and a truncated archive, and places nothing', async () => {
    const tar = execFileSync('gzip', ['-dc', makePackage('gnu')]);
    const gzipped = (name: string, bytes: Uint8Array) => {
      const file = join(root, name);
      writeFileSync(file, execFileSync('gzip', ['-c'], { input: bytes }));
      return file;
    };
    const corrupt = Uint8Array.from(tar);
    corrupt[10] = corrupt[10]! ^ 0xff;
    const ortDir = fakeOrt();
    await expect(
      installCudaProvider({ from: gzipped('corrupt.tgz', corrupt), ortDir, integrity: null }),
    ).rejects.toThrow('tar header checksum mismatch: the archive is corrupt');
    // cut inside a header, and inside the 300 kB library
    const libAt = tar.indexOf(cudaLib.subarray(0, 64));
    expect(libAt).toBeGreaterThan(0);
    for (const cut of [2048 + 100, libAt + 100_000])
      await expect(
        installCudaProvider({ from: gzipped(`cut-${cut}.tgz`, tar.subarray(0, cut)), ortDir, integrity: null }),
      ).rejects.toThrow('the tar archive is truncated');
    expect(readdirSync(binOf(ortDir))).toEqual(['libonnxruntime.so.1']);
  });
});
