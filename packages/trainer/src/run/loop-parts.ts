// The pieces of the training loop that do not depend on what runs the step (tfjs TrainingRun, ONNX Runtime
// OrtTrainingRun): the seeds of the sampler and the exploration, the halting rule of training, the learning-rate
// schedule, the sign-SGD of the batch's puzzle rows (only the adapted rows when adapting), and the bookkeeping
// part of the saved state.
import { type ModelConfig, Rng, type RngState, type TrainConfig } from '@trm/core';
import type { HaltRule, SlotState } from '../act/slots.js';
import type { RunStateJson } from '../checkpoint/run-state.js';
import type { SamplerCursor } from '../data/train-sampler.js';
import type { PuzzleTable } from '../model/puzzle-table.js';
import { learningRate } from '../optim/schedule.js';
import { signSgdUpdate } from '../optim/sign-sgd.js';

/** The sampler's and the exploration's seeds, both drawn from the run's seed. */
export function runSeeds(seed: number): { sampler: number; explore: number } {
  const root = new Rng(seed);
  return { sampler: root.nextUint32(), explore: root.nextUint32() };
}

/** Halting as training applies it (learned halt, exploration). */
export function trainingHaltRule(model: ModelConfig): HaltRule {
  return {
    maxSteps: model.halt_max_steps,
    explorationProb: model.halt_exploration_prob,
    noActContinue: model.no_ACT_continue,
    training: true,
  };
}

/** The learning rate at `step` for base rate `base` under the run's schedule. */
export function scheduledLr(step: number, base: number, train: TrainConfig, totalSteps: number): number {
  return learningRate(step, {
    baseLr: base,
    warmupSteps: train.lr_warmup_steps,
    totalSteps,
    minRatio: train.lr_min_ratio,
  });
}

/**
 * Sign-SGD of the batch's puzzle rows from their gradients [B * dim]. When adapting (`keep`), only the rows listed
 * learn: the others are left out of the update (no step, no decay).
 */
export function updatePuzzleRows(
  table: PuzzleTable,
  puzzleIds: Int32Array,
  rowGrads: Float32Array,
  lr: number,
  weightDecay: number,
  keep: ReadonlySet<number> | undefined,
): void {
  const ids = keep ? puzzleIds.filter((id) => keep.has(id)) : puzzleIds;
  const grads = keep ? selectRows(rowGrads, puzzleIds, keep, table.dim) : rowGrads;
  signSgdUpdate(table, ids, grads, lr, weightDecay);
}

/** The gradient rows of the ids in `keep`, in batch order. */
function selectRows(grads: Float32Array, ids: Int32Array, keep: ReadonlySet<number>, dim: number): Float32Array {
  const rows: number[] = [];
  ids.forEach((id, i) => {
    if (keep.has(id)) rows.push(i);
  });
  const out = new Float32Array(rows.length * dim);
  rows.forEach((r, k) => {
    out.set(grads.subarray(r * dim, (r + 1) * dim), k * dim);
  });
  return out;
}

/** The loop's bookkeeping as saved in train-state.json. */
export function loopStateJson(s: {
  step: number;
  sampler: SamplerCursor;
  exploreRng: RngState;
  slots: SlotState;
  optimizer: { name: string; step: number } | null;
  hasCarry: boolean;
}): RunStateJson {
  return {
    step: s.step,
    sampler: s.sampler,
    exploreRng: s.exploreRng,
    slots: { steps: Array.from(s.slots.steps), halted: Array.from(s.slots.halted) },
    optimizer: s.optimizer ? { name: s.optimizer.name, step: s.optimizer.step } : null,
    hasCarry: s.hasCarry,
  };
}

/** The slots of a saved state, checked against the batch size and the presence of a carry. */
export function restoredSlots(json: RunStateJson, batchSize: number, hasCarry: boolean): SlotState {
  if (json.slots.steps.length !== batchSize)
    throw new Error(`the saved carry has ${json.slots.steps.length} slots, but the batch size is ${batchSize}`);
  if (!hasCarry && json.slots.halted.some((h) => h !== 1))
    throw new Error('the saved state has slots in flight but no carry');
  return { steps: Int32Array.from(json.slots.steps), halted: Uint8Array.from(json.slots.halted) };
}
