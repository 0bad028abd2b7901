// The --config of import-official, in any of the three forms a user may have: the official run's all_config.yaml
// (architecture under `arch:`, the batch as `global_batch_size`), the official model's flat config dict (as JSON
// or YAML), or our ModelConfig JSON (a config.json of a model folder). Each becomes a partial ModelConfig under
// our field names, which are the reference's names, with the spelling of each field's origin for messages.
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { ConfigError, type ModelConfig, modelConfigSchema, validateModelConfig } from '@trm/core';
import { parse as parseYaml } from 'yaml';

export type ConfigFileKind = 'all_config.yaml' | 'official config' | 'model config';

export interface ConfigFile {
  path: string;
  kind: ConfigFileKind;
  /** the fields it gives, under our names */
  fields: Partial<ModelConfig>;
  /** where each field came from in the file, e.g. "arch.hidden_size" */
  origin: Partial<Record<keyof ModelConfig, string>>;
  /** things worth telling the user (a pos_encodings value the reference treats as none, ...) */
  notes: string[];
}

/** The one architecture this importer reads (all_config.yaml's arch.name). */
export const TRM_ARCH_NAME = 'recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1';

/** Fields of the reference's TinyRecursiveReasoningModel_ACTV1Config, which are also ours. */
const ARCH_FIELDS = [
  'hidden_size',
  'num_heads',
  'expansion',
  'H_cycles',
  'L_cycles',
  'H_layers',
  'L_layers',
  'puzzle_emb_ndim',
  'puzzle_emb_len',
  'pos_encodings',
  'rope_theta',
  'rms_norm_eps',
  'forward_dtype',
  'mlp_t',
  'halt_max_steps',
  'halt_exploration_prob',
  'no_ACT_continue',
] as const satisfies readonly (keyof ModelConfig)[];

/** Fields the official model gets from the dataset and the trainer rather than from arch. */
const DATA_FIELDS = [
  'seq_len',
  'vocab_size',
  'num_puzzle_identifiers',
  'batch_size',
] as const satisfies readonly (keyof ModelConfig)[];

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  return JSON.stringify(v) ?? String(v);
}

/** Checks one value against our schema's type and range for the field; `at` is how the file spells it. */
function checkField(field: keyof ModelConfig, value: unknown, at: string, path: string): void {
  const spec = (modelConfigSchema.properties as Record<string, Record<string, unknown>>)[field]!;
  const bad = (what: string): never => {
    throw new ConfigError(`--config ${path}: ${at} must be ${what} (got ${describe(value)})`, at);
  };
  if (Array.isArray(spec.enum)) {
    if (!spec.enum.includes(value)) bad(`one of ${spec.enum.map(describe).join(', ')}`);
    return;
  }
  switch (spec.type) {
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) bad('an integer');
      break;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) bad('a number');
      break;
    case 'boolean':
      if (typeof value !== 'boolean') bad('true or false');
      return;
  }
  const n = value as number;
  if (typeof spec.minimum === 'number' && n < spec.minimum) bad(`>= ${spec.minimum}`);
  if (typeof spec.exclusiveMinimum === 'number' && n <= spec.exclusiveMinimum) bad(`> ${spec.exclusiveMinimum}`);
  if (typeof spec.maximum === 'number' && n > spec.maximum) bad(`<= ${spec.maximum}`);
}

/** Copies the reference-named fields of `src` into a partial config; refuses names it does not know. */
function readFlat(
  src: Json,
  allowed: readonly (keyof ModelConfig)[],
  ignored: readonly string[],
  prefix: string,
  path: string,
  out: ConfigFile,
): void {
  for (const [key, value] of Object.entries(src)) {
    const at = `${prefix}${key}`;
    if (ignored.includes(key)) continue;
    if (key === 'causal') {
      // pretrain.py adds causal=False; the reference's TRM has no causal mode.
      if (value !== false)
        throw new ConfigError(`--config ${path}: ${at} must be false for TRM (got ${describe(value)})`, at);
      continue;
    }
    if (!(allowed as readonly string[]).includes(key))
      throw new ConfigError(
        `--config ${path}: ${at} is not a field of the TRM config (known: ${allowed.join(', ')})`,
        at,
      );
    const field = key as keyof ModelConfig;
    let v = value;
    if (field === 'pos_encodings' && typeof v === 'string' && !['rope', 'learned', 'none'].includes(v)) {
      // The reference applies rope for "rope", a learned table for "learned", and nothing for any other value.
      out.notes.push(`${at} "${String(v)}" means no positional encoding in the reference; imported as "none"`);
      v = 'none';
    }
    checkField(field, v, at, path);
    (out.fields as Record<string, unknown>)[field] = v;
    out.origin[field] = at;
  }
}

