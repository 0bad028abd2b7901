// Named configurations: the paper's five (TRM-SPEC §5.5, with the README's overrides) and small ones for
// tests and CPU training. `seq_len`, `vocab_size` and `num_puzzle_identifiers` are replaced by the dataset's
// metadata when a dataset is given to the trainer.
import { TASK_SHAPES, type TaskName } from '../tasks/vocab.js';
import type { ModelConfig, Preset, TrainConfig } from './types.js';
import { ConfigError, validateModelConfig, validateTrainConfig } from './validate.js';

function model(task: TaskName, over: Partial<ModelConfig>): ModelConfig {
  return {
    task,
    hidden_size: 512,
    num_heads: 8,
    expansion: 4,
    L_layers: 2,
    H_layers: 0,
    H_cycles: 3,
    L_cycles: 6,
    puzzle_emb_ndim: 512,
    puzzle_emb_len: 16,
    pos_encodings: 'rope',
    rope_theta: 10000,
    rms_norm_eps: 1e-5,
    forward_dtype: 'bfloat16',
    mlp_t: false,
    halt_max_steps: 16,
    halt_exploration_prob: 0.1,
    no_ACT_continue: true,
    seq_len: TASK_SHAPES[task].seqLen,
    vocab_size: TASK_SHAPES[task].vocabSize,
    num_puzzle_identifiers: 1,
    batch_size: 768,
    loss_type: 'stablemax_cross_entropy',
    ...over,
  };
}

function train(over: Partial<TrainConfig>): TrainConfig {
  return {
    global_batch_size: 768,
    epochs: 50_000,
    eval_interval: 5_000,
    optimizer: 'adam_atan2',
    lr: 1e-4,
    lr_min_ratio: 1.0,
    lr_warmup_steps: 2000,
    beta1: 0.9,
    beta2: 0.95,
    weight_decay: 1.0,
    puzzle_emb_lr: 1e-4,
    puzzle_emb_weight_decay: 1.0,
    ema: true,
    ema_rate: 0.999,
    seed: 0,
    ...over,
  };
}

/** Small sizes shared by the CPU presets: D = 64, 4 heads, 2 layers, T = 2, n = 2, one prefix slot. */
const tiny: Partial<ModelConfig> = {
  hidden_size: 64,
  num_heads: 4,
  H_cycles: 2,
  L_cycles: 2,
  puzzle_emb_ndim: 64,
  puzzle_emb_len: 1,
  forward_dtype: 'float32',
  batch_size: 64,
};
const tinyTrain: Partial<TrainConfig> = {
  global_batch_size: 64,
  epochs: 2_000,
  eval_interval: 200,
  lr: 1e-3,
  lr_warmup_steps: 100,
  weight_decay: 0.1,
  puzzle_emb_lr: 1e-2,
  puzzle_emb_weight_decay: 0.1,
};

const arcTrain = train({
  epochs: 100_000,
  eval_interval: 10_000,
  puzzle_emb_lr: 1e-2,
  weight_decay: 0.1,
  puzzle_emb_weight_decay: 0.1,
});

/** Training of the short ARC runs (arc-small, arc-mini); see the comment above arc-small. */
const shortArcTrain: Partial<TrainConfig> = {
  ...tinyTrain,
  lr: 1e-3,
  lr_warmup_steps: 50,
  puzzle_emb_lr: 5e-2,
  ema_rate: 0.995,
};

