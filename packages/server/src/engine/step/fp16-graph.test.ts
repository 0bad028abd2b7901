// The float16 graph a GPU runs, built from a model folder's weights: which providers take it, and, forced onto the
// CPU provider (graph: fp16), the same answers as the folder's float32 model.onnx on newspaper sudoku with the
// shipped small model. A folder without weights refuses fp16 by name.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeSudoku, generateSudoku, parseSudokuString, Rng } from '@trm/core';
import { decodeRawModel, METADATA_KEYS } from '@trm/graph';
import { afterAll, describe, expect, it } from 'vitest';
import { Engine } from '../engine.js';
import { buildFp16Graph, FP16_GRAPH_OPS, runsFp16Graph } from './fp16-graph.js';

const MODEL = join(dirname(fileURLToPath(import.meta.url)), '../../../../../models/sudoku-newspaper-small-mlp');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('the float16 graph built for GPUs', () => {
  it('runs on CUDA and WebGPU under gpu, everywhere under all', () => {
    expect(['cuda', 'webgpu', 'cpu'].map((p) => runsFp16Graph(p as 'cuda', 'gpu'))).toEqual([true, true, false]);
    expect(['cuda', 'webgpu', 'cpu'].map((p) => runsFp16Graph(p as 'cuda', 'all'))).toEqual([true, true, true]);
  });

  it('is a float16 step graph of the folder with the GPU op choices in its metadata', async () => {
    const model = decodeRawModel(await buildFp16Graph(MODEL));
    const meta = Object.fromEntries((model.metadata_props ?? []).map((p) => [p.key, p.value]));
    expect(meta[METADATA_KEYS.dtype]).toBe('fp16');
    expect(JSON.parse(meta[METADATA_KEYS.ops]!)).toMatchObject(FP16_GRAPH_OPS);
  });

  it('forced onto the CPU (graph fp16) answers 24 newspaper sudoku as the float32 model.onnx does', async () => {
    const rng = new Rng(5);
    const puzzles = Array.from({ length: 24 }, () =>
      encodeSudoku(parseSudokuString(generateSudoku(rng, { givens: [25, 35] }).question)),
    );
    const solveAll = async (graph: 'file' | 'fp16') => {
      const engine = await Engine.start({ modelDir: MODEL, executionProvider: 'cpu', graph, threads: 1, maxBatch: 8 });
      try {
        const got = await Promise.all(
          puzzles.map((tokens) =>
            engine.solve({ tokens: Uint8Array.from(tokens), maxSteps: 8, haltThreshold: 1, trace: false }),
          ),
        );
        return { info: engine.info, got };
      } finally {
        await engine.drain();
      }
    };
    const f32 = await solveAll('file');
    const f16 = await solveAll('fp16');
    expect(f32.info.dtype).toBe('fp32');
    expect(f16.info.dtype).toBe('fp16');
    expect(f16.info.providerNotes.at(-1)).toMatch(/^float16 graph built from weights\.safetensors \(ops silu=op/);
    let sameCells = 0;
    for (const [i, g] of f16.got.entries())
      sameCells += Array.from(g.tokens).filter((t, k) => t === f32.got[i]!.tokens[k]).length;
    // float16 against float32: the same answer in (nearly) every cell of every puzzle after 8 steps
    expect(sameCells / (24 * 81)).toBeGreaterThanOrEqual(0.999);
    for (const [i, g] of f16.got.entries()) expect(g.haltProbability).toBeCloseTo(f32.got[i]!.haltProbability, 1);
  });

  it('auto keeps model.onnx on the CPU; a folder without weights refuses fp16, an unknown graph is named', async () => {
    const engine = await Engine.start({ modelDir: MODEL, executionProvider: 'cpu', threads: 1, maxBatch: 2 });
    expect(engine.info.dtype).toBe('fp32');
    expect(engine.info.providerNotes.some((n) => n.includes('float16 graph'))).toBe(false);
    await engine.drain();
    const bare = mkdtempSync(join(tmpdir(), 'trm-fp16-graph-'));
    dirs.push(bare);
    for (const f of ['config.json', 'model.onnx']) copyFileSync(join(MODEL, f), join(bare, f));
    await expect(Engine.start({ modelDir: bare, executionProvider: 'cpu', graph: 'fp16' })).rejects.toThrow(
      /^graph fp16 builds the graph from weights\.safetensors, which .* does not have$/,
    );
    await expect(Engine.start({ modelDir: bare, graph: 'bf16' as 'fp16' })).rejects.toThrow(
      'graph must be one of auto, file, fp16 (got "bf16")',
    );
  });
});
