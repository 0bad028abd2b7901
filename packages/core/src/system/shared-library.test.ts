import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  elfDependencies,
  findSharedLibrary,
  LIBRARY_SEARCH_SUPPORTED,
  missingSharedLibraries,
} from './shared-library.js';

const tmp = mkdtempSync(join(tmpdir(), 'trm-shared-library-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.runIf(LIBRARY_SEARCH_SUPPORTED)('shared library lookup', () => {
  it('searches LD_LIBRARY_PATH, then the runpath, then the ld.so cache, then the system folders', () => {
    const a = join(tmp, 'a');
    const b = join(tmp, 'b');
    const sys = join(tmp, 'sys');
    for (const d of [a, b, sys]) mkdirSync(d);
    writeFileSync(join(b, 'libx.so.1'), '');
    writeFileSync(join(sys, 'libx.so.1'), '');
    writeFileSync(join(sys, 'liby.so.2'), '');
    const none = { env: {}, cache: null, systemDirs: [] };
    expect(findSharedLibrary('libx.so.1', none)).toBeNull();
    expect(findSharedLibrary('libx.so.1', { ...none, env: { LD_LIBRARY_PATH: `${a}:${b}` } })).toBe(
      join(b, 'libx.so.1'),
    );
    expect(findSharedLibrary('libx.so.1', none, [b])).toBe(join(b, 'libx.so.1'));
    expect(findSharedLibrary('liby.so.2', { ...none, systemDirs: [a, sys] })).toBe(join(sys, 'liby.so.2'));
    const arch = process.arch === 'x64' ? 'libc6,x86-64' : 'libc6';
    const cache = `2 libs found in cache\n\tliby.so.2 (${arch}) => ${join(sys, 'liby.so.2')}\n`;
    expect(findSharedLibrary('liby.so.2', { ...none, cache })).toBe(join(sys, 'liby.so.2'));
    expect(findSharedLibrary('libz.so.3', { ...none, cache })).toBeNull();
  });

  it("reads an ELF file's needed libraries and finds them on this machine", () => {
    // Node itself is a dynamically linked ELF executable that needs the C library.
    const deps = elfDependencies(process.execPath);
    expect(deps.needed).toContain('libc.so.6');
    expect(findSharedLibrary('libc.so.6')).not.toBeNull();
    expect(missingSharedLibraries(process.execPath)).toEqual([]);
    expect(findSharedLibrary('libtrm-no-such-library.so.7')).toBeNull();
    const text = join(tmp, 'not-elf.so');
    writeFileSync(text, 'just text, long enough to hold an ELF header of sixty-four bytes, and then some more');
    expect(() => elfDependencies(text)).toThrow(`${text} is not an ELF file`);
  });
});
