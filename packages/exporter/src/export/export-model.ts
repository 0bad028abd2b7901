// Export of a model folder: read config.json + weights.safetensors, build the step graph, write model.onnx (or
// model.<dtype>.onnx) atomically next to them. The same folder always gives byte-identical files.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type ModelConfig, type NamedArrays, readModelFolder, writeFileAtomic } from '@trm/core';
import { exportStepGraph, type GraphDtype, type OpChoice } from '@trm/graph';

/** File name of a graph variant inside a model folder: model.onnx for fp32, model.<dtype>.onnx otherwise. */
export function onnxFileName(dtype: GraphDtype): string {
  return dtype === 'fp32' ? 'model.onnx' : `model.${dtype}.onnx`;
}

export interface ExportOptions {
  dtype?: GraphDtype;
  ops?: Partial<OpChoice>;
  /** output file (default: the model folder's onnxFileName(dtype)) */
  out?: string;
  onProgress?: (stage: 'read' | 'build' | 'write', done: number, total: number) => void;
}

export interface ExportSummary {
  path: string;
  bytes: number;
  seconds: number;
  config: ModelConfig;
  dtype: GraphDtype;
}

/** Builds and writes the graph of in-memory weights (used by the CLI for random-weight presets too). */
export async function writeStepGraph(
  config: ModelConfig,
  weights: NamedArrays,
  out: string,
  options: Omit<ExportOptions, 'out'> & { metadata?: Record<string, string> } = {},
): Promise<ExportSummary> {
  const t0 = performance.now();
  const dtype = options.dtype ?? 'fp32';
  const bytes = exportStepGraph(config, weights, {
    dtype,
    ops: options.ops,
    metadata: options.metadata,
    onProgress: (done, total) => options.onProgress?.('build', done, total),
  });
  options.onProgress?.('write', 0, 1);
  await writeFileAtomic(out, bytes);
  options.onProgress?.('write', 1, 1);
  return { path: out, bytes: (await stat(out)).size, seconds: (performance.now() - t0) / 1000, config, dtype };
}

/** Exports the step graph of a model folder. */
export async function exportModelFolder(dir: string, options: ExportOptions = {}): Promise<ExportSummary> {
  const t0 = performance.now();
  options.onProgress?.('read', 0, 1);
  const { config, weights } = await readModelFolder(dir);
  options.onProgress?.('read', 1, 1);
  const out = options.out ?? join(dir, onnxFileName(options.dtype ?? 'fp32'));
  const summary = await writeStepGraph(config, weights, out, options);
  return { ...summary, seconds: (performance.now() - t0) / 1000 };
}
