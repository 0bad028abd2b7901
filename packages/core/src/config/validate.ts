// Validation of configs: ajv for shapes and ranges, then the cross-field rules the model needs.
// Errors name the field and the allowed values, e.g. `model.pos_encodings must be one of "rope", "learned", "none" (got "rop")`.
import { Ajv, type ErrorObject } from 'ajv';
import { arcCanvasSide } from '../tasks/arc.js';
import { TASK_SHAPES } from '../tasks/vocab.js';
import { modelConfigSchema, trainConfigSchema } from './schema.js';
import type { ModelConfig, TrainConfig } from './types.js';

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

const ajv = new Ajv({ allErrors: false, strict: true });
const checkModel = ajv.compile(modelConfigSchema);
const checkTrain = ajv.compile(trainConfigSchema);

function describe(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/** Turns the first ajv error into a sentence that names the field. */
export function ajvErrorMessage(prefix: string, err: ErrorObject, data: unknown): { field: string; message: string } {
  const path = err.instancePath.split('/').filter(Boolean);
  let field = [prefix, ...path].filter(Boolean).join('.');
  let value: unknown = data;
  for (const key of path) value = (value as Record<string, unknown> | undefined)?.[key];
  const params = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'required':
      field = [field, params.missingProperty].filter(Boolean).join('.');
      return { field, message: `${field} is required` };
    case 'additionalProperties':
      field = [field, params.additionalProperty].filter(Boolean).join('.');
      return { field, message: `${field} is not a known field` };
    case 'enum':
      return {
        field,
        message: `${field} must be one of ${(params.allowedValues as unknown[]).map(describe).join(', ')} (got ${describe(value)})`,
      };
    default:
      return { field, message: `${field} ${err.message ?? 'is invalid'} (got ${describe(value)})` };
  }
}

function fail(prefix: string, errors: ErrorObject[] | null | undefined, data: unknown): never {
  const first = errors?.[0];
  if (!first) throw new ConfigError(`${prefix} is invalid`, prefix);
  const { field, message } = ajvErrorMessage(prefix, first, data);
  throw new ConfigError(message, field);
}

/** Validates a model config (for example a parsed config.json) and returns it typed. Throws ConfigError. */
export function validateModelConfig(data: unknown, prefix = 'model'): ModelConfig {
  if (!checkModel(data)) fail(prefix, checkModel.errors, data);
  const c = data as ModelConfig;
  const bad = (field: string, message: string): never => {
    throw new ConfigError(`${prefix}.${field} ${message}`, `${prefix}.${field}`);
  };
  if (c.hidden_size % c.num_heads !== 0)
    bad('num_heads', `must divide hidden_size ${c.hidden_size} (got ${c.num_heads})`);
  if (c.pos_encodings === 'rope' && (c.hidden_size / c.num_heads) % 2 !== 0)
    bad(
      'num_heads',
      `must leave an even head size for RoPE (hidden_size / num_heads = ${c.hidden_size / c.num_heads})`,
    );
  if (c.puzzle_emb_len > 0 && c.puzzle_emb_ndim > c.puzzle_emb_len * c.hidden_size)
    bad('puzzle_emb_len', `must hold puzzle_emb_ndim ${c.puzzle_emb_ndim} values in ${c.hidden_size}-wide slots`);
  const shape = TASK_SHAPES[c.task];
  // ARC may use a smaller square canvas than the reference's 30x30 (build-dataset --canvas): any side*side, 2..30.
  if (c.task === 'arc') {
    try {
      arcCanvasSide(c.seq_len);
    } catch {
      bad('seq_len', `must be a square canvas side*side with side 2..30 for task "arc" (got ${c.seq_len})`);
    }
  } else if (c.seq_len !== shape.seqLen)
    bad('seq_len', `must be ${shape.seqLen} for task "${c.task}" (got ${c.seq_len})`);
  if (c.vocab_size !== shape.vocabSize)
    bad('vocab_size', `must be ${shape.vocabSize} for task "${c.task}" (got ${c.vocab_size})`);
  return c;
}

export function validateTrainConfig(data: unknown, prefix = 'train'): TrainConfig {
  if (!checkTrain(data)) fail(prefix, checkTrain.errors, data);
  return data as TrainConfig;
}
