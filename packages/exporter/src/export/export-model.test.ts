// Export of a model folder: byte-identical files from the same folder, the contract's inputs/outputs/metadata,
// every variant loads in ONNX Runtime (CPU) with full optimisation, and the CLI's errors name the bad flag.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getPreset, type ModelConfig, writeModelFolder } from '@trm/core';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportCommand } from '../commands/export.js';
import { parseOps } from '@trm/graph';
import { decodeModel, readModelMetadata } from '@trm/graph';
import { exportModelFolder } from './export-model.js';
import { randomWeights } from './random-weights.js';

let dir: string;
const config: ModelConfig = { ...getPreset('test-micro').model, num_puzzle_identifiers: 3 };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'trm-export-'));
  await writeModelFolder(dir, {
    config,
    weights: randomWeights(config, { seed: 1 }),
    identifiers: null,
    card: '# test model\n',
  });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('exportModelFolder', () => {
  it('is deterministic: the same folder gives byte-identical files', async () => {
    const a = await readFile((await exportModelFolder(dir, { out: join(dir, 'a.onnx') })).path);
    const b = await readFile((await exportModelFolder(dir, { out: join(dir, 'b.onnx') })).path);
    expect(a.equals(b)).toBe(true);
  });

  it('has the contract inputs, outputs and metadata', async () => {
    const { path } = await exportModelFolder(dir);
    expect(path).toBe(join(dir, 'model.onnx'));
    const bytes = await readFile(path);
    const meta = readModelMetadata(bytes);
    expect(JSON.parse(meta['trm.config']!)).toEqual(config);
    expect(meta['trm.task']).toBe('sudoku');
    expect(meta['trm.format_version']).toBe('1');
    expect(meta['trm.dtype']).toBe('fp32');
    const model = decodeModel(bytes) as {
      ir_version: number;
      opset_import: { domain?: string; version: number }[];
      graph: { input: { name: string }[]; output: { name: string }[] };
    };
    expect(model.ir_version).toBe(10);
    expect(model.opset_import.find((o) => !o.domain)?.version).toBe(23);
    expect(model.graph.input.map((i) => i.name)).toEqual(['tokens', 'puzzle_emb', 'reset', 'z_h', 'z_l']);
    expect(model.graph.output.map((o) => o.name)).toEqual(['z_h_out', 'z_l_out', 'logits', 'q_halt']);
  });

  for (const dtype of ['fp32', 'fp16-weights', 'fp16'] as const) {
    it(`${dtype}: ORT CPU loads it with full optimisation; dynamic batch; state type`, async () => {
      const { path } = await exportModelFolder(dir, { dtype });
      const session = await ort.InferenceSession.create(path, { graphOptimizationLevel: 'all' });
      const z = session.inputMetadata.find((m) => m.name === 'z_h')!;
      expect(z.isTensor && z.type).toBe(dtype === 'fp16' ? 'float16' : 'float32');
      expect(z.isTensor && z.shape[0]).toBe('batch');
      await session.release();
    });
  }

  it('fp16-weights halves the file (the shipped sudoku model)', async () => {
    const shipped = join(import.meta.dirname, '../../../../models/sudoku-small-mlp');
    const full = (await exportModelFolder(shipped, { out: join(dir, 'f32.onnx') })).bytes;
    const half = (await exportModelFolder(shipped, { dtype: 'fp16-weights', out: join(dir, 'f16.onnx') })).bytes;
    expect(half / full).toBeGreaterThan(0.45);
    expect(half / full).toBeLessThan(0.56);
  });
});

describe('export command', () => {
  const io = { out: () => {}, err: () => {}, quiet: true };
  it('exports and checks a folder', async () => {
    const r = await exportCommand(['--model', dir, '--dtype', 'fp16-weights', '--quiet'], io);
    expect(r?.path).toBe(join(dir, 'model.fp16-weights.onnx'));
    expect(r?.checkStepMs).toBeGreaterThan(0);
  });
  it('names the bad flag', async () => {
    await expect(exportCommand(['--model', join(dir, 'nope')], io)).rejects.toThrow(/--model/);
    await expect(exportCommand(['--preset', 'test-micro'], io)).rejects.toThrow(/--out/);
    await expect(exportCommand(['--model', dir, '--dtype', 'int8'], io)).rejects.toThrow(/--dtype/);
    expect(() => parseOps('norm=op,attention=flash')).toThrow(/attention must be one of decomposed, mha/);
    expect(() => parseOps('gelu=yes')).toThrow(/unknown op "gelu"/);
    expect(parseOps('norm=decomposed,swiglu=split')).toEqual({ norm: 'decomposed', swiglu: 'split' });
  });
});
