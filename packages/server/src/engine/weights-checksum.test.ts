import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getPreset } from '@trm/core';
import { randomWeights } from '@trm/exporter';
import { decodeModel, exportStepGraph, METADATA_KEYS, readModelMetadata, withoutMetadata } from '@trm/graph';
import { afterAll, describe, expect, it } from 'vitest';
import { initializerData, verifyStepGraphWeights } from './weights-checksum.js';

const dir = mkdtempSync(join(tmpdir(), 'trm-weights-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const config = getPreset('test-micro').model;
const bytes = exportStepGraph(config, randomWeights(config, { seed: 5 }));

describe('the checksum of the weights', () => {
  it('is recorded at export: SHA-256 of the initializers raw_data in graph order', () => {
    const decoded = decodeModel(bytes) as { graph: { initializer: { raw_data?: number[] }[] } };
    const raw = decoded.graph.initializer.map((t) => Uint8Array.from(t.raw_data ?? []));
    expect(raw.length).toBeGreaterThan(10);
    const hash = createHash('sha256');
    for (const r of raw) hash.update(r);
    expect(readModelMetadata(bytes)[METADATA_KEYS.weightsSha256]).toBe(hash.digest('hex'));
    // the server's walk finds the same bytes, as views of the file
    const views = initializerData(bytes);
    expect(views.map((v) => Array.from(v))).toEqual(raw.map((r) => Array.from(r)));
    expect(views.every((v) => v.buffer === bytes.buffer)).toBe(true);
  });

  it('verifies a good file, refuses one whose weights changed, and tells an old export from both', async () => {
    const good = join(dir, 'good.onnx');
    writeFileSync(good, bytes);
    expect(await verifyStepGraphWeights(good)).toBe('verified');

    const damaged = Uint8Array.from(bytes);
    const weights = initializerData(damaged).sort((a, b) => b.length - a.length)[0]!;
    weights.set([0xde, 0xad, 0xbe, 0xef], Math.floor(weights.length / 2)); // random bytes in the largest tensor
    const bad = join(dir, 'model.onnx');
    writeFileSync(bad, damaged);
    await expect(verifyStepGraphWeights(bad)).rejects.toThrow(
      new RegExp(
        `^${bad} is damaged: its weights do not match the checksum recorded at export \\(trm\\.weights_sha256 [0-9a-f]{16}\\.\\.\\., the file's weights hash to [0-9a-f]{16}\\.\\.\\.\\)`,
      ),
    );

    const old = join(dir, 'old.onnx');
    writeFileSync(old, withoutMetadata(bytes, [METADATA_KEYS.weightsSha256])); // as exported before the checksum existed
    expect(readModelMetadata(readFileSync(old))[METADATA_KEYS.weightsSha256]).toBeUndefined();
    expect(await verifyStepGraphWeights(old)).toBe('unrecorded');

    const cut = join(dir, 'cut.onnx');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 5));
    await expect(verifyStepGraphWeights(cut)).rejects.toThrow(`${cut} is not a readable ONNX model`);
  });
});
