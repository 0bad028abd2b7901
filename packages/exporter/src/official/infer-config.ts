// The model config of an imported checkpoint. The official checkpoint holds no config, but its tensor shapes fix
// several fields (hidden size, vocabulary, puzzle table, layer count, mlp_t, learned positions, the state length
// of mlp_t); the rest come from --config, --task and --seq-len, or from the reference's defaults where they do not
// change what the model computes. Every field the tensors fix is cross-checked against the config, and a field
// that nothing gives is reported together with exactly what to pass.
import {
  checkpointTensors,
  ConfigError,
  type ModelConfig,
  modelConfigSchema,
  puzzleEmbLen,
  swigluIntermediate,
  TASK_NAMES,
  TASK_SHAPES,
  type TaskName,
  validateModelConfig,
} from '@trm/core';
import type { ConfigFile } from './config-file.js';

/** Where a field of the imported config came from. */
export type FieldSource = 'checkpoint' | 'config' | 'flag' | 'task' | 'default';

interface Evidence {
  value: number;
  /** the key whose shape shows it */
  key: string;
  shape: readonly number[];
}

/** What the tensor shapes say about the config (names without the key prefix). */
export interface ShapeFacts {
  hidden: Evidence;
  vocab: Evidence;
  /** rows and width of puzzle_emb.weights, when present */
  puzzleRows: Evidence | null;
  puzzleDim: Evidence | null;
  /** 1 + the highest L_level.layers.<i> */
  layers: number;
  mlpT: boolean;
  learnedPos: boolean;
  /** L = seq_len + P, where a tensor shows it (mlp_t weights or the learned position table) */
  stateLen: Evidence | null;
  /** the SwiGLU width of the channel MLP (rows of gate_up_proj / 2) */
  swiglu: Evidence | null;
  /** the SwiGLU width of the sequence MLP of mlp_t */
  swigluT: Evidence | null;
}

const fmt = (shape: readonly number[]) => `[${shape.join(', ')}]`;

function shapeError(key: string, shape: readonly number[], expected: string): Error {
  return new Error(`key ${key} has shape ${fmt(shape)}, expected ${expected}`);
}

/** Reads the facts off the shapes of a checkpoint's tensors (bare names). */
export function shapeFacts(shapes: ReadonlyMap<string, readonly number[]>): ShapeFacts {
  const get = (key: string) => shapes.get(key) ?? null;
  const embed = get('embed_tokens.embedding_weight');
  if (!embed) throw new Error('missing key embed_tokens.embedding_weight');
  if (embed.length !== 2) throw shapeError('embed_tokens.embedding_weight', embed, '[vocab_size, hidden_size]');
  const ev = (key: string, shape: readonly number[], value: number): Evidence => ({ key, shape, value });
  const puzzle = get('puzzle_emb.weights');
  if (puzzle && puzzle.length !== 2)
    throw shapeError('puzzle_emb.weights', puzzle, '[num_puzzle_identifiers, puzzle_emb_ndim]');
  let layers = 0;
  let mlpT = false;
  for (const name of shapes.keys()) {
    const m = /^L_level\.layers\.(\d+)\.(.*)$/.exec(name);
    if (!m) continue;
    layers = Math.max(layers, Number(m[1]) + 1);
    if (m[2]!.startsWith('mlp_t.')) mlpT = true;
  }
  if (layers === 0) throw new Error('missing key L_level.layers.0.mlp.gate_up_proj.weight (no layer of L_level found)');
  const width = (key: string): Evidence | null => {
    const s = get(key);
    if (!s) return null;
    if (s.length !== 2 || s[0]! % 2 !== 0) throw shapeError(key, s, '[2 * intermediate, in] (rows gate | up)');
    return ev(key, s, s[0]! / 2);
  };
  const tKey = 'L_level.layers.0.mlp_t.gate_up_proj.weight';
  const posKey = 'embed_pos.embedding_weight';
  const tShape = get(tKey);
  const posShape = get(posKey);
  const stateLen = tShape ? ev(tKey, tShape, tShape[1]!) : posShape ? ev(posKey, posShape, posShape[0]!) : null;
  return {
    hidden: ev('embed_tokens.embedding_weight', embed, embed[1]!),
    vocab: ev('embed_tokens.embedding_weight', embed, embed[0]!),
    puzzleRows: puzzle ? ev('puzzle_emb.weights', puzzle, puzzle[0]!) : null,
    puzzleDim: puzzle ? ev('puzzle_emb.weights', puzzle, puzzle[1]!) : null,
    layers,
    mlpT,
    learnedPos: posShape !== null,
    stateLen,
    swiglu: width('L_level.layers.0.mlp.gate_up_proj.weight'),
    swigluT: mlpT ? width(tKey) : null,
  };
}

