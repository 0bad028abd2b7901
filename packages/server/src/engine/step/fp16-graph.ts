// The float16 step graph a GPU runs: built from a model folder's weights at load, with the op forms that measured
// fastest on the CUDA provider (BENCHMARKS.md "The graph the GPU runs"), in place of the folder's float32
// model.onnx, which stays the graph of the CPU provider. float16 keeps more of each value than the bfloat16 the
// official code runs in; the answers are checked against the float32 graph in fp16-graph.test.ts.
import { basename } from 'node:path';
import { readModelFolder } from '@trm/core';
import { exportStepGraph, formatOps, METADATA_KEYS, type OpChoice } from '@trm/graph';
import { WEIGHTS_FILE } from '../step-graph-file.js';
import type { ExecutionProviderName } from '../types.js';
import type { BuiltGraph } from './ort-step.js';

/**
 * The op choices of the built float16 graph, changes from the exporter's defaults (keys that do not apply to a
 * model, such as the MLP-mixer's for an attention model, change nothing).
 */
export const FP16_GRAPH_OPS: Partial<OpChoice> = { silu: 'op', mlpTPad: 'align8' };

/** Whether a worker on `provider` runs the built float16 graph: GPUs under `gpu`, every provider under `all`. */
export function runsFp16Graph(provider: ExecutionProviderName, on: 'gpu' | 'all'): boolean {
  return on === 'all' || provider !== 'cpu';
}

/** The float16 step graph of the model folder `dir` (config.json + weights.safetensors), as `export` writes it. */
export async function buildFp16Graph(dir: string): Promise<Uint8Array> {
  const { config, weights } = await readModelFolder(dir);
  return exportStepGraph(config, weights, {
    dtype: 'fp16',
    ops: FP16_GRAPH_OPS,
    metadata: { [METADATA_KEYS.source]: 'weights.safetensors, built by the server at load' },
  });
}

/** The built graph of a worker (openOrtStep's `builtGraph`) for the model folder `from`, in place of `modelPath`. */
export function fp16BuiltGraph(spec: { from: string; on: 'gpu' | 'all' }, modelPath: string): BuiltGraph {
  return {
    on: (provider) => runsFp16Graph(provider, spec.on),
    build: () => buildFp16Graph(spec.from),
    note: `float16 graph built from ${WEIGHTS_FILE} (ops ${formatOps(FP16_GRAPH_OPS)}) in place of ${basename(modelPath)}`,
  };
}