export const PRESETS: Record<string, Preset> = {
  'sudoku-mlp': {
    name: 'sudoku-mlp',
    description: 'Paper size, Sudoku-Extreme MLP-mixer (TRM-MLP, 5.0M params, T=3 n=6, no positional encoding)',
    model: model('sudoku', { mlp_t: true, pos_encodings: 'none' }),
    train: train({}),
  },
  'sudoku-att': {
    name: 'sudoku-att',
    description: 'Paper size, Sudoku-Extreme with attention (TRM-Att, 6.8M params, T=3 n=6, RoPE)',
    model: model('sudoku', {}),
    train: train({}),
  },
  'maze-att': {
    name: 'maze-att',
    description: 'Paper size, Maze-Hard with attention (6.8M params, T=3 n=4, RoPE)',
    model: model('maze', { L_cycles: 4 }),
    train: train({}),
  },
  'arc1-att': {
    name: 'arc1-att',
    description: 'Paper size, ARC-AGI-1 with attention (6.8M params + puzzle table, T=3 n=4, RoPE)',
    model: model('arc', { L_cycles: 4, num_puzzle_identifiers: 960_961 }),
    train: arcTrain,
  },
  'arc2-att': {
    name: 'arc2-att',
    description: 'Paper size, ARC-AGI-2 with attention (6.8M params + puzzle table, T=3 n=4, RoPE)',
    model: model('arc', { L_cycles: 4, num_puzzle_identifiers: 1_281_281 }),
    train: arcTrain,
  },
  'sudoku-tiny': {
    name: 'sudoku-tiny',
    description:
      'CPU size, 9x9 sudoku with attention (D=64, T=2 n=2); slow to learn sudoku on a CPU: use sudoku-tiny-mlp for that',
    model: model('sudoku', { ...tiny }),
    train: train({ ...tinyTrain }),
  },
  // Tuned for learning easy sudoku fast on a CPU (measured on wasm, 16 runs side by side): the MLP-mixer learns
  // where attention with 1-D RoPE did not within 400 steps; one recursion of one layer per supervision step at
  // D=32 is ~3x cheaper than D=64 with T=2 n=2 for the same steps-to-accuracy; 4 supervision steps (instead of 16)
  // mean 4x more new puzzles per step before halting is learned and 4x cheaper evaluation; EMA 0.98 instead of
  // 0.999 so that the EMA weights follow a run of a few hundred steps (without EMA: 79 % instead of 96 %).
  'sudoku-tiny-mlp': {
    name: 'sudoku-tiny-mlp',
    description:
      'CPU size, 9x9 sudoku MLP-mixer (D=32, 1 layer, T=1 n=1, 4 supervision steps): learns easy sudoku to >95 % in ~400 steps',
    model: model('sudoku', {
      ...tiny,
      mlp_t: true,
      pos_encodings: 'none',
      hidden_size: 32,
      puzzle_emb_ndim: 32,
      L_layers: 1,
      H_cycles: 1,
      L_cycles: 1,
      halt_max_steps: 4,
      batch_size: 32,
    }),
    train: train({
      ...tinyTrain,
      global_batch_size: 32,
      epochs: 8,
      eval_interval: 2,
      lr: 3e-3,
      lr_warmup_steps: 20,
      ema_rate: 0.98,
    }),
  },
  'sudoku-small-mlp': {
    name: 'sudoku-small-mlp',
    description:
      'CPU size with real recursion, 9x9 sudoku MLP-mixer (D=64, 2 layers, T=2 n=2, 8 supervision steps): the shipped sudoku model',
    model: model('sudoku', {
      ...tiny,
      mlp_t: true,
      pos_encodings: 'none',
      halt_max_steps: 8,
    }),
    train: train({
      ...tinyTrain,
      epochs: 20,
      eval_interval: 1,
      lr: 2e-3,
      lr_warmup_steps: 100,
      ema_rate: 0.995,
    }),
  },
  'maze-tiny': {
    name: 'maze-tiny',
    description: 'CPU size, 30x30 maze with attention (D=64, T=2 n=2)',
    model: model('maze', { ...tiny, batch_size: 16 }),
    train: train({ ...tinyTrain, global_batch_size: 16 }),
  },
  'arc-tiny': {
    name: 'arc-tiny',
    description: 'CPU size, ARC with attention and a puzzle table (D=64, T=2 n=2)',
    model: model('arc', { ...tiny, batch_size: 16 }),
    train: train({ ...tinyTrain, global_batch_size: 16 }),
  },
  // Sizes for a short run on one GPU with the WebGPU backend (TensorFlow.js kernels are launch-bound: a few
  // minutes buy ~10^5 samples). Attention with RoPE, as the paper's ARC model: train examples are translated on the
  // canvas, so a fixed position mixer (mlp_t) does not fit. The puzzle-embedding rate is raised from the reference's
  // 1e-2 because a short run updates each row only tens of times (sign-SGD moves a row by the rate per update).
  'arc-small': {
    name: 'arc-small',
    description:
      'GPU size for short runs, ARC with attention (D=128, 4 heads, 2 layers, T=2 n=2, 8 supervision steps, 0.53M params + puzzle table)',
    model: model('arc', {
      ...tiny,
      hidden_size: 128,
      puzzle_emb_ndim: 128,
      halt_max_steps: 8,
      batch_size: 64,
    }),
    train: train(shortArcTrain),
  },
  'arc-mini': {
    name: 'arc-mini',
    description:
      'CPU size for small-canvas ARC tasks (build-dataset --canvas), attention (D=64, 4 heads, 2 layers, T=2 n=2, 4 supervision steps, 0.13M params + puzzle table)',
    model: model('arc', {
      ...tiny,
      halt_max_steps: 4,
      batch_size: 64,
    }),
    train: train(shortArcTrain),
  },
  'arc-base': {
    name: 'arc-base',
    description:
      'GPU size for longer runs, ARC with attention (D=256, 8 heads, 2 layers, T=3 n=4, 16 supervision steps, 1.7M params + puzzle table)',
    model: model('arc', {
      ...tiny,
      hidden_size: 256,
      num_heads: 8,
      puzzle_emb_ndim: 256,
      H_cycles: 3,
      L_cycles: 4,
      halt_max_steps: 16,
      batch_size: 32,
    }),
    train: train({
      ...tinyTrain,
      global_batch_size: 32,
      lr: 3e-4,
      lr_warmup_steps: 100,
      puzzle_emb_lr: 2e-2,
      ema_rate: 0.999,
    }),
  },
  'test-micro': {
    name: 'test-micro',
    description: 'Smallest useful size for unit tests (D=16, 2 heads, 1 layer, T=2 n=2)',
    model: model('sudoku', { ...tiny, hidden_size: 16, num_heads: 2, L_layers: 1, puzzle_emb_ndim: 16, batch_size: 8 }),
    train: train({ ...tinyTrain, global_batch_size: 8 }),
  },
};

export const PRESET_NAMES = Object.keys(PRESETS);

/** Returns a deep copy of a preset, validated. Unknown names get an error that lists the known ones. */
export function getPreset(name: string): Preset {
  const p = PRESETS[name];
  if (!p) throw new ConfigError(`preset must be one of ${PRESET_NAMES.join(', ')} (got "${name}")`, 'preset');
  const copy = structuredClone(p);
  validateModelConfig(copy.model);
  validateTrainConfig(copy.train);
  return copy;
}
