// Public surface of @trm/trainer: the TRM model in TensorFlow.js, losses, optimisers, the gradient of one
// supervision step, the backend choice, and the training loop with its data, checkpoints and evaluation. Test
// support (the float64 reference, host-array steps, randomised models) is `@trm/trainer/testing`.
export * from './ops/matmul.js';
export * from './ops/no-gradient.js';
export * from './ops/one-hot.js';
export * from './backend/backend.js';
export * from './loss/act-loss.js';
export * from './loss/cross-entropy.js';
export * from './model/init.js';
export * from './model/layers.js';
export * from './model/model.js';
export * from './model/net.js';
export * from './model/puzzle-table.js';
export * from './model/rope.js';
export * from './model/step.js';
export * from './optim/adam-atan2.js';
export * from './optim/adamw.js';
export * from './optim/ema.js';
export * from './optim/optimizer.js';
export * from './optim/schedule.js';
export * from './optim/sign-sgd.js';
export * from './train/forward-backward.js';
// The training loop and its files.
export * from './act/slots.js';
export * from './checkpoint/run-state.js';
export * from './checkpoint/train-state.js';
export * from './data/dataset-folder.js';
export * from './data/easy-sudoku.js';
export * from './data/split.js';
export * from './data/test-batches.js';
export * from './data/train-sampler.js';
export * from './evaluate/evaluate.js';
export * from './run/checkpointing.js';
export * from './run/session.js';
export * from './run/training-run.js';
