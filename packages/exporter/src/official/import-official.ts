// import-official: a checkpoint of the official PyTorch trainer (or the same tensors as safetensors) in, one of our
// model folders out. The key prefix is recognised and removed, the config is built from the tensor shapes plus
// --config/--task/--seq-len and cross-checked, the tensor set is checked against the config (unknown, missing,
// wrong shape: each named by its key), every tensor is widened to float32, and the folder is written with core's
// writeModelFolder, with a model card saying where it came from.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  countParameters,
  IDENTIFIERS_FILE,
  type ModelConfig,
  type NamedArrays,
  type TaskName,
  writeModelFolder,
} from '@trm/core';
import { type ConfigFile, readConfigFile } from './config-file.js';
import { checkTensorSet, type FieldSource, resolveConfig, shapeFacts } from './infer-config.js';
import { detectKeyPrefix } from './key-prefix.js';
import { importedModelCard } from './model-card.js';
import { openTensorSource, type SourceFormat, type TensorSource } from './tensor-source.js';

/** Files of a model folder that an import does not write and that would no longer match the new weights. */
const STALE_FILES = [IDENTIFIERS_FILE, 'model.onnx', 'puzzle_emb.safetensors'];

const STORED_BYTES: Record<string, number> = { float32: 4, bfloat16: 2, float16: 2, float64: 8, int64: 8, int32: 4 };

export interface ImportProgress {
  /** 'hash': computing the file's SHA-256; 'read': reading and converting the tensors */
  phase: 'hash' | 'read';
  /** bytes */
  done: number;
  total: number;
}

export interface ImportOfficialOptions {
  /** the official checkpoint (`step_N`, a torch.save zip) or a .safetensors file of the same tensors */
  checkpoint: string;
  /** the model folder to write */
  out: string;
  /** all_config.yaml of the official run, its flat config dict (JSON/YAML), or our config.json */
  config?: string;
  task?: TaskName;
  seqLen?: number;
  /** replace the model files of an existing, non-empty `out` */
  force?: boolean;
  onProgress?: (p: ImportProgress) => void;
  signal?: AbortSignal;
  /** the command line, for the model card's "Reproduce" section */
  command?: string;
}

export interface ImportOfficialSummary {
  out: string;
  checkpoint: string;
  format: SourceFormat;
  sha256: string;
  bytes: number;
  keyPrefix: string;
  config: ModelConfig;
  sources: Record<keyof ModelConfig, FieldSource>;
  notes: string[];
  /** dtype as stored -> keys (bare names) */
  dtypes: Record<string, string[]>;
  tensors: number;
  parameters: number;
  seconds: number;
}

async function sha256File(path: string, size: number, progress: (done: number) => void, signal?: AbortSignal) {
  const hash = createHash('sha256');
  let done = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 })) {
    signal?.throwIfAborted();
    hash.update(chunk as Buffer);
    done += (chunk as Buffer).length;
    progress(done);
  }
  if (done !== size) throw new Error(`${path} changed while it was being read (${done} of ${size} bytes)`);
  return hash.digest('hex');
}

async function checkOut(out: string, force: boolean): Promise<void> {
  if (!existsSync(out)) return;
  if (!(await stat(out)).isDirectory()) throw new Error(`--out ${out} exists and is not a folder`);
  const present = await readdir(out);
  if (present.length > 0 && !force)
    throw new Error(
      `--out ${out} is not empty (${present.slice(0, 5).join(', ')}${present.length > 5 ? ', ...' : ''}); pass --force to replace its model files`,
    );
}

/** The tensors' shapes by bare name; a key without the prefix is an error. */
function bareShapes(source: TensorSource, prefix: string, checkpoint: string): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  for (const t of source.tensors) {
    if (!t.name.startsWith(prefix))
      throw new Error(`${checkpoint}: unknown key ${t.name} (every key of this checkpoint starts with ${prefix})`);
    shapes.set(t.name.slice(prefix.length), t.shape);
  }
  return shapes;
}

/** Every tensor widened to float32, by bare name, with the keys grouped by their stored dtype for the card. */
async function readWeights(
  source: TensorSource,
  prefix: string,
  opts: ImportOfficialOptions,
): Promise<{ weights: NamedArrays; dtypes: Record<string, string[]> }> {
  const total = source.tensors.reduce(
    (n, t) => n + t.shape.reduce((a, b) => a * b, 1) * (STORED_BYTES[t.dtype] ?? 0),
    0,
  );
  let done = 0;
  const weights: NamedArrays = {};
  const dtypes: Record<string, string[]> = {};
  for (const t of source.tensors) {
    opts.signal?.throwIfAborted();
    const bare = t.name.slice(prefix.length);
    const data = await source.readFloat32(t.name);
    weights[bare] = { shape: t.shape, data };
    (dtypes[t.storedAs] ??= []).push(bare);
    done += data.length * (STORED_BYTES[t.dtype] ?? 0);
    opts.onProgress?.({ phase: 'read', done, total });
  }
  return { weights, dtypes };
}

export async function importOfficial(opts: ImportOfficialOptions): Promise<ImportOfficialSummary> {
  const t0 = performance.now();
  await checkOut(opts.out, opts.force ?? false);
  const configFile: ConfigFile | null = opts.config ? await readConfigFile(opts.config) : null;
  const source = await openTensorSource(opts.checkpoint);
  try {
    const prefix = detectKeyPrefix(
      source.tensors.map((t) => t.name),
      opts.checkpoint,
    );
    const shapes = bareShapes(source, prefix, opts.checkpoint);
    const resolved = resolveConfig({
      facts: shapeFacts(shapes),
      file: configFile,
      task: opts.task,
      seqLen: opts.seqLen,
    });
    const config = resolved.config;
    checkTensorSet(config, shapes, prefix);

    const sha256 = await sha256File(
      opts.checkpoint,
      source.size,
      (done) => opts.onProgress?.({ phase: 'hash', done, total: source.size }),
      opts.signal,
    );

    const { weights, dtypes } = await readWeights(source, prefix, opts);

    const card = importedModelCard({
      title: `${basename(opts.out)}: official TRM checkpoint, imported`,
      config,
      sources: resolved.sources,
      notes: resolved.notes,
      source: { path: opts.checkpoint, sha256, bytes: source.size, format: source.format, keyPrefix: prefix },
      dtypes,
      configFile: configFile ? { path: configFile.path, kind: configFile.kind } : null,
      command:
        opts.command ??
        `pnpm --filter @trm/exporter import-official --checkpoint ${opts.checkpoint} --out ${opts.out}${opts.config ? ` --config ${opts.config}` : ''}`,
    });
    opts.signal?.throwIfAborted();
    await writeModelFolder(opts.out, {
      config,
      weights,
      identifiers: null,
      card,
      metadata: {
        'trm.imported_from': basename(opts.checkpoint),
        'trm.source_sha256': sha256,
        'trm.source_format': source.format,
        'trm.source_key_prefix': prefix,
      },
    });
    for (const f of STALE_FILES) await rm(join(opts.out, f), { force: true });
    return {
      out: opts.out,
      checkpoint: opts.checkpoint,
      format: source.format,
      sha256,
      bytes: source.size,
      keyPrefix: prefix,
      config,
      sources: resolved.sources,
      notes: resolved.notes,
      dtypes,
      tensors: source.tensors.length,
      parameters: countParameters(config),
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await source.close();
  }
}
