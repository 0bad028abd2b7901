// A model folder shipped without model.onnx: the engine builds the graph from the weights (the same bytes as
// `export` writes), beside them or, where that fails, in a cache folder; a folder with its graph is left alone.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getPreset, type ModelConfig, writeWeights } from '@trm/core';
import { exportModelFolder, randomWeights } from '@trm/exporter';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from './engine.js';
import { stepGraphFile } from './step-graph-file.js';

const root = mkdtempSync(join(tmpdir(), 'trm-graph-file-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const config: ModelConfig = { ...getPreset('test-micro').model, num_puzzle_identifiers: 1 };

/** A model folder with config.json and weights.safetensors, and no model.onnx. */
async function folder(name: string): Promise<string> {
  const dir = join(root, name);
  const weights = randomWeights(config, { seed: 5, gain: 0.5 });
  mkdirSync(dir, { recursive: true });
  await writeWeights(join(dir, 'weights.safetensors'), config, weights);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

describe('stepGraphFile', () => {
  it('builds model.onnx from the weights beside them, byte for byte what export writes', async () => {
    const dir = await folder('plain');
    const path = join(dir, 'model.onnx');
    const got = await stepGraphFile(dir, path, join(root, 'cache-unused'));
    expect(got.path).toBe(path);
    expect(got.builtSeconds).toBeGreaterThan(0);
    const exported = await exportModelFolder(dir, { out: join(root, 'exported.onnx') });
    expect(readFileSync(path).equals(readFileSync(exported.path))).toBe(true);
    // now it exists: left alone, not rebuilt
    const mtime = statSync(path).mtimeMs;
    expect(await stepGraphFile(dir, path)).toEqual({ path });
    expect(statSync(path).mtimeMs).toBe(mtime);
    expect(existsSync(join(root, 'cache-unused'))).toBe(false);
  });

  it('writes to the cache folder when the model folder cannot take the file, and reuses it', async () => {
    const dir = await folder('unwritable');
    // a target under a regular file: no folder can be made there (a read-only folder fails the same way, but
    // tests may run as root, who writes anywhere)
    const path = join(dir, 'config.json', 'model.onnx');
    const cache = join(root, 'cache');
    const first = await stepGraphFile(dir, path, cache);
    expect(first.path.startsWith(join(cache, 'unwritable-'))).toBe(true);
    expect(first.path.endsWith('.onnx')).toBe(true);
    const again = await stepGraphFile(dir, path, cache);
    expect(again.path).toBe(first.path);
    const exported = await exportModelFolder(dir, { out: join(root, 'exported-2.onnx') });
    expect(readFileSync(first.path).equals(readFileSync(exported.path))).toBe(true);
  });

  it('leaves a folder without weights to the reader, which names the missing file', async () => {
    const dir = join(root, 'empty');
    const path = join(dir, 'model.onnx');
    expect(await stepGraphFile(dir, path)).toEqual({ path });
    expect(existsSync(path)).toBe(false);
  });

  it('lets the engine serve a folder shipped without model.onnx, and says so', async () => {
    const dir = await folder('served');
    const notes: string[] = [];
    const engine = await Engine.start({
      modelDir: dir,
      executionProvider: 'cpu',
      threads: 1,
      onNote: (m) => notes.push(m),
    });
    try {
      expect(notes).toEqual([expect.stringMatching(/^model\.onnx built from weights\.safetensors in \d+\.\d s: /)]);
      expect(existsSync(join(dir, 'model.onnx'))).toBe(true);
      const r = await engine.solve({
        tokens: new Uint8Array(config.seq_len).fill(1),
        maxSteps: 2,
        haltThreshold: 1,
        trace: false,
      });
      expect(r.steps).toBe(2);
    } finally {
      await engine.drain();
    }
  });
});
