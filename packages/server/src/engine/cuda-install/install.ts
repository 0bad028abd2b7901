// Installs ONNX Runtime's CUDA execution provider for onnxruntime-node, which does not bundle it: the two provider
// libraries of the npm package com.github.asus4.onnxruntime.linux-x64-gpu@0.4.9 (ORT 1.29.0 built against CUDA 13,
// cuDNN 9) are placed next to libonnxruntime.so.1. Source: that package's tarball from the npm registry (checked
// against its published sha512), a copy of the tarball, or a folder holding the libraries (offline hosts).
// Files are written under temporary names and renamed into place only when everything checked out. The tarball is
// streamed through node-tar's parser: the CUDA provider library alone is 230 MB, so nothing holds the archive whole.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { copyFile, type FileHandle, open, readdir, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import {
  CUDA_PROVIDER_LIBRARIES,
  ONNXRUNTIME_VERSION,
  onnxruntimeBinDir,
  onnxruntimePackageDir,
} from '../providers.js';

export const CUDA_PACKAGE = {
  name: 'com.github.asus4.onnxruntime.linux-x64-gpu',
  version: '0.4.9',
  tarball:
    'https://registry.npmjs.org/com.github.asus4.onnxruntime.linux-x64-gpu/-/com.github.asus4.onnxruntime.linux-x64-gpu-0.4.9.tgz',
  /** dist.integrity of the published tarball (npm view ...@0.4.9 dist) */
  integrity: 'sha512-FopIhNE/Ng+v2X65wVc9clPCBCvhvA53Hxo2U0Kf5fGdVsC7iCA+mZ0KLWggcQAj7TIZ6pNidR4AC10g74Xo6w==',
  /** where the Linux x64 libraries lie in the tarball */
  folder: 'package/Plugins/Linux/x64/',
};

export interface CudaInstallOptions {
  /** a .tgz of the package, or a folder holding the libraries (directly or under package/Plugins/Linux/x64) */
  from?: string;
  /** onnxruntime-node's package folder (default: the one the server resolves) */
  ortDir?: string;
  /** expected sha512 of the tarball in npm's integrity form; null skips the check (default: the published one) */
  integrity?: string | null;
  /** progress of the tarball's bytes (download or file) */
  onProgress?: (bytes: number, total: number | null) => void;
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

export interface CudaInstallResult {
  dir: string;
  files: { name: string; bytes: number }[];
  source: string;
}

function checkRuntime(ortDir: string): string {
  const pkgPath = join(ortDir, 'package.json');
  if (!existsSync(pkgPath)) throw new Error(`${ortDir} is not the onnxruntime-node package (no package.json)`);
  const version = (JSON.parse(readFileSync(pkgPath, 'utf8')) as { version?: string }).version;
  if (version !== ONNXRUNTIME_VERSION)
    throw new Error(
      `onnxruntime-node in ${ortDir} is version ${version}, but the CUDA provider of ${CUDA_PACKAGE.name}@${CUDA_PACKAGE.version} is built for ${ONNXRUNTIME_VERSION} and only loads into that exact version: install onnxruntime-node ${ONNXRUNTIME_VERSION}`,
    );
  const binDir = onnxruntimeBinDir(ortDir);
  if (!existsSync(join(binDir, 'libonnxruntime.so.1')))
    throw new Error(
      `${binDir} has no libonnxruntime.so.1: the CUDA provider is for Linux x64 (this is ${process.platform}-${process.arch})`,
    );
  return binDir;
}

/** A file written under a temporary name in `dir`, renamed to `name` by commit(). */
class StagedFile {
  bytes = 0;
  readonly temp: string;
  private handle: FileHandle | null = null;