/** The reference's defaults for fields that no checkpoint fixes and that do not change the step's outputs. */
export const IMPORT_DEFAULTS = {
  H_layers: 0,
  halt_exploration_prob: 0.1,
  no_ACT_continue: true,
  rope_theta: 10000,
  rms_norm_eps: 1e-5,
  forward_dtype: 'bfloat16',
  // pretrain.py's default global_batch_size; only a default for later evaluation runs
  batch_size: 768,
  loss_type: 'stablemax_cross_entropy',
} as const satisfies Partial<ModelConfig>;

/** Values of the paper's sudoku attention model, shown in the message that asks for missing fields. */
const EXAMPLE_VALUES: Record<string, string> = {
  puzzle_emb_len: '16',
  pos_encodings: 'rope',
  expansion: '4',
  num_heads: '8',
  H_cycles: '3',
  L_cycles: '6',
  halt_max_steps: '16',
};

const TASK_BY_VOCAB = new Map<number, TaskName>(TASK_NAMES.map((t) => [TASK_SHAPES[t].vocabSize, t]));

export interface ResolveInputs {
  facts: ShapeFacts;
  file?: ConfigFile | null;
  task?: TaskName;
  seqLen?: number;
}

export interface ResolvedConfig {
  config: ModelConfig;
  sources: Record<keyof ModelConfig, FieldSource>;
  notes: string[];
}

/**
 * The config being assembled: each field with where it came from, the notes for the model card, and the fields that
 * nothing gave. The helpers take a field from one source and refuse a --config that says otherwise.
 */
class ConfigDraft {
  readonly given: Partial<ModelConfig>;
  readonly out: Partial<ModelConfig> = {};
  readonly sources: Partial<Record<keyof ModelConfig, FieldSource>> = {};
  readonly notes: string[];
  readonly missing: string[] = [];

  constructor(private readonly file: ConfigFile | null) {
    this.given = file?.fields ?? {};
    this.notes = [...(file?.notes ?? [])];
  }

  /** The field as the --config file names it, for messages. */
  where(k: keyof ModelConfig): string {
    return `--config ${this.file?.path}: ${this.file?.origin[k] ?? k}`;
  }

  set<K extends keyof ModelConfig>(k: K, v: ModelConfig[K], src: FieldSource): void {
    this.out[k] = v;
    this.sources[k] = src;
  }

  /** Takes a field from the tensors and refuses a config that says otherwise. */
  fromTensors<K extends keyof ModelConfig>(k: K, v: ModelConfig[K], why: string): void {
    if (this.given[k] !== undefined && this.given[k] !== v)
      throw new ConfigError(`${this.where(k)} is ${JSON.stringify(this.given[k])} but ${why}`, k);
    this.set(k, v, 'checkpoint');
  }

  fromConfig<K extends keyof ModelConfig>(k: K): void {
    if (this.given[k] === undefined) {
      this.missing.push(k);
      return;
    }
    this.set(k, this.given[k] as ModelConfig[K], 'config');
  }

  withDefault<K extends keyof typeof IMPORT_DEFAULTS>(k: K): void {
    if (this.given[k] !== undefined) this.set(k, this.given[k] as ModelConfig[K], 'config');
    else this.set(k, IMPORT_DEFAULTS[k] as ModelConfig[K], 'default');
  }
}

const shows = (e: Evidence, what: string) => `the checkpoint's ${e.key} has shape ${fmt(e.shape)} (${what} ${e.value})`;

/** The fields the tensor shapes fix outright: widths, vocabulary, layers, mlp_t and the puzzle table. */
function shapeFields(d: ConfigDraft, facts: ShapeFacts): void {
  d.fromTensors('hidden_size', facts.hidden.value, shows(facts.hidden, 'hidden_size'));
  d.fromTensors('vocab_size', facts.vocab.value, shows(facts.vocab, 'vocab_size'));
  d.fromTensors('L_layers', facts.layers, `the checkpoint has L_level.layers.0 to ${facts.layers - 1}`);
  d.fromTensors(
    'mlp_t',
    facts.mlpT,
    facts.mlpT
      ? 'the checkpoint has mlp_t weights'
      : 'the checkpoint has no mlp_t weights (missing key L_level.layers.0.mlp_t.gate_up_proj.weight)',
  );
  if (facts.puzzleRows && facts.puzzleDim) {
    d.fromTensors('num_puzzle_identifiers', facts.puzzleRows.value, shows(facts.puzzleRows, 'rows'));
    d.fromTensors('puzzle_emb_ndim', facts.puzzleDim.value, shows(facts.puzzleDim, 'width'));
  } else {
    d.fromTensors('puzzle_emb_ndim', 0, 'the checkpoint has no puzzle table (missing key puzzle_emb.weights)');
    if (d.given.num_puzzle_identifiers !== undefined)
      d.set('num_puzzle_identifiers', d.given.num_puzzle_identifiers, 'config');
    else d.set('num_puzzle_identifiers', 1, 'default');
  }
}

