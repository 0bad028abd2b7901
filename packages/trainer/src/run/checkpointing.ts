// Saving a training run as a model folder plus its training state, and loading both back for --resume. The folder's
// weights are the EMA weights (the reference checkpoints its EMA model) with the live buffers (H_init, L_init, the
// puzzle table); the live weights, moments and carry go to train-state.*. A save replaces all of these files as one
// unit (checkpoint/staged-save.ts), so a run killed at any instant of a save can still be resumed, from the new save
// or the previous one. train-state.json and both safetensors files name their save, so files mixed up by other
// means are still detected instead of resumed from.
import { randomUUID } from 'node:crypto';
import type { ModelConfig, TrainConfig } from '@trm/core';
import { readModelFolder, writeModelFolder } from '@trm/core';
import {
  readTrainState,
  type TrainStateFile,
  writeTrainState,
  STATE_FORMAT_VERSION,
} from '../checkpoint/train-state.js';
import type { RunStateArrays, RunStateJson } from '../checkpoint/run-state.js';
import { finishPendingSave, replaceSave } from '../checkpoint/staged-save.js';
import type { NamedArrays } from '../model/model.js';
import type { TrainLoop } from './training-run.js';

/** Easy sudoku generated in memory (see data/easy-sudoku.ts). */
export interface GeneratedData {
  kind: 'easy-sudoku';
  train: number;
  test: number;
  blanks: [number, number];
  seed: number;
}

/** What a resumed run must know besides the arrays: how the run was set up. */
export interface RunMeta {
  preset: string | null;
  model: ModelConfig;
  train: TrainConfig;
  total_steps: number;
  /** the training data: a dataset folder, or a description of generated data */
  data: string;
  /** how generated data was made (regenerated identically on resume); absent for a dataset folder */
  generated?: GeneratedData;
  /** the model folder whose weights a new run started from (train --init); absent otherwise */
  init?: string;
  /** examples and groups of the training split, to refuse resuming on different data */
  data_shape: { examples: number; groups: number };
  backend: string;
  /** seconds of training before this save (all sessions) */
  wall_s: number;
  eval_every: number;
  eval_examples: number;
}

export interface SaveInput {
  dir: string;
  run: TrainLoop;
  meta: RunMeta;
  /** the model card (README.md) */
  card: string;
  identifiers: string[] | null;
}

/** Writes the model folder and the training state of `run` into `dir`, replacing the previous save as one unit. */
export async function saveCheckpoint({ dir, run, meta, card, identifiers }: SaveInput): Promise<void> {
  const { json, arrays } = await run.exportState();
  const id = randomUUID();
  const weights = await run.folderWeights();
  const state: TrainStateFile<RunMeta> = {
    format_version: STATE_FORMAT_VERSION,
    checkpoint_id: id,
    saved_at: new Date().toISOString(),
    run: json,
    meta,
  };
  await replaceSave(dir, async (staging) => {
    await writeModelFolder(staging, {
      config: run.config,
      weights,
      identifiers,
      card,
      metadata: { 'trm.checkpoint_id': id, 'trm.step': String(json.step), 'trm.task': run.config.task },
    });
    await writeTrainState(staging, state, arrays);
  });
}

export interface ResumePoint {
  meta: RunMeta;
  /** the folder's weights (EMA values for the parameters, live buffers): what to build the model from */
  weights: NamedArrays;
  identifiers: string[] | null;
  json: RunStateJson;
  arrays: RunStateArrays;
}

/**
 * Reads a checkpoint written by saveCheckpoint and checks that its files belong together. A save that a killed
 * process left half moved into place is completed first, one left uncommitted is discarded.
 */
export async function loadCheckpoint(dir: string): Promise<ResumePoint> {
  await finishPendingSave(dir);
  const { state, arrays } = await readTrainState<RunMeta>(dir);
  const folder = await readModelFolder(dir);
  const id = folder.metadata['trm.checkpoint_id'];
  if (id !== state.checkpoint_id)
    throw new Error(
      `${dir}: weights.safetensors (save ${id ?? 'unknown'}) and train-state.json (save ${state.checkpoint_id}) come from different saves; the files of a save must be kept (and copied) together`,
    );
  if (state.meta.train.ema) {
    arrays.ema = {};
    for (const name of Object.keys(arrays.params)) arrays.ema[name] = folder.weights[name]!;
  }
  return { meta: state.meta, weights: folder.weights, identifiers: folder.identifiers, json: state.run, arrays };
}
