// Whether the dynamic loader would find a shared library, decided from files alone (nothing is loaded). Optional
// GPU runtimes are probed through native code that prints its own alarming lines when a library is missing
// (Dawn's "Couldn't load Vulkan", ONNX Runtime's red "Failed to load library"): looking first lets the caller skip
// the probe and say in one plain line what is missing. The search follows glibc's order: the requesting library's
// RUNPATH ($ORIGIN), LD_LIBRARY_PATH, the ld.so cache (`ldconfig -p`), then the built-in directories. Linux only;
// elsewhere the answer is "unknown" and callers probe as before.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface LibrarySearch {
  /** environment whose LD_LIBRARY_PATH is searched (default process.env) */
  env?: Record<string, string | undefined>;
  /** the `ldconfig -p` listing (default: run ldconfig once per process; null when it cannot run) */
  cache?: string | null;
  /** the loader's built-in directories (default: Debian multiarch and the usual lib dirs) */
  systemDirs?: readonly string[];
}

/** Whether library lookups mean anything on this platform (the loader rules above are glibc's). */
export const LIBRARY_SEARCH_SUPPORTED = process.platform === 'linux';

const MULTIARCH: Record<string, string> = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };

function defaultSystemDirs(): string[] {
  const triplet = MULTIARCH[process.arch];
  const multiarch = triplet ? [`/lib/${triplet}`, `/usr/lib/${triplet}`] : [];
  return [...multiarch, '/lib64', '/usr/lib64', '/lib', '/usr/lib'];
}

let ldconfigListing: string | null | undefined;

/** `ldconfig -p` of this machine, read once (null where ldconfig cannot run). */
function systemCache(): string | null {
  if (ldconfigListing === undefined) {
    ldconfigListing = null;
    for (const exe of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
      const r = spawnSync(exe, ['-p'], { encoding: 'utf8', timeout: 5000 });
      if (r.status === 0 && typeof r.stdout === 'string') {
        ldconfigListing = r.stdout;
        break;
      }
    }
  }
  return ldconfigListing;
}

/** The path of `name` from an `ldconfig -p` listing ("\tlibfoo.so.1 (libc6,x86-64) => /lib/.../libfoo.so.1"). */
function fromCache(listing: string, name: string): string | null {
  for (const line of listing.split('\n')) {
    const m = line.match(/^\s*(\S+)\s+\(([^)]*)\)\s+=>\s+(\S+)\s*$/);
    if (!m || m[1] !== name) continue;
    // A 64-bit process cannot load the 32-bit build that the cache may also list.
    if (process.arch === 'x64' && !m[2]!.includes('x86-64')) continue;
    if (existsSync(m[3]!)) return m[3]!;
  }
  return null;
}

/**
 * Where the dynamic loader would find `name` (a soname such as "libvulkan.so.1"), or null when it would not.
 * `runpath` holds the requesting library's RUNPATH directories, searched after LD_LIBRARY_PATH as glibc does.
 */
export function findSharedLibrary(
  name: string,
  search: LibrarySearch = {},
  runpath: readonly string[] = [],
): string | null {
  if (name.includes('/')) return existsSync(name) ? name : null;
  const env = search.env ?? process.env;
  const envDirs = (env.LD_LIBRARY_PATH ?? '').split(':').filter((d) => d !== '');
  for (const dir of [...envDirs, ...runpath]) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  const cache = search.cache === undefined ? systemCache() : search.cache;
  const cached = cache ? fromCache(cache, name) : null;
  if (cached) return cached;
  for (const dir of search.systemDirs ?? defaultSystemDirs()) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return null;
}

/** What an ELF shared library asks the loader for: its DT_NEEDED sonames and its RUNPATH (or RPATH) entries. */
export interface ElfDependencies {
  needed: string[];
  runpath: string[];
}

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const DT_NEEDED = 1n;
const DT_STRTAB = 5n;
const DT_RPATH = 15n;
const DT_RUNPATH = 29n;

/** Reads the dynamic section of a 64-bit little-endian ELF file (the only kind this project's binaries are). */
export function elfDependencies(file: string): ElfDependencies {
  const fd = openSync(file, 'r');
  try {
    const readSome = (offset: number, length: number): Buffer => {
      const b = Buffer.alloc(length);
      return b.subarray(0, readSync(fd, b, 0, length, offset));
    };
    const read = (offset: number, length: number): Buffer => {
      const b = readSome(offset, length);
      if (b.length < length) throw new Error(`${file}: truncated ELF file (wanted ${length} bytes at ${offset})`);
      return b;
    };
    const head = read(0, 64);
    if (head.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${file} is not an ELF file`);
    if (head[4] !== 2 || head[5] !== 1) throw new Error(`${file} is not a 64-bit little-endian ELF file`);
    const phoff = Number(head.readBigUInt64LE(0x20));
    const phentsize = head.readUInt16LE(0x36);
    const phnum = head.readUInt16LE(0x38);
    const loads: { vaddr: bigint; offset: bigint; size: bigint }[] = [];
    let dynamic: { offset: number; size: number } | null = null;
    for (let i = 0; i < phnum; i++) {
      const ph = read(phoff + i * phentsize, 56);
      const type = ph.readUInt32LE(0);
      const offset = ph.readBigUInt64LE(8);
      const vaddr = ph.readBigUInt64LE(16);
      const size = ph.readBigUInt64LE(32);
      if (type === PT_LOAD) loads.push({ vaddr, offset, size });
      if (type === PT_DYNAMIC) dynamic = { offset: Number(offset), size: Number(size) };
    }
    if (!dynamic) return { needed: [], runpath: [] }; // statically linked
    const entries = read(dynamic.offset, dynamic.size);
    const needed: bigint[] = [];
    const paths: bigint[] = [];
    let strtab: bigint | null = null;
    for (let at = 0; at + 16 <= entries.length; at += 16) {
      const tag = entries.readBigInt64LE(at);
      const value = entries.readBigUInt64LE(at + 8);
      if (tag === 0n) break;
      if (tag === DT_NEEDED) needed.push(value);
      else if (tag === DT_STRTAB) strtab = value;
      else if (tag === DT_RUNPATH || tag === DT_RPATH) paths.push(value);
    }
    if (strtab === null) throw new Error(`${file}: dynamic section without a string table`);
    // DT_STRTAB is an address; the segment that maps it says where it lies in the file.
    const seg = loads.find((l) => strtab! >= l.vaddr && strtab! < l.vaddr + l.size);
    if (!seg) throw new Error(`${file}: the string table lies in no loaded segment`);
    const base = Number(seg.offset + (strtab - seg.vaddr));
    const str = (off: bigint): string => {
      const chunk = readSome(base + Number(off), 4096);
      const end = chunk.indexOf(0);
      return chunk.toString('utf8', 0, end < 0 ? chunk.length : end);
    };
    const origin = dirname(file);
    const runpath = paths
      .flatMap((p) => str(p).split(':'))
      .filter((d) => d !== '')
      .map((d) => d.replace(/\$\{?ORIGIN\}?/g, origin));
    return { needed: needed.map(str), runpath };
  } finally {
    closeSync(fd);
  }
}

/**
 * The sonames `file` needs that the loader would not find (empty when all would load, or off Linux). Libraries
 * next to `file` count as found: ONNX Runtime loads its provider libraries by path from that folder.
 */
export function missingSharedLibraries(file: string, search: LibrarySearch = {}): string[] {
  if (!LIBRARY_SEARCH_SUPPORTED) return [];
  const { needed, runpath } = elfDependencies(file);
  return needed.filter((name) => findSharedLibrary(name, search, [...runpath, dirname(file)]) === null);
}