/** Task: --task, then the config, then the vocabulary; all that are given must agree. Then seq_len, from the task. */
function taskFields(d: ConfigDraft, facts: ShapeFacts, flagTask?: TaskName, flagSeqLen?: number): void {
  const vocab = facts.vocab.value;
  let task: TaskName | undefined = flagTask;
  if (task && d.given.task && d.given.task !== task)
    throw new ConfigError(`--task ${task} disagrees with ${d.where('task')} "${d.given.task}"`, 'task');
  if (task) d.sources.task = 'flag';
  else if (d.given.task) {
    task = d.given.task;
    d.sources.task = 'config';
  } else if (TASK_BY_VOCAB.has(vocab)) {
    task = TASK_BY_VOCAB.get(vocab)!;
    d.sources.task = 'checkpoint';
    d.notes.push(`task "${task}" inferred from the vocabulary of ${vocab} tokens`);
  }
  if (!task) {
    d.missing.push(`--task <${TASK_NAMES.join('|')}> (a vocabulary of ${vocab} tokens is none of ours)`);
    return;
  }
  d.out.task = task;
  const shape = TASK_SHAPES[task];
  if (shape.vocabSize !== vocab)
    throw new ConfigError(
      `task "${task}" has ${shape.vocabSize} tokens but ${shows(facts.vocab, 'vocab_size')}`,
      d.sources.task === 'flag' ? '--task' : 'task',
    );
  seqLenField(d, task, flagSeqLen);
}

/** seq_len: --seq-len, then the config, then the task; all that are given must agree. */
function seqLenField(d: ConfigDraft, task: TaskName, flagSeqLen?: number): void {
  const { seqLen } = TASK_SHAPES[task];
  if (flagSeqLen !== undefined && flagSeqLen !== seqLen)
    throw new ConfigError(`--seq-len ${flagSeqLen} does not match task "${task}" (${seqLen} cells)`, '--seq-len');
  if (d.given.seq_len !== undefined && d.given.seq_len !== seqLen)
    throw new ConfigError(
      `${d.where('seq_len')} is ${d.given.seq_len} but task "${task}" has ${seqLen} cells`,
      'seq_len',
    );
  d.set('seq_len', seqLen, flagSeqLen !== undefined ? 'flag' : d.given.seq_len !== undefined ? 'config' : 'task');
}

/** Prefix length: fixed by the state length where mlp_t or a learned position table shows it. */
function prefixField(d: ConfigDraft, facts: ShapeFacts): void {
  const { given, out } = d;
  const ndim = out.puzzle_emb_ndim!;
  const D = facts.hidden.value;
  if (ndim === 0) {
    d.set('puzzle_emb_len', given.puzzle_emb_len ?? 0, given.puzzle_emb_len !== undefined ? 'config' : 'default');
  } else if (facts.stateLen && out.seq_len !== undefined) {
    const P = facts.stateLen.value - out.seq_len;
    const why = `${shows(facts.stateLen, 'state length')}, which leaves ${P} prefix positions after ${out.seq_len} cells`;
    if (P < 1 || P * D < ndim) throw new ConfigError(`${why}: too few for puzzle_emb_ndim ${ndim}`, 'puzzle_emb_len');
    if (given.puzzle_emb_len !== undefined) {
      const implied = puzzleEmbLen({ ...(out as ModelConfig), puzzle_emb_len: given.puzzle_emb_len });
      if (implied !== P)
        throw new ConfigError(`${d.where('puzzle_emb_len')} is ${given.puzzle_emb_len} but ${why}`, 'puzzle_emb_len');
      d.set('puzzle_emb_len', given.puzzle_emb_len, 'config');
    } else d.set('puzzle_emb_len', P, 'checkpoint');
  } else if (!facts.stateLen) d.fromConfig('puzzle_emb_len');
  // (with a state length but no task, the missing --task is what to report)
}

/** Positional encoding: a learned table is visible; rope and none are not (and do not matter for mlp_t). */
function positionField(d: ConfigDraft, facts: ShapeFacts): void {
  const given = d.given.pos_encodings;
  if (facts.learnedPos) d.fromTensors('pos_encodings', 'learned', 'the checkpoint has key embed_pos.embedding_weight');
  else if (given === 'learned')
    throw new ConfigError(
      `${d.where('pos_encodings')} is "learned" but the checkpoint lacks key embed_pos.embedding_weight`,
      'pos_encodings',
    );
  else if (given !== undefined) d.set('pos_encodings', given, 'config');
  else if (facts.mlpT) {
    d.set('pos_encodings', 'none', 'default');
    d.notes.push('pos_encodings "none" assumed: mlp_t ignores positions');
  } else d.missing.push('pos_encodings');
}

