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

/** Keys of a step graph's metadata_props. */
export const METADATA_KEYS = {
  config: 'trm.config',
  task: 'trm.task',
  formatVersion: 'trm.format_version',
  dtype: 'trm.dtype',
  ops: 'trm.ops',
  /** where the weights came from, in words (optional; the exporter CLI writes it for random-weight presets) */
  source: 'trm.source',
} as const;

/** Version of the contract written into `trm.format_version`. */
export const ONNX_FORMAT_VERSION = '1';
/** ai.onnx opset and IR version of every graph written here (ORT 1.29 reads opsets up to 26, IR up to 13). */
export const OPSET = 23;
export const IR_VERSION = 10;
