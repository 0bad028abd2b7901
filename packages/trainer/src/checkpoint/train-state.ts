// The training state beside a model folder, for an exact --resume: train-state.safetensors holds the arrays (live
// non-EMA weights, optimiser moments, the carry's z_H/z_L and the data its slots hold) and train-state.json the
// rest (step, data cursor, RNG states, slot steps, run settings). train-state.json names the save it belongs to
// (checkpoint_id, also in both safetensors files), so files of different saves are detected on load.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readSafetensors, type StoredTensor, toFloat32, writeFileAtomic, writeSafetensors } from '@trm/core';
import type { NamedArrays } from '../model/model.js';
import { hasPendingSave } from './staged-save.js';
import type { RunStateArrays, RunStateJson } from './run-state.js';

export const STATE_FILE = 'train-state.safetensors';
export const STATE_JSON = 'train-state.json';
export const STATE_FORMAT_VERSION = 1;

export interface TrainStateFile<Meta> {
  format_version: number;
  checkpoint_id: string;
  saved_at: string;
  run: RunStateJson;
  /** what the caller needs to rebuild the run (config, data path, totals, wall time, ...) */
  meta: Meta;
}

const P = { param: 'param.', optim: 'optim.', carry: 'carry.' } as const;

function f32(t: NamedArrays[string]): StoredTensor {
  return { dtype: 'F32', shape: t.shape, data: t.data };
}

/** Writes train-state.safetensors then train-state.json, each atomically. `arrays.ema` is not written here. */
export async function writeTrainState<Meta>(
  dir: string,
  state: TrainStateFile<Meta>,
  arrays: RunStateArrays,
): Promise<void> {
  const tensors: Record<string, StoredTensor> = {};
  for (const [k, t] of Object.entries(arrays.params)) tensors[P.param + k] = f32(t);
  for (const [k, t] of Object.entries(arrays.optimizer)) tensors[P.optim + k] = f32(t);
  if (arrays.carry) {
    const { zH, zL, data } = arrays.carry;
    tensors[`${P.carry}z_H`] = f32(zH);
    tensors[`${P.carry}z_L`] = f32(zL);
    tensors[`${P.carry}inputs`] = { dtype: 'I32', shape: [data.size, data.seqLen], data: data.inputs };
    tensors[`${P.carry}labels`] = { dtype: 'I32', shape: [data.size, data.seqLen], data: data.labels };
    tensors[`${P.carry}puzzle_identifiers`] = { dtype: 'I32', shape: [data.size], data: data.puzzleIds };
  }
  await writeSafetensors(join(dir, STATE_FILE), tensors, {
    metadata: { 'trm.checkpoint_id': state.checkpoint_id, 'trm.step': String(state.run.step) },
  });
  await writeFileAtomic(join(dir, STATE_JSON), `${JSON.stringify(state, null, 2)}\n`);
}

/** Whether `dir` holds a saved run (in place, or committed and not yet moved into place by a killed process). */
export function hasTrainState(dir: string): boolean {
  return (existsSync(join(dir, STATE_JSON)) && existsSync(join(dir, STATE_FILE))) || hasPendingSave(dir);
}

/** Reads both files and checks they come from the same save. `ema` is left null (it lives in the weights). */
export async function readTrainState<Meta>(
  dir: string,
): Promise<{ state: TrainStateFile<Meta>; arrays: RunStateArrays }> {
  const jsonPath = join(dir, STATE_JSON);
  if (!existsSync(jsonPath) || !existsSync(join(dir, STATE_FILE)))
    throw new Error(`cannot resume from ${dir}: ${STATE_JSON} or ${STATE_FILE} is missing`);
  const text = await readFile(jsonPath, 'utf8');
  let state: TrainStateFile<Meta>;
  try {
    state = JSON.parse(text) as TrainStateFile<Meta>;
  } catch (err) {
    throw new Error(
      `${jsonPath} is not valid JSON (${(err as Error).message}): the file is damaged or cut short; expected the training state that train writes with each checkpoint`,
    );
  }
  if (state?.format_version !== STATE_FORMAT_VERSION)
    throw new Error(`${jsonPath}: format_version is ${state?.format_version}, expected ${STATE_FORMAT_VERSION}`);
  const file = await readSafetensors(join(dir, STATE_FILE));
  const id = file.metadata?.['trm.checkpoint_id'];
  if (id !== state.checkpoint_id)
    throw new Error(
      `${dir}: ${STATE_FILE} (save ${id ?? 'unknown'}) and ${STATE_JSON} (save ${state.checkpoint_id}) come from different saves; the files of a save must be kept (and copied) together`,
    );
  const arrays: RunStateArrays = { params: {}, ema: null, optimizer: {}, carry: null };
  const carry: Record<string, StoredTensor> = {};
  for (const [name, t] of file.tensors) {
    if (name.startsWith(P.param)) arrays.params[name.slice(P.param.length)] = { shape: t.shape, data: toFloat32(t) };
    else if (name.startsWith(P.optim))
      arrays.optimizer[name.slice(P.optim.length)] = { shape: t.shape, data: toFloat32(t) };
    else if (name.startsWith(P.carry)) carry[name.slice(P.carry.length)] = t;
    else throw new Error(`${join(dir, STATE_FILE)}: unexpected tensor ${name}`);
  }
  if (carry.z_H && carry.z_L && carry.inputs && carry.labels && carry.puzzle_identifiers) {
    const [size, seqLen] = carry.inputs.shape as [number, number];
    arrays.carry = {
      zH: { shape: carry.z_H.shape, data: toFloat32(carry.z_H) },
      zL: { shape: carry.z_L.shape, data: toFloat32(carry.z_L) },
      data: {
        size,
        seqLen,
        inputs: carry.inputs.data as Int32Array,
        labels: carry.labels.data as Int32Array,
        puzzleIds: carry.puzzle_identifiers.data as Int32Array,
      },
    };
  }
  return { state, arrays };
}
