// The model folder (ARCHITECTURE.md "Checkpoint format", "Model folder"): config.json (the validated ModelConfig),
// weights.safetensors (every tensor under the reference's names without the `_orig_mod.model.inner.` prefix,
// float32, PyTorch [out, in] layout, H_init/L_init and `puzzle_emb.weights` included), identifiers.json (the
// names of the puzzle-table rows, so adaptation can map new data by name) and README.md (the model card).
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkpointTensors } from '../config/derived.js';
import type { ModelConfig } from '../config/types.js';
import { validateModelConfig } from '../config/validate.js';
import { f32ToBf16 } from '../safetensors/bfloat16.js';
import { toFloat32 } from '../safetensors/cast.js';
import { f32ToF16 } from '../safetensors/float16.js';
import { SafetensorsFile } from '../safetensors/reader.js';
import { type SafetensorsSource, writeSafetensors } from '../safetensors/writer.js';
import { IDENTIFIERS_FILE } from '../dataset/layout.js';
import { parseIdentifiers } from '../dataset/reader.js';
import { writeFileAtomic } from '../util/atomic-file.js';

/** A named float32 array with its shape: the exchange format of weights and optimiser state. */
export interface NamedArray {
  shape: number[];
  data: Float32Array;
}
export type NamedArrays = Record<string, NamedArray>;

export const CONFIG_FILE = 'config.json';
export const WEIGHTS_FILE = 'weights.safetensors';
export const CARD_FILE = 'README.md';
export const FORMAT_VERSION = '1';

/** Rows of the puzzle table are written in blocks of this many values, so a 2 GB table is never copied whole. */
const TABLE_CHUNK = 1 << 22;

export interface ModelFolderContents {
  config: ModelConfig;
  /** every tensor of checkpointTensors(config), float32 */
  weights: NamedArrays;
  /** names of the puzzle-table rows (index = row), when known */
  identifiers: string[] | null;
  /** the safetensors metadata of weights.safetensors */
  metadata: Record<string, string>;
}

function* chunksOf(a: Float32Array): Generator<Float32Array> {
  for (let i = 0; i < a.length; i += TABLE_CHUNK) yield a.subarray(i, Math.min(a.length, i + TABLE_CHUNK));
}

/** Storage type of the weights: float32 for training, float16 halves a shipped model (H_init/L_init stay bf16). */
export type WeightsDtype = 'float32' | 'float16';

/** Writes weights.safetensors in the reference's names; refuses a missing tensor or a wrong shape. */
export async function writeWeights(
  path: string,
  config: ModelConfig,
  weights: NamedArrays,
  metadata: Record<string, string> = {},
  dtype: WeightsDtype = 'float32',
): Promise<void> {
  const sources: SafetensorsSource[] = checkpointTensors(config).map((spec) => {
    const w = weights[spec.name];
    if (!w) throw new Error(`cannot write ${path}: tensor ${spec.name} is missing`);
    if (w.shape.length !== spec.shape.length || w.shape.some((d, i) => d !== spec.shape[i]))
      throw new Error(`cannot write ${path}: ${spec.name} has shape [${w.shape}], expected [${spec.shape}]`);
    if (dtype === 'float32') return { name: spec.name, dtype: 'F32', shape: spec.shape, data: () => chunksOf(w.data) };
    // H_init/L_init hold bf16 values (as in the reference), which bf16 stores exactly.
    return spec.dtype === 'bfloat16'
      ? { name: spec.name, dtype: 'BF16', shape: spec.shape, data: f32ToBf16(w.data) }
      : { name: spec.name, dtype: 'F16', shape: spec.shape, data: f32ToF16(w.data) };
  });
  await writeSafetensors(path, sources, {
    metadata: { format: 'pt', 'trm.format_version': FORMAT_VERSION, ...metadata },
  });
}

/** Writes config.json, weights.safetensors, identifiers.json (when given) and README.md, each atomically. */
export async function writeModelFolder(
  dir: string,
  contents: Omit<ModelFolderContents, 'metadata'> & { metadata?: Record<string, string>; card: string },
): Promise<void> {
  validateModelConfig(structuredClone(contents.config));
  await mkdir(dir, { recursive: true });
  await writeWeights(join(dir, WEIGHTS_FILE), contents.config, contents.weights, contents.metadata);
  if (contents.identifiers)
    await writeFileAtomic(join(dir, IDENTIFIERS_FILE), `${JSON.stringify(contents.identifiers)}\n`);
  await writeFileAtomic(join(dir, CONFIG_FILE), `${JSON.stringify(contents.config, null, 2)}\n`);
  await writeFileAtomic(join(dir, CARD_FILE), contents.card);
}

/** config.json of a model folder, validated. */
export async function readModelConfig(dir: string): Promise<ModelConfig> {
  const path = join(dir, CONFIG_FILE);
  if (!existsSync(path)) throw new Error(`${dir} is not a model folder: ${CONFIG_FILE} is missing`);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  try {
    return validateModelConfig(json);
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message}`);
  }
}

/**
 * Reads a model folder. Tensors are widened to float32 (an official checkpoint's bf16 H_init/L_init included);
 * every tensor the config implies must be present with its shape.
 */
export async function readModelFolder(dir: string): Promise<ModelFolderContents> {
  const config = await readModelConfig(dir);
  const path = join(dir, WEIGHTS_FILE);
  if (!existsSync(path)) throw new Error(`${dir} is not a model folder: ${WEIGHTS_FILE} is missing`);
  const file = await SafetensorsFile.open(path);
  const weights: NamedArrays = {};
  try {
    for (const spec of checkpointTensors(config)) {
      if (!file.has(spec.name))
        throw new Error(
          `${path} lacks tensor ${spec.name} (shape [${spec.shape.join(', ')}]) that ${CONFIG_FILE} implies`,
        );
      const t = await file.read(spec.name);
      if (t.shape.length !== spec.shape.length || t.shape.some((d, i) => d !== spec.shape[i]))
        throw new Error(
          `${path}: ${spec.name} has shape [${t.shape.join(', ')}], ${CONFIG_FILE} implies [${spec.shape.join(', ')}]`,
        );
      weights[spec.name] = { shape: t.shape, data: toFloat32(t) } satisfies NamedArray;
    }
  } finally {
    await file.close();
  }
  const idPath = join(dir, IDENTIFIERS_FILE);
  let identifiers: string[] | null = null;
  if (existsSync(idPath)) identifiers = parseIdentifiers(await readFile(idPath, 'utf8'), idPath);
  return { config, weights, identifiers, metadata: file.metadata ?? {} };
}
