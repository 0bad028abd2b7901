// The step-graph contract (ARCHITECTURE.md "ONNX step graph"): the tensor names, metadata keys and format version
// that the exporter writes, the server reads and the trainer's evaluation runs. Defined once, here.

/** Inputs of a step graph. */
export const STEP_INPUTS = {
  tokens: 'tokens',
  puzzleEmb: 'puzzle_emb',
  reset: 'reset',
  zH: 'z_h',
  zL: 'z_l',
} as const;

/** Outputs of a step graph. */
export const STEP_OUTPUTS = {
  zH: 'z_h_out',
  zL: 'z_l_out',
  logits: 'logits',
  qHalt: 'q_halt',
} as const;

/**
 * Outputs of a graph of k supervision steps per run (unrollStepGraph) in place of logits and q_halt; z_h_out and
 * z_l_out are the state after the last of them.
 */
export const MULTI_STEP_OUTPUTS = {
  /** uint8 [B, k, S]: the argmax answer after each step (first index on ties, as torch.argmax) */
  answers: 'answers',
  /** float32 [B, k]: the halt logit after each step */
  qHalts: 'q_halts',
} as const;

/**
 * Inputs of a Loop graph of k steps per run (unrollStepGraph, form loop) besides the step graph's: the loop ends
 * after the first step at which no row goes on, a row going on while its halt logit is at most its threshold and
 * it has steps left. They only save work: the host still decides every row's halting from q_halts.
 */
export const MULTI_STEP_INPUTS = {
  /** float32 [B]: the halt logit above which the row halts (logit of its threshold; +inf: never) */
  haltLogit: 'halt_logit',
  /** int64 [B]: steps the row may still take (0 for an unused row) */
  stepsLeft: 'steps_left',
} as const;

/** Keys of a step graph's metadata_props. */
export const METADATA_KEYS = {
  config: 'trm.config',
  task: 'trm.task',
  formatVersion: 'trm.format_version',
  dtype: 'trm.dtype',
  ops: 'trm.ops',
  /** where the weights came from, in words (optional; the exporter CLI writes it for random-weight presets) */
  source: 'trm.source',
  /**
   * SHA-256 (hex) of the initializers' raw_data, concatenated in graph order (weightsSha256): the server refuses a
   * file whose weights no longer match it. Graphs exported before it existed lack it.
   */
  weightsSha256: 'trm.weights_sha256',
  /** supervision steps per run of a graph made by unrollStepGraph (absent: 1, the exported step graph) */
  stepsPerRun: 'trm.steps_per_run',
} as const;

/** Version of the contract written into `trm.format_version`. */
export const ONNX_FORMAT_VERSION = '1';
/** ai.onnx opset and IR version of every graph written here (ORT 1.29 reads opsets up to 26, IR up to 13). */
export const OPSET = 23;
export const IR_VERSION = 10;

/** The opset imports of a graph whose nodes use `domains` (the default domain, plus com.microsoft when used). */
export function opsetImports(domains: ReadonlySet<string>): { domain: string; version: number }[] {
  const opsets = [{ domain: '', version: OPSET }];
  if (domains.has('com.microsoft')) opsets.push({ domain: 'com.microsoft', version: 1 });
  return opsets;
}

/** Inputs of a training graph besides those of the step graph and the trained parameters (by reference name). */
export const TRAIN_INPUTS = {
  /** int64 [B, S]: target tokens, IGNORE_LABEL_ID where no loss is taken */
  labels: 'labels',
  /** float32 scalar: the factor of the differentiated loss (1 / global batch size in the reference) */
  lossScale: 'loss_scale',
} as const;

/** Outputs of a training graph besides z_h_out, z_l_out and q_halt; gradients are named by gradientName. */
export const TRAIN_OUTPUTS = {
  /** float32 scalar: sum over rows of the per-row mean token cross-entropy */
  lmLoss: 'lm_loss',
  /** float32 scalar: sum over rows of BCE(q_halt, row_correct) */
  qHaltLoss: 'q_halt_loss',
  /** float32 [B]: 1 where every supervised token's argmax equals its label */
  rowCorrect: 'row_correct',
  /** float32 [B]: correct supervised tokens / max(supervised tokens, 1) */
  rowAccuracy: 'row_accuracy',
  /** float32 [B]: supervised tokens */
  rowCount: 'row_count',
} as const;

/** The label that takes no loss (the reference's IGNORE_LABEL_ID). */
export const IGNORE_LABEL = -100;

/** Output name of the gradient of a trained tensor (or of the puzzle_emb input). */
export function gradientName(tensor: string): string {
  return `grad.${tensor}`;
}
