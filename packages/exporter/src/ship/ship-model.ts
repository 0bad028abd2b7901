// The shipped form of an ARC model folder: small enough for git. The puzzle table (a row per trained task and
// augmentation) is cut to one row, the mean of the trained rows, which is where `adapt` starts the rows of new
// tasks; the weights are stored float16 by default; model.onnx is exported from exactly the weights written, and
// ONNX Runtime must load it and run a step. The folder is filled under a temporary name beside --out and renamed
// into place when complete, so an interrupted or failed run leaves nothing under the target's name.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import {
  cardPath,
  BLANK_IDENTIFIER,
  CARD_FILE,
  CONFIG_FILE,
  f16ToF32,
  f32ToF16,
  FlagError,
  IDENTIFIERS_FILE,
  type ModelConfig,
  type ModelFolderContents,
  type NamedArrays,
  readModelFolder,
  temporaryPathFor,
  validateModelConfig,
  WEIGHTS_FILE,
  type WeightsDtype,
  writeFileAtomic,
  writeWeights,
} from '@trm/core';
import { exportModelFolder, onnxFileName } from '../export/export-model.js';
import { checkStepGraph } from '../runtime/ort-step.js';
import { type OneRowTable, oneRowTable } from './one-row-table.js';
import { appendShippedSection } from './ship-card.js';

/** The puzzle table's name in the model folder (the reference's, as in checkpointTensors). */
export const PUZZLE_TABLE = 'puzzle_emb.weights';
export const SHIP_DTYPES: readonly WeightsDtype[] = ['float16', 'float32'];
/** The largest finite float16. */
const F16_MAX = 65504;

export interface ShipOptions {
  /** storage type of weights.safetensors (default float16; H_init/L_init stay bfloat16 either way) */
  dtype?: WeightsDtype;
  /** replace a non-empty `out` */
  force?: boolean;
  /** how the source folder is named in the model card (default: cardPath, never this machine's absolute path) */
  sourceLabel?: string;
  /** progress of the graph build, in net applications */
  onProgress?: (done: number, total: number) => void;
  /** stops between stages; nothing is written then */
  signal?: AbortSignal;
}

export interface ShippedFile {
  name: string;
  bytes: number;
}

export interface ShipSummary {
  out: string;
  config: ModelConfig;
  dtype: WeightsDtype;
  table: OneRowTable;
  /** rows of the source table that the shipped one does not keep */
  rowsCut: number;
  /** the files of the shipped folder, in the order of the card */
  files: ShippedFile[];
  /** size of the source's weights.safetensors */
  sourceWeightsBytes: number;
  /** ms of one step at batch 1 on ORT CPU (the load check) */
  checkStepMs: number;
  seconds: number;
}

/** Refuses an `out` that is the model itself, a file, or a folder with files (unless `force`). */
function checkOut(model: string, out: string, force: boolean): void {
  if (resolve(out) === resolve(model)) throw new FlagError('--out must differ from --model', '--out');
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) throw new FlagError(`--out ${out} is a file; expected a folder`, '--out');
  const held = readdirSync(out);
  if (held.length > 0 && !force)
    throw new FlagError(
      `--out ${out} already holds files (${held.slice(0, 4).join(', ')}${held.length > 4 ? ', ...' : ''}); ` +
        'give --force to replace it',
      '--out',
    );
}

/** Float16 turns values beyond its range into Inf; such a model must ship as float32. */
function checkFloat16Range(config: ModelConfig, weights: NamedArrays): void {
  for (const [name, w] of Object.entries(weights)) {
    if (name === 'H_init' || name === 'L_init') continue; // stored bf16, the range of float32
    for (let i = 0; i < w.data.length; i++)
      if (Math.abs(w.data[i]!) > F16_MAX)
        throw new FlagError(
          `${name}[${i}] of the ${config.task} model is ${w.data[i]}, beyond float16's range (+-${F16_MAX}); ` +
            'ship it with --dtype float32',
          '--dtype',
        );
  }
}

function throwIfStopped(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new Error('stopped before the shipped folder was complete; nothing was written');
}

/** The source folder, with its table cut to one row; refused when it has no table or no identifiers. */
async function cutSource(model: string): Promise<{ source: ModelFolderContents; cut: OneRowTable }> {
  const source = await readModelFolder(model);
  const table = source.weights[PUZZLE_TABLE];
  if (source.config.puzzle_emb_ndim === 0 || !table)
    throw new FlagError(
      `--model ${model} has no puzzle table (puzzle_emb_ndim is 0): there are no rows to cut; ship it as it is`,
      '--model',
    );
  if (!source.identifiers)
    throw new FlagError(
      `--model ${model} has no ${IDENTIFIERS_FILE}, so the blank row cannot be told from the trained ones`,
      '--model',
    );
  try {
    return { source, cut: oneRowTable(table, source.identifiers) };
  } catch (err) {
    throw new FlagError(`--model ${model}: ${(err as Error).message}`, '--model');
  }
}

