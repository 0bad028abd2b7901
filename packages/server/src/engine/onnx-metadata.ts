// The model metadata of an ONNX file (ModelProto field 14, `metadata_props`: key/value strings), read straight from
// the protobuf wire format so the main thread learns the graph's config and dtype without ONNX Runtime (which
// offers no metadata API in Node) and without a protobuf schema. Every other field is skipped by its length.
import { readFile } from 'node:fs/promises';
import { type ModelConfig, stateLen, validateModelConfig } from '@trm/core';

const METADATA_PROPS = 14;

class WireReader {
  pos = 0;
  constructor(
    readonly bytes: Uint8Array,
    readonly end = bytes.length,
  ) {}

  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const b = this.bytes[this.pos++]!;
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new Error('varint longer than 10 bytes');
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) {
      // Read the length first: `pos += varint()` would add it to the position from before the length.
      const n = this.varint();
      this.pos += n;
    } else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
    if (this.pos > this.end) throw new Error('field runs past the end of the message');
  }

  string(): string {
    const n = this.varint();
    if (this.pos + n > this.end) throw new Error('string runs past the end of the message');
    const s = new TextDecoder().decode(this.bytes.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }
}

/** The `metadata_props` of a serialized ModelProto. */
export function readOnnxMetadata(bytes: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  const r = new WireReader(bytes);
  while (r.pos < r.end) {
    const key = r.varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field !== METADATA_PROPS || wire !== 2) {
      r.skip(wire);
      continue;
    }
    const len = r.varint();
    const entry = new WireReader(bytes, r.pos + len);
    entry.pos = r.pos;
    let k = '';
    let v = '';
    while (entry.pos < entry.end) {
      const ek = entry.varint();
      if (ek === (1 << 3) + 2) k = entry.string();
      else if (ek === (2 << 3) + 2) v = entry.string();
      else entry.skip(ek % 8);
    }
    out[k] = v;
    r.pos += len;
  }
  return out;
}

/** What the server needs from a step graph's metadata (ARCHITECTURE.md "ONNX step graph"). */
export interface StepGraphMetadata {
  config: ModelConfig;
  task: string;
  formatVersion: string;
  /** fp32 | fp16-weights | fp16 */
  dtype: string;
}

export async function readStepGraphMetadata(path: string): Promise<StepGraphMetadata> {
  let props: Record<string, string>;
  try {
    props = readOnnxMetadata(await readFile(path));
  } catch (err) {
    throw new Error(`${path} is not a readable ONNX model: ${(err as Error).message}`);
  }
  const raw = props['trm.config'];
  if (raw === undefined)
    throw new Error(
      `${path} has no trm.config metadata: it is not a TRM step graph (export one with \`pnpm --filter @trm/exporter export\`)`,
    );
  let config: ModelConfig;
  try {
    config = validateModelConfig(JSON.parse(raw));
  } catch (err) {
    throw new Error(`${path}: metadata trm.config is not a valid model config: ${(err as Error).message}`);
  }
  return {
    config,
    task: props['trm.task'] ?? config.task,
    formatVersion: props['trm.format_version'] ?? 'unknown',
    dtype: props['trm.dtype'] ?? 'fp32',
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
