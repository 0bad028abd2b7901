// A model folder without its step graph: model.onnx built from config.json + weights.safetensors as `export` builds
// it (float32, byte for byte the same file), written beside them, or into a cache folder under the system's
// temporary directory where the model folder cannot be written. The paper-size models ship without the graph, which
// would double their size in the repository; it takes well under a second to build.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { readModelFolder, writeFileAtomic } from '@trm/core';
import { exportStepGraph } from '@trm/graph';

export const WEIGHTS_FILE = 'weights.safetensors';

/** Where the graphs of read-only model folders go. */
export const GRAPH_CACHE = join(tmpdir(), 'trm-step-graphs');

export interface StepGraphFile {
  /** the graph to load: `path` itself, or the cached copy of a graph built for a read-only folder */
  path: string;
  /** set when the graph was built now: seconds it took */
  builtSeconds?: number;
}

/**
 * The step graph `path` of the model folder `dir`: `path` when it exists or when the folder has no weights to build
 * it from (the caller's reader reports the missing file); else built from the weights and written to `path`, or, if
 * that fails (a read-only folder), to GRAPH_CACHE under the folder's name and the graph's checksum.
 */
export async function stepGraphFile(dir: string, path: string, cache: string = GRAPH_CACHE): Promise<StepGraphFile> {
  if (existsSync(path) || !existsSync(join(dir, WEIGHTS_FILE))) return { path };
  const t0 = performance.now();
  const { config, weights } = await readModelFolder(dir);
  const bytes = exportStepGraph(config, weights, { dtype: 'fp32' });
  const seconds = () => (performance.now() - t0) / 1000;
  try {
    await writeFileAtomic(path, bytes);
    return { path, builtSeconds: seconds() };
  } catch {
    const digest = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
    const cached = join(cache, `${basename(dir)}-${digest}.onnx`);
    if (!existsSync(cached)) await writeFileAtomic(cached, bytes);
    return { path: cached, builtSeconds: seconds() };
  }
}