/**
 * Writes the weights, identifiers.json and config.json to `dir`, exports model.onnx from them (so that it holds the
 * stored, rounded weights) and has ONNX Runtime run a step of it; returns that step's milliseconds.
 */
async function writeShippedModel(
  dir: string,
  config: ModelConfig,
  weights: NamedArrays,
  metadata: Record<string, string>,
  cut: OneRowTable,
  dtype: WeightsDtype,
  options: ShipOptions,
): Promise<number> {
  await writeWeights(
    join(dir, WEIGHTS_FILE),
    config,
    weights,
    {
      ...metadata,
      'trm.shipped_from_rows': String(cut.rows),
      'trm.shipped_row': `mean of rows ${cut.first}..${cut.last}`,
    },
    dtype,
  );
  await writeFileAtomic(join(dir, IDENTIFIERS_FILE), `${JSON.stringify([BLANK_IDENTIFIER])}\n`);
  await writeFileAtomic(join(dir, CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`);
  throwIfStopped(options.signal);
  const onnx = join(dir, onnxFileName('fp32'));
  await exportModelFolder(dir, {
    out: onnx,
    onProgress: (stage, done, total) => {
      if (stage === 'build') options.onProgress?.(done, total);
    },
  });
  throwIfStopped(options.signal);
  const storedRow = dtype === 'float16' ? f16ToF32(f32ToF16(cut.row)) : cut.row;
  return checkStepGraph(onnx, config, storedRow);
}

/** Moves `temp` to `out`: the old folder (empty, or replaced by --force) moves aside, the new one takes its name. */
async function replaceFolder(temp: string, out: string): Promise<void> {
  const old = existsSync(out) ? temporaryPathFor(resolve(out)) : null;
  if (old) await rename(out, old);
  try {
    await rename(temp, out);
  } catch (err) {
    if (old) await rename(old, out);
    throw err;
  }
  if (old) await rm(old, { recursive: true, force: true });
}

/** Writes the shipped form of the model folder `model` to the folder `out`. */
export async function shipModelFolder(model: string, out: string, options: ShipOptions = {}): Promise<ShipSummary> {
  const t0 = performance.now();
  const dtype = options.dtype ?? 'float16';
  checkOut(model, out, options.force ?? false);
  const { source, cut } = await cutSource(model);
  const config = validateModelConfig({ ...source.config, num_puzzle_identifiers: 1 });
  const weights: NamedArrays = { ...source.weights, [PUZZLE_TABLE]: { shape: [1, cut.row.length], data: cut.row } };
  if (dtype === 'float16') checkFloat16Range(config, weights);
  const sourceCard = existsSync(join(model, CARD_FILE)) ? await readFile(join(model, CARD_FILE), 'utf8') : null;
  throwIfStopped(options.signal);

  await mkdir(dirname(resolve(out)), { recursive: true });
  const temp = temporaryPathFor(resolve(out));
  await mkdir(temp);
  try {
    const checkStepMs = await writeShippedModel(temp, config, weights, source.metadata, cut, dtype, options);
    throwIfStopped(options.signal);

    const files: ShippedFile[] = [];
    for (const name of [WEIGHTS_FILE, onnxFileName('fp32'), CONFIG_FILE, IDENTIFIERS_FILE])
      files.push({ name, bytes: (await stat(join(temp, name))).size });
    const sourceWeightsBytes = (await stat(join(model, WEIGHTS_FILE))).size;
    const card = appendShippedSection(sourceCard, {
      source: options.sourceLabel ?? cardPath(model),
      task: config.task,
      table: cut,
      dtype,
      files,
      sourceWeightsBytes,
    });
    await writeFileAtomic(join(temp, CARD_FILE), card);
    files.push({ name: CARD_FILE, bytes: Buffer.byteLength(card) });
    throwIfStopped(options.signal);

    // Only now is anything under `out` touched.
    await replaceFolder(temp, out);
    return {
      out,
      config,
      dtype,
      table: cut,
      rowsCut: cut.rows - 1,
      files,
      sourceWeightsBytes,
      checkStepMs,
      seconds: (performance.now() - t0) / 1000,
    };
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    throw err;
  }
}
