// The model and training configuration of TRM. Field names follow the reference's config
// (TinyRecursiveReasoningModel_ACTV1Config and pretrain.py), so a config.json here reads like its YAML.
import type { TaskName } from '../tasks/vocab.js';

export type PosEncoding = 'rope' | 'learned' | 'none';
export type ForwardDtype = 'float32' | 'bfloat16' | 'float16';
export type LossType = 'stablemax_cross_entropy' | 'softmax_cross_entropy';
export type OptimizerName = 'adam_atan2' | 'adamw';

/** Architecture: every field of TRM-SPEC §1.1, plus the task it is for. */
export interface ModelConfig {
  task: TaskName;
  hidden_size: number;
  num_heads: number;
  expansion: number;
  L_layers: number;
  /** Ignored by TRM (kept for fidelity with the reference config). */
  H_layers: number;
  H_cycles: number;
  L_cycles: number;
  puzzle_emb_ndim: number;
  /** Prefix positions reserved for the puzzle embedding; 0 means ceil(puzzle_emb_ndim / hidden_size). */
  puzzle_emb_len: number;
  pos_encodings: PosEncoding;
  rope_theta: number;
  rms_norm_eps: number;
  forward_dtype: ForwardDtype;
  mlp_t: boolean;
  halt_max_steps: number;
  halt_exploration_prob: number;
  no_ACT_continue: boolean;
  seq_len: number;
  vocab_size: number;
  num_puzzle_identifiers: number;
  batch_size: number;
  loss_type: LossType;
}

/** Optimisation settings (TRM-SPEC §5). */
export interface TrainConfig {
  global_batch_size: number;
  epochs: number;
  eval_interval: number;
  optimizer: OptimizerName;
  lr: number;
  lr_min_ratio: number;
  lr_warmup_steps: number;
  beta1: number;
  beta2: number;
  weight_decay: number;
  puzzle_emb_lr: number;
  puzzle_emb_weight_decay: number;
  ema: boolean;
  ema_rate: number;
  seed: number;
}

export interface Preset {
  name: string;
  description: string;
  model: ModelConfig;
  train: TrainConfig;
}