function fromAllConfig(doc: Json, path: string): ConfigFile {
  const out: ConfigFile = { path, kind: 'all_config.yaml', fields: {}, origin: {}, notes: [] };
  const arch = doc.arch;
  if (!isObject(arch)) throw new ConfigError(`--config ${path}: arch must be a mapping of the model's fields`, 'arch');
  if (arch.name !== undefined && arch.name !== TRM_ARCH_NAME)
    throw new ConfigError(
      `--config ${path}: arch.name is ${describe(arch.name)}; import-official reads TRM checkpoints (${TRM_ARCH_NAME})`,
      'arch.name',
    );
  const { loss, ...rest } = arch;
  readFlat(rest, [...ARCH_FIELDS, ...DATA_FIELDS], ['name'], 'arch.', path, out);
  if (loss !== undefined) {
    if (!isObject(loss)) throw new ConfigError(`--config ${path}: arch.loss must be a mapping`, 'arch.loss');
    if (loss.loss_type !== undefined) {
      checkField('loss_type', loss.loss_type, 'arch.loss.loss_type', path);
      out.fields.loss_type = loss.loss_type as ModelConfig['loss_type'];
      out.origin.loss_type = 'arch.loss.loss_type';
    }
  }
  // The reference's model gets batch_size = global_batch_size / world_size; one process is what we run.
  if (doc.global_batch_size !== undefined && out.fields.batch_size === undefined) {
    checkField('batch_size', doc.global_batch_size, 'global_batch_size', path);
    out.fields.batch_size = doc.global_batch_size as number;
    out.origin.batch_size = 'global_batch_size';
  }
  return out;
}

function fromOfficialDict(doc: Json, path: string): ConfigFile {
  const out: ConfigFile = { path, kind: 'official config', fields: {}, origin: {}, notes: [] };
  const { loss_type, ...rest } = doc;
  readFlat(rest, [...ARCH_FIELDS, ...DATA_FIELDS], [], '', path, out);
  if (loss_type !== undefined) {
    checkField('loss_type', loss_type, 'loss_type', path);
    out.fields.loss_type = loss_type as ModelConfig['loss_type'];
    out.origin.loss_type = 'loss_type';
  }
  return out;
}

function fromModelConfig(doc: Json, path: string): ConfigFile {
  let config: ModelConfig;
  try {
    config = validateModelConfig(structuredClone(doc));
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(`--config ${path}: ${err.message}`, err.field);
    throw err;
  }
  const origin: ConfigFile['origin'] = {};
  for (const k of Object.keys(config) as (keyof ModelConfig)[]) origin[k] = k;
  return { path, kind: 'model config', fields: config, origin, notes: [] };
}

/** Interprets parsed config data: `arch:` means all_config.yaml, `task` our ModelConfig, else the official dict. */
export function interpretConfig(doc: unknown, path: string): ConfigFile {
  if (!isObject(doc)) throw new ConfigError(`--config ${path} must hold a mapping of config fields`, '--config');
  if ('arch' in doc) return fromAllConfig(doc, path);
  if ('task' in doc) return fromModelConfig(doc, path);
  return fromOfficialDict(doc, path);
}

/** Reads --config: .json as JSON, anything else as YAML (which also reads JSON). */
export async function readConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`--config ${path} cannot be read: ${(err as Error).message}`, '--config');
  }
  let doc: unknown;
  try {
    doc = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text, { logLevel: 'error' });
  } catch (err) {
    throw new ConfigError(`--config ${path} does not parse: ${(err as Error).message.split('\n')[0]}`, '--config');
  }
  return interpretConfig(doc, path);
}
