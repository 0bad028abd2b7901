// The model metadata of an ONNX file (ModelProto `metadata_props`: key/value strings), so the main thread learns the
// graph's config and dtype without ONNX Runtime (which offers no metadata API in Node). The bytes are decoded by
// @trm/graph, whose protobuf schema is the one the exporter writes with.
import { readFile } from 'node:fs/promises';
import { type ModelConfig, stateLen, validateModelConfig } from '@trm/core';
import { METADATA_KEYS, readModelMetadata } from '@trm/graph';

/** The `metadata_props` of a serialized ModelProto; throws when the bytes are not one. */
export function readOnnxMetadata(bytes: Uint8Array): Record<string, string> {
  return readModelMetadata(bytes);
}

/** What the server needs from a step graph's metadata (ARCHITECTURE.md "ONNX step graph"). */
export interface StepGraphMetadata {
  config: ModelConfig;
  task: string;
  formatVersion: string;
  /** fp32 | fp16-weights | fp16 */
  dtype: string;
  /** the checksum of the weights recorded at export (weights-checksum.ts), null for graphs exported before it */
  weightsSha256: string | null;
}

export async function readStepGraphMetadata(path: string): Promise<StepGraphMetadata> {
  let props: Record<string, string>;
  try {
    props = readOnnxMetadata(await readFile(path));
  } catch (err) {
    throw new Error(`${path} is not a readable ONNX model: ${(err as Error).message}`);
  }
  const raw = props[METADATA_KEYS.config];
  if (raw === undefined)
    throw new Error(
      `${path} has no ${METADATA_KEYS.config} metadata: it is not a TRM step graph (export one with \`pnpm --filter @trm/exporter export\`)`,
    );
  let config: ModelConfig;
  try {
    config = validateModelConfig(JSON.parse(raw));
  } catch (err) {
    throw new Error(`${path}: metadata ${METADATA_KEYS.config} is not a valid model config: ${(err as Error).message}`);
  }
  return {
    config,
    task: props[METADATA_KEYS.task] ?? config.task,
    formatVersion: props[METADATA_KEYS.formatVersion] ?? 'unknown',
    dtype: props[METADATA_KEYS.dtype] ?? 'fp32',
    weightsSha256: props[METADATA_KEYS.weightsSha256] ?? null,
  };
}

/** The config fields that fix the graph's tensor shapes: config.json and the graph must agree on them. */
const SHAPE_FIELDS = ['task', 'seq_len', 'vocab_size', 'hidden_size', 'puzzle_emb_ndim'] as const;

/** Refuses a graph exported from another config than the folder's config.json, naming the first field that differs. */
export function checkGraphMatchesConfig(graph: ModelConfig, folder: ModelConfig, path: string): void {
  for (const f of SHAPE_FIELDS)
    if (graph[f] !== folder[f])
      throw new Error(
        `${path} was exported for ${f} = ${JSON.stringify(graph[f])} but config.json has ${JSON.stringify(folder[f])}: re-export the model`,
      );
  if (stateLen(graph) !== stateLen(folder))
    throw new Error(
      `${path} has a state of ${stateLen(graph)} positions but config.json implies ${stateLen(folder)} (puzzle_emb_len differs): re-export the model`,
    );
}