/** Expansion: the SwiGLU widths round expansion * width * 2/3 up to a multiple of 256, so they only check it. */
function expansionField(d: ConfigDraft, facts: ShapeFacts): void {
  const D = facts.hidden.value;
  const widthsFit = (e: number) =>
    (!facts.swiglu || swigluIntermediate(D, e) === facts.swiglu.value) &&
    (!facts.swigluT || !facts.stateLen || swigluIntermediate(facts.stateLen.value, e) === facts.swigluT.value);
  const widthWhy = () =>
    [facts.swiglu, facts.swigluT]
      .filter((e): e is Evidence => e !== null)
      .map((e) => shows(e, 'intermediate width'))
      .join(' and ');
  const given = d.given.expansion;
  if (given !== undefined) {
    if (!widthsFit(given)) throw new ConfigError(`${d.where('expansion')} is ${given} but ${widthWhy()}`, 'expansion');
    d.set('expansion', given, 'config');
  } else if (widthsFit(4)) d.set('expansion', 4, 'default');
  else d.missing.push(`expansion (4 does not fit: ${widthWhy()})`);
}

/** One error for every field nothing gave: what to pass in --config (with example values), and --task if needed. */
function missingFieldsError(missing: readonly string[]): ConfigError {
  const fields = missing.filter((m) => !m.startsWith('--task'));
  const parts: string[] = [];
  if (fields.length > 0) {
    const example = fields
      .map((f) => f.split(' ')[0]!)
      .map((f) => `${f}: ${EXAMPLE_VALUES[f] ?? '...'}`)
      .join(', ');
    parts.push(
      `the checkpoint does not fix ${fields.join(', ')}: pass --config with the official run's all_config.yaml ` +
        `(or a YAML/JSON file giving them, e.g. "arch: {${example}}")`,
    );
  }
  const t = missing.find((m) => m.startsWith('--task'));
  if (t) parts.push(`pass ${t}`);
  return new ConfigError(`cannot complete the model config: ${parts.join('; ')}`, fields[0] ?? '--task');
}

/** The draft in our schema's field order (so config.json reads like every other one), validated. */
function validatedConfig(d: ConfigDraft): ModelConfig {
  const ordered = Object.fromEntries(modelConfigSchema.required.map((k) => [k, d.out[k as keyof ModelConfig]]));
  try {
    return validateModelConfig(ordered);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const field = err.field.replace(/^model\./, '') as keyof ModelConfig;
    const from = d.sources[field] === 'config' ? ` (from ${d.where(field)})` : '';
    throw new ConfigError(`the imported config is invalid: ${err.message}${from}`, err.field);
  }
}

/** Builds and validates the config; throws ConfigError naming the field on a conflict or a gap. */
export function resolveConfig({ facts, file = null, task, seqLen }: ResolveInputs): ResolvedConfig {
  const d = new ConfigDraft(file);
  shapeFields(d, facts);
  taskFields(d, facts, task, seqLen);
  prefixField(d, facts);
  positionField(d, facts);
  expansionField(d, facts);
  for (const k of ['num_heads', 'H_cycles', 'L_cycles', 'halt_max_steps'] as const) d.fromConfig(k);
  for (const k of Object.keys(IMPORT_DEFAULTS) as (keyof typeof IMPORT_DEFAULTS)[]) d.withDefault(k);
  if (d.missing.length > 0) throw missingFieldsError(d.missing);
  const config = validatedConfig(d);
  return { config, sources: d.sources as Record<keyof ModelConfig, FieldSource>, notes: d.notes };
}

/**
 * Compares the checkpoint's tensors (bare names) with those the config implies: every unknown key, missing key
 * and wrong shape is listed (the first 10), each by its key as stored (prefix included).
 */
export function checkTensorSet(
  config: ModelConfig,
  shapes: ReadonlyMap<string, readonly number[]>,
  prefix: string,
): void {
  const expected = new Map(checkpointTensors(config).map((t) => [t.name, t.shape]));
  const problems: string[] = [];
  for (const [name, shape] of shapes) {
    const want = expected.get(name);
    if (!want) problems.push(`unknown key ${prefix}${name} ${fmt(shape)}`);
    else if (want.length !== shape.length || want.some((d, i) => d !== shape[i]))
      problems.push(`key ${prefix}${name} has shape ${fmt(shape)}, the config implies ${fmt(want)}`);
  }
  for (const [name, shape] of expected)
    if (!shapes.has(name)) problems.push(`missing key ${prefix}${name} ${fmt(shape)}`);
  if (problems.length === 0) return;
  const shown = problems.slice(0, 10).join('; ') + (problems.length > 10 ? `; ... (${problems.length} in all)` : '');
  throw new Error(`the checkpoint does not match a TRM model of this config: ${shown}`);
}
