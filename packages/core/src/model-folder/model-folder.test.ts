// The model folder: what writeModelFolder writes reads back unchanged, and a damaged identifiers.json is reported
// with its path and what it should hold.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkpointTensors } from '../config/derived.js';
import { getPreset } from '../config/presets.js';
import { type NamedArrays, readModelFolder, writeModelFolder } from './model-folder.js';

const root = mkdtempSync(join(tmpdir(), 'trm-model-folder-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const config = { ...getPreset('test-micro').model, num_puzzle_identifiers: 3 };

function weights(): NamedArrays {
  const out: NamedArrays = {};
  for (const spec of checkpointTensors(config)) {
    const data = new Float32Array(spec.shape.reduce((a, b) => a * b, 1));
    data.forEach((_, i) => {
      data[i] = (i % 7) - 3;
    });
    out[spec.name] = { shape: spec.shape, data };
  }
  return out;
}

describe('model folder', () => {
  const dir = join(root, 'model');

  it('reads back the config, weights, identifiers and metadata it wrote', async () => {
    const w = weights();
    await writeModelFolder(dir, {
      config,
      weights: w,
      identifiers: ['<blank>', 'a', 'b'],
      card: '# test\n',
      metadata: { 'trm.step': '7' },
    });
    const folder = await readModelFolder(dir);
    expect(folder.config).toEqual(config);
    expect(folder.identifiers).toEqual(['<blank>', 'a', 'b']);
    expect(folder.metadata['trm.step']).toBe('7');
    expect(Object.keys(folder.weights).sort()).toEqual(Object.keys(w).sort());
    for (const [name, t] of Object.entries(w)) expect(folder.weights[name]!.data, name).toEqual(t.data);
  });

  it('names identifiers.json and says what it should hold when it is not JSON', async () => {
    const path = join(dir, 'identifiers.json');
    writeFileSync(path, 'not json');
    const err = await readModelFolder(dir).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(`${path} is not valid JSON (Unexpected token`);
    expect((err as Error).message).toContain('expected a JSON array of puzzle identifier names');
    writeFileSync(path, '"a"');
    await expect(readModelFolder(dir)).rejects.toThrow(`${path} holds string; expected a JSON array`);
  });
});
