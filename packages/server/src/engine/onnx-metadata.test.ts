import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getPreset } from '@trm/core';
import { describe, expect, it } from 'vitest';
import { checkGraphMatchesConfig, readOnnxMetadata, readStepGraphMetadata } from './onnx-metadata.js';

// A minimal protobuf writer for hand-made ModelProtos.
const varint = (n: number): number[] => {
  const out: number[] = [];
  while (n > 127) {
    out.push((n % 128) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
};
const bytesField = (field: number, bytes: number[]) => [...varint(field * 8 + 2), ...varint(bytes.length), ...bytes];
const stringField = (field: number, s: string) => bytesField(field, [...new TextEncoder().encode(s)]);
const entry = (k: string, v: string) => bytesField(14, [...stringField(1, k), ...stringField(2, v)]);

describe('readOnnxMetadata', () => {
  it('finds metadata_props among other fields of every wire type', () => {
    // a GraphProto whose 300-character name makes its length need two varint bytes
    const graph = bytesField(7, stringField(2, 'g'.repeat(300)));
    const model = Uint8Array.from([
      ...varint(1 * 8),
      ...varint(10), // ir_version
      ...graph,
      ...varint(9 * 8 + 1),
      ...new Array(8).fill(1), // a fixed64 field
      ...varint(10 * 8 + 5),
      ...new Array(4).fill(2), // a fixed32 field
      ...entry('trm.dtype', 'fp16'),
      ...entry('trm.config', '{"a": "é"}'),
    ]);
    expect(readOnnxMetadata(model)).toEqual({ 'trm.dtype': 'fp16', 'trm.config': '{"a": "é"}' });
  });

  it('rejects a truncated file', () => {
    expect(() => readOnnxMetadata(Uint8Array.from([...varint(7 * 8 + 2), ...varint(50), 1, 2]))).toThrow();
  });
});

describe('readStepGraphMetadata', () => {
  const config = getPreset('test-micro').model;
  const withFile = async (bytes: number[], check: (path: string) => Promise<void>) => {
    const dir = mkdtempSync(join(tmpdir(), 'trm-onnx-metadata-'));
    try {
      const path = join(dir, 'model.onnx');
      writeFileSync(path, Uint8Array.from(bytes));
      await check(path);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('reads the config, task, format version, dtype and the checksum of the weights', async () => {
    const bytes = [
      ...entry('trm.config', JSON.stringify(config)),
      ...entry('trm.format_version', '1'),
      ...entry('trm.dtype', 'fp16'),
    ];
    await withFile(bytes, async (path) => {
      expect(await readStepGraphMetadata(path)).toEqual({
        config,
        task: config.task,
        formatVersion: '1',
        dtype: 'fp16',
        weightsSha256: null,
      });
    });
    await withFile([...bytes, ...entry('trm.weights_sha256', 'ab'.repeat(32))], async (path) => {
      expect((await readStepGraphMetadata(path)).weightsSha256).toBe('ab'.repeat(32));
    });
  });

  it('names the file when it is not a TRM step graph', async () => {
    await withFile([...varint(7 * 8 + 2), ...varint(50), 1, 2], async (path) => {
      await expect(readStepGraphMetadata(path)).rejects.toThrow(`${path} is not a readable ONNX model`);
    });
    await withFile(entry('trm.task', 'sudoku'), async (path) => {
      await expect(readStepGraphMetadata(path)).rejects.toThrow(`${path} has no trm.config metadata`);
    });
    await withFile(entry('trm.config', JSON.stringify({ ...config, hidden_size: -1 })), async (path) => {
      await expect(readStepGraphMetadata(path)).rejects.toThrow(
        `${path}: metadata trm.config is not a valid model config`,
      );
    });
  });
});

describe('checkGraphMatchesConfig', () => {
  it('names the first shape field that differs', () => {
    const a = getPreset('test-micro').model;
    expect(() => checkGraphMatchesConfig(a, structuredClone(a), 'm.onnx')).not.toThrow();
    expect(() => checkGraphMatchesConfig(a, { ...a, seq_len: 900 }, 'm.onnx')).toThrow(
      'm.onnx was exported for seq_len = 81 but config.json has 900',
    );
    expect(() => checkGraphMatchesConfig(a, { ...a, puzzle_emb_len: 4 }, 'm.onnx')).toThrow('puzzle_emb_len differs');
  });
});