  constructor(
    readonly dir: string,
    readonly name: string,
  ) {
    this.temp = join(dir, `.${name}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  }

  /** set by discard(): a write still in flight (the parser's entry outlives a failed pipeline) leaves no file */
  private discarded = false;

  /** The open file, or null once discarded (a file opened meanwhile is removed again). */
  private async file(): Promise<FileHandle | null> {
    if (this.discarded) return null;
    if (this.handle) return this.handle;
    const handle = await open(this.temp, 'w', 0o755);
    if (this.discarded) {
      await handle.close();
      await rm(this.temp, { force: true });
      return null;
    }
    this.handle = handle;
    return handle;
  }

  async write(chunk: Uint8Array): Promise<void> {
    const handle = await this.file();
    if (!handle) return;
    await handle.write(chunk);
    this.bytes += chunk.length;
  }

  async close(): Promise<void> {
    const handle = await this.file();
    if (!handle) return;
    await handle.sync();
    await handle.close();
    this.handle = null;
  }

  async commit(): Promise<void> {
    await rename(this.temp, join(this.dir, this.name));
  }

  async discard(): Promise<void> {
    this.discarded = true;
    const handle = this.handle;
    this.handle = null;
    await handle?.close().catch(() => {});
    await rm(this.temp, { force: true });
  }
}

/** Hashes and counts the bytes that pass. */
function tap(hash: ReturnType<typeof createHash>, total: number | null, onProgress?: CudaInstallOptions['onProgress']) {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      seen += chunk.length;
      onProgress?.(seen, total);
      done(null, chunk);
    },
  });
}

/** Entry types that hold a regular file's bytes. */
const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);

/**
 * A writable end for an uncompressed tar stream: node-tar's parser, writing each regular file that `stage` takes
 * (returns a StagedFile for) as its bytes arrive; `seen` collects the paths of all regular files. Fails on a corrupt
 * header and on an archive that stops before its end-of-archive block.
 */
function tarWriter(stage: (path: string) => StagedFile | null, seen: string[]): Writable {
  const files = new WeakMap<ReadEntry, StagedFile>();
  const writes: Promise<void>[] = [];
  let sawEnd = false;
  const parser = new Parser({
    strict: true,
    // Entries left out here are skipped by the parser; the others come to onReadEntry in order.
    filter: (path, entry) => {
      if (!FILE_TYPES.has((entry as ReadEntry).type)) return false;
      seen.push(path);
      const file = stage(path);
      if (file) files.set(entry as ReadEntry, file);
      return file !== null;
    },
    onReadEntry: (entry) => {
      const file = files.get(entry)!;
      const written = (async () => {
        for await (const chunk of entry) await file.write(chunk as Buffer);
        await file.close();
      })();
      written.catch(() => {}); // awaited at the end; one abandoned after a failure must not be unhandled
      writes.push(written);
    },
  });
  // A zero block ends the archive (tar writes two); a stream that ends before one was cut short.
  parser.on('nullBlock', () => {
    sawEnd = true;
  });
  const ended = new Promise<void>((resolve) => parser.on('end', resolve));
  const writer = new Writable({
    write(chunk: Buffer, _enc, done) {
      if (parser.write(chunk)) done();
      else parser.once('drain', () => done());
    },
    final(done) {
      parser.end();
      ended
        .then(() => Promise.all(writes))
        .then(() => done(sawEnd ? null : new Error('the tar archive is truncated')), done);
    },
  });
  parser.on('error', (err: Error) => {
    if (writer.destroyed) return;
    if (/checksum/.test(err.message)) writer.destroy(new Error('tar header checksum mismatch: the archive is corrupt'));
    else if (/Truncated input/.test(err.message)) writer.destroy(new Error('the tar archive is truncated'));
    else writer.destroy(new Error(`the tar archive is corrupt (${err.message})`));
  });
  return writer;
}

async function extractFromTarball(
  source: Readable,
  total: number | null,
  binDir: string,
  o: CudaInstallOptions,
  what: string,
): Promise<StagedFile[]> {
  const staged = new Map<string, StagedFile>();
  const seen: string[] = [];
  const stage = (path: string): StagedFile | null => {
    const name = basename(path);
    if (!path.startsWith(CUDA_PACKAGE.folder) || !CUDA_PROVIDER_LIBRARIES.includes(name)) return null;
    const file = new StagedFile(binDir, name);
    staged.set(name, file);
    return file;
  };
  const hash = createHash('sha512');
  try {
    await pipeline(source, tap(hash, total, o.onProgress), createGunzip(), tarWriter(stage, seen), {
      signal: o.signal,
    });
    const expected = o.integrity === undefined ? CUDA_PACKAGE.integrity : o.integrity;
    const actual = `sha512-${hash.digest('base64')}`;
    if (expected !== null && actual !== expected)
      throw new Error(
        `${what} is not ${CUDA_PACKAGE.name}@${CUDA_PACKAGE.version}: its sha512 is ${actual}, the registry publishes ${expected}`,
      );
    const missing = CUDA_PROVIDER_LIBRARIES.filter((n) => !staged.has(n));
    if (missing.length > 0)
      throw new Error(
        `${what} has no ${missing.join(', ')} under ${CUDA_PACKAGE.folder} (it holds ${seen.length} entries, e.g. ${seen.slice(0, 5).join(', ')})`,
      );
    return [...staged.values()];
  } catch (err) {
    await Promise.all([...staged.values()].map((f) => f.discard()));
    throw err;
  }
}

async function stageFromFolder(folder: string, binDir: string): Promise<StagedFile[]> {
  const candidates = [folder, join(folder, CUDA_PACKAGE.folder), join(folder, 'Plugins', 'Linux', 'x64')];
  const dir = candidates.find((d) => CUDA_PROVIDER_LIBRARIES.every((n) => existsSync(join(d, n))));
  if (!dir) {
    const listing = existsSync(folder) ? (await readdir(folder)).slice(0, 10).join(', ') : '(does not exist)';
    throw new Error(
      `--from ${folder}: no folder holding ${CUDA_PROVIDER_LIBRARIES.join(' and ')} (looked in it, ${CUDA_PACKAGE.folder} and Plugins/Linux/x64; it holds: ${listing})`,
    );
  }
  const staged: StagedFile[] = [];
  try {
    for (const name of CUDA_PROVIDER_LIBRARIES) {
      const file = new StagedFile(binDir, name);
      staged.push(file);
      await copyFile(join(dir, name), file.temp);
      file.bytes = statSync(file.temp).size;
    }
    return staged;
  } catch (err) {
    await Promise.all(staged.map((f) => f.discard()));
    throw err;
  }
}

export async function installCudaProvider(o: CudaInstallOptions = {}): Promise<CudaInstallResult> {
  const ortDir = o.ortDir ?? onnxruntimePackageDir();
  const binDir = checkRuntime(ortDir);
  let staged: StagedFile[];
  let source: string;
  if (o.from && existsSync(o.from) && statSync(o.from).isDirectory()) {
    source = o.from;
    staged = await stageFromFolder(o.from, binDir);
  } else if (o.from) {
    if (!existsSync(o.from)) throw new Error(`--from ${o.from} does not exist`);
    source = o.from;
    const total = statSync(o.from).size;
    staged = await extractFromTarball(createReadStream(o.from), total, binDir, o, o.from);
  } else {
    source = CUDA_PACKAGE.tarball;
    let response: Response;
    try {
      response = await (o.fetch ?? fetch)(CUDA_PACKAGE.tarball, { signal: o.signal });
    } catch (err) {
      throw new Error(
        `downloading ${CUDA_PACKAGE.tarball} failed (${(err as Error).message}); on a host without network, pass --from <tgz|dir>`,
      );
    }
    if (!response.ok || !response.body)
      throw new Error(
        `downloading ${CUDA_PACKAGE.tarball} failed: HTTP ${response.status}; on a host without network, pass --from <tgz|dir>`,
      );
    const length = Number(response.headers.get('content-length'));
    const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
    staged = await extractFromTarball(body, length > 0 ? length : null, binDir, o, CUDA_PACKAGE.tarball);
  }
  for (const f of staged) await f.commit();
  return { dir: binDir, files: staged.map((f) => ({ name: f.name, bytes: f.bytes })), source };
}
