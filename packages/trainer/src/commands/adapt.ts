// `adapt`: test-time adaptation for new puzzles (the reference's freeze_weights path). The weights stay frozen;
// puzzle identifiers of --data that the model has not seen (matched by name through identifiers.json) get new
// rows of the puzzle table, initialised to the mean of the old rows, and only those rows learn, by sparse sign-SGD
// on the persistent ACT carry, from the data's train split (for ARC: the new tasks' demonstration pairs). Writes a
// new model folder with the grown table and the extended identifiers.json.
import { existsSync } from 'node:fs';
import {
  type FlagValues,
  type ModelConfig,
  type ModelFolderContents,
  type NamedArray,
  Progress,
  type TrainConfig,
  validateModelConfig,
} from '@trm/core';
import { extendTable, planTable, type TablePlan } from '../adapt/new-identifiers.js';
import { selectBackend } from '../backend/backend.js';
import { isWasmTrap, wasmHeapError } from '../backend/wasm-heap.js';
import { modelCard } from '../checkpoint/model-card.js';
import { readModelFolder, writeModelFolder } from '@trm/core';
import { configForData, datasetIdentifiers, hasSplit, type OpenedSplit, openSplit } from '../data/dataset-folder.js';
import type { SplitSource } from '../data/split.js';
import { puzzleSubset } from '../data/puzzle-subset.js';
import type { EvalResult } from '../evaluate/evaluate.js';
import { chooseEngine, TRAIN_BACKEND_NAMES, type TrainBackendName } from '../ort/ort-backend.js';
import { OrtTrainingRun } from '../ort/ort-training-run.js';
import { type CliSpec, cardCommand, cardPath, FlagError, parseFlags, pathFlagNames, requiredPath } from '@trm/core';
import { PUZZLE_TABLE_NAME } from '../model/model.js';
import type { TrainRecord } from '../metrics/records.js';
import { MetricWindow } from '../run/metrics-log.js';
import { yieldToEventLoop } from '../run/yield.js';
import { type RunOptions, type TrainLoop, TrainingRun } from '../run/training-run.js';
import { type CommandIo, machineDescription } from '@trm/core';

export const adaptSpec: CliSpec = {
  usage: 'pnpm --filter @trm/trainer adapt',
  summary:
    'Fits puzzle-embedding rows for the puzzle identifiers of --data that the model has not seen (test-time training\n' +
    'for new ARC tasks). The weights stay frozen; only the new rows learn (sign-SGD, as the reference with\n' +
    'freeze_weights). Writes a new model folder to --out.',
  flags: [
    { name: 'model', kind: 'path', value: '<dir>', help: 'model folder with identifiers.json' },
    { name: 'data', kind: 'path', value: '<dir>', help: 'dataset folder whose identifiers.json names the new puzzles' },
    { name: 'out', kind: 'path', value: '<dir>', help: 'new model folder (default: <model>-adapted)' },
    { name: 'steps', kind: 'int', min: 1, value: '<n>', default: 500, help: 'optimiser steps' },
    { name: 'batch', kind: 'int', min: 1, value: '<n>', help: "batch size (default: the model's)" },
    {
      name: 'lr',
      kind: 'number',
      min: 0,
      exclusiveMin: true,
      value: '<x>',
      default: 1e-2,
      help: 'puzzle-embedding learning rate',
    },
    { name: 'weight-decay', kind: 'number', min: 0, value: '<x>', default: 0.1, help: 'puzzle-embedding weight decay' },
    { name: 'warmup', kind: 'int', min: 0, value: '<n>', default: 50, help: 'learning-rate warm-up steps' },
    { name: 'seed', kind: 'int', min: 0, value: '<n>', default: 0, help: 'seed of the data order and exploration' },
    {
      name: 'backend',
      kind: 'enum',
      choices: TRAIN_BACKEND_NAMES,
      default: 'auto',
      help: 'ort-cuda / ort-webgpu / ort-cpu: the training graph on ONNX Runtime; cpu / wasm / webgpu / tensorflow: TensorFlow.js; auto: ort-cuda when its provider is installed, else the fastest tfjs backend',
    },
    {
      name: 'eval-examples',
      kind: 'int',
      min: 0,
      value: '<n>',
      default: 1000,
      help: 'test examples evaluated afterwards, 0 = all',
    },
    { name: 'quiet', kind: 'bool', help: 'no progress output' },
  ],
  examples: [
    'pnpm --filter @trm/core generate --task arc-simple --count 14 --sizes 3..6 --seed 2 --out data/simple-new',
    'pnpm --filter @trm/core build-dataset --task arc --input data/simple-new --out data/simple-new-aug-7 --augment 7 --canvas 8',
    'pnpm --filter @trm/trainer adapt --model models/arc-simple-mini --data data/simple-new-aug-7 --out runs/arc-simple-new --steps 200 --batch 32 --lr 0.05 --backend ort-cpu',
  ],
};

export interface AdaptResult {
  out: string;
  newIdentifiers: number;
  steps: number;
  seconds: number;
  lastTrain: TrainRecord | null;
  eval: EvalResult | null;
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

/** A model that can be adapted: a puzzle table, and identifiers.json to tell its puzzles from new ones. */
interface AdaptableModel {
  folder: ModelFolderContents;
  table: NamedArray;
  identifiers: string[];
  /** the names of the data's puzzle identifiers */
  dataNames: string[];
}

async function adaptableModel(modelDir: string, dataDir: string): Promise<AdaptableModel> {
  const folder = await readModelFolder(modelDir);
  const table = folder.weights[PUZZLE_TABLE_NAME];
  if (!table)
    throw new FlagError(
      `--model ${modelDir} has no puzzle embedding (puzzle_emb_ndim is 0): nothing to adapt`,
      '--model',
    );
  if (!folder.identifiers)
    throw new FlagError(
      `--model ${modelDir} has no identifiers.json, so the puzzles it knows cannot be told from new ones`,
      '--model',
    );
  const dataNames = datasetIdentifiers(dataDir);
  if (!dataNames) throw new FlagError(`--data ${dataDir} has no identifiers.json naming its puzzles`, '--data');
  return { folder, table, identifiers: folder.identifiers, dataNames };
}

/** What the adaptation trains: the grown table's plan, the model and training configs, the new puzzles' examples. */
interface AdaptSetup {
  plan: TablePlan;
  /** the rows that learn */
  fresh: Set<number>;
  /** rows and width of the model's table */
  rows: number;
  dim: number;
  batch: number;
  steps: number;
  config: ModelConfig;
  trainConfig: TrainConfig;
  data: SplitSource;
}

/** Only the puzzle-table rows learn: no dense learning rate or decay, sign-SGD on the rows with --lr. */
function adaptTrainConfig(f: FlagValues, batch: number): TrainConfig {
  return {
    global_batch_size: batch,
    epochs: 1,
    eval_interval: 1,
    optimizer: 'adam_atan2',
    lr: 0,
    lr_min_ratio: 1,
    lr_warmup_steps: f.warmup as number,
    beta1: 0.9,
    beta2: 0.95,
    weight_decay: 0,
    puzzle_emb_lr: f.lr as number,
    puzzle_emb_weight_decay: f['weight-decay'] as number,
    ema: false,
    ema_rate: 0.999,
    seed: f.seed as number,
  };
}

function adaptSetup(
  f: FlagValues,
  m: AdaptableModel,
  train: OpenedSplit,
  modelDir: string,
  dataDir: string,
): AdaptSetup {
  configForData(m.folder.config, train.metadata, dataDir);
  const plan = planTable(m.identifiers, m.dataNames, train.metadata.num_puzzle_identifiers);
  if (plan.newRows.length === 0)
    throw new FlagError(`--data ${dataDir} names no puzzle that ${modelDir} does not know: nothing to adapt`, '--data');
  const fresh = new Set(plan.newRows);
  const [rows, dim] = m.table.shape as [number, number];
  const batch = (f.batch as number | undefined) ?? m.folder.config.batch_size;
  const config = validateModelConfig({
    ...m.folder.config,
    num_puzzle_identifiers: plan.names.length,
    batch_size: batch,
  });
  const data = puzzleSubset(train.source, (p) => fresh.has(plan.idMap[train.source.puzzleIdentifiers[p]!]!));
  const trainConfig = adaptTrainConfig(f, batch);
  return { plan, fresh, rows, dim, batch, steps: f.steps as number, config, trainConfig, data };
}

/** The training run on the chosen engine, starting from the model's weights with the table grown by the new rows. */
async function startAdaptRun(
  name: TrainBackendName,
  m: AdaptableModel,
  s: AdaptSetup,
  log: (line: string) => void,
): Promise<{ run: TrainLoop; backend: string }> {
  const engine = chooseEngine(name, log);
  let backend: string;
  if (engine.kind === 'ort') {
    await selectBackend('cpu', () => {});
    backend = `ort-${engine.provider}`;
  } else backend = (await selectBackend(engine.backend, log)).backend;
  const runOptions: RunOptions = {
    model: s.config,
    train: s.trainConfig,
    totalSteps: s.steps,
    data: s.data,
    weights: {
      ...m.folder.weights,
      [PUZZLE_TABLE_NAME]: {
        shape: [s.plan.names.length, s.dim],
        data: extendTable(m.table.data, s.rows, s.dim, s.plan.newRows.length),
      },
    },
    freeze: { trainableIds: s.fresh },
    idMap: s.plan.idMap,
  };
  const run: TrainLoop =
    engine.kind === 'ort'
      ? await OrtTrainingRun.create({ ...runOptions, provider: engine.provider })
      : new TrainingRun(runOptions);
  return { run, backend };
}

/** The training loop, until --steps or Ctrl-C; returns the last logged metrics and the time it took. */
async function fitNewRows(
  run: TrainLoop,
  steps: number,
  io: CommandIo,
  quiet: boolean,
): Promise<{ lastTrain: TrainRecord | null; seconds: number }> {
  const progress = new Progress('adapt', steps, { unit: 'steps', silent: quiet });
  const window = new MetricWindow();
  const t0 = performance.now();
  let lastTrain: TrainRecord | null = null;
  while (run.step < steps && !io.signal?.aborted) {
    const r = await run.trainStep();
    await yieldToEventLoop(); // so that Ctrl-C is seen between steps
    window.add(r);
    if (window.size >= 10 || r.step === steps)
      lastTrain = window.flush(run.epochs, (performance.now() - t0) / 1000) ?? lastTrain;
    progress.tick(
      1,
      lastTrain ? { loss: lastTrain.lm_loss, acc: lastTrain.accuracy, halt: lastTrain.halt_rate } : undefined,
    );
  }
  progress.finish();
  return { lastTrain, seconds: (performance.now() - t0) / 1000 };
}

/** The adapted model on the data's test split (its ids mapped to the grown table), at most --eval-examples. */
function evaluateAdapted(
  run: TrainLoop,
  test: OpenedSplit,
  f: FlagValues,
  m: AdaptableModel,
  batch: number,
): Promise<EvalResult> {
  const limit = f['eval-examples'] as number;
  return run.evaluate(test.source, {
    batchSize: batch,
    limit: limit > 0 ? limit : undefined,
    idMap: planTable(m.identifiers, m.dataNames, test.metadata.num_puzzle_identifiers).idMap,
  });
}

interface AdaptOutcome {
  lastTrain: TrainRecord | null;
  seconds: number;
  steps: number;
  ev: EvalResult | null;
  backend: string;
}

/** The model folder of the adapted model: the old weights with the fitted table, identifiers and a model card. */
async function writeAdaptedFolder(
  run: TrainLoop,
  m: AdaptableModel,
  s: AdaptSetup,
  o: AdaptOutcome,
  paths: { modelDir: string; dataDir: string; out: string },
  argv: readonly string[],
): Promise<void> {
  const { plan, rows, config, trainConfig } = s;
  const weights = {
    ...m.folder.weights,
    [PUZZLE_TABLE_NAME]: (await run.folderWeights())[PUZZLE_TABLE_NAME]!,
  };
  const card = modelCard({
    title: `TRM ${config.task}, adapted to ${plan.newRows.length} new puzzle identifiers`,
    preset: null,
    model: config,
    train: trainConfig,
    data: cardPath(paths.dataDir),
    steps: o.steps,
    totalSteps: s.steps,
    wallSeconds: o.seconds,
    backend: o.backend,
    machine: machineDescription(),
    command: cardCommand(adaptSpec.usage, argv, pathFlagNames(adaptSpec)),
    trainMetrics: o.lastTrain,
    evals: o.ev ? [{ split: 'test', ...o.ev }] : [],
    notes: [
      `Adapted from \`${cardPath(paths.modelDir)}\`: its weights are unchanged; ${plan.newRows.length} puzzle-table rows (${rows}..${plan.names.length - 1}) were added for the identifiers of \`${cardPath(paths.dataDir)}\` it had not seen, started at the mean of its ${rows} rows and fitted by sign-SGD (lr ${trainConfig.puzzle_emb_lr}, weight decay ${trainConfig.puzzle_emb_weight_decay}) while every other row stayed fixed.`,
    ],
  });
  await writeModelFolder(paths.out, { config, weights, identifiers: plan.names, card });
}

export async function adaptCommand(argv: readonly string[], io: CommandIo): Promise<AdaptResult | null> {
  const { values: f, help } = parseFlags(argv, adaptSpec);
  if (help) return null;
  const modelDir = requiredPath(f, 'model', { exists: true });
  const dataDir = requiredPath(f, 'data');
  if (!hasSplit(dataDir, 'train'))
    throw new FlagError(`--data ${dataDir} has no train split (train/dataset.json)`, '--data');
  const out = (f.out as string | undefined) ?? `${modelDir.replace(/\/+$/, '')}-adapted`;
  if (existsSync(out) && out === modelDir) throw new FlagError('--out must differ from --model', '--out');

  const quiet = io.quiet || (f.quiet as boolean);
  const m = await adaptableModel(modelDir, dataDir);
  const train = openSplit(dataDir, 'train');
  const test = hasSplit(dataDir, 'test') ? openSplit(dataDir, 'test') : null;
  try {
    const s = adaptSetup(f, m, train, modelDir, dataDir);
    const added = s.plan.newRows.length;
    if (!quiet)
      io.err(
        `adapting ${added} new puzzle identifier(s) (${s.data.numExamples} training examples in ${s.data.groupIndices.length - 1} groups) for ${s.steps} steps; ${s.rows} known rows stay as they are`,
      );
    const { run, backend } = await startAdaptRun(f.backend as TrainBackendName, m, s, quiet ? () => {} : io.err);
    let trapped = false;
    try {
      const { lastTrain, seconds } = await fitNewRows(run, s.steps, io, quiet);
      const ev = test ? await evaluateAdapted(run, test, f, m, s.batch) : null;
      const outcome: AdaptOutcome = { lastTrain, seconds, steps: run.step, ev, backend };
      await writeAdaptedFolder(run, m, s, outcome, { modelDir, dataDir, out }, argv);
      io.out(
        `adapted ${added} new puzzle identifier(s) in ${run.step} steps (${seconds.toFixed(1)} s)` +
          (ev
            ? `, test exact ${pct(ev.exact_accuracy)} at ${s.config.halt_max_steps} steps / ${pct(ev.exact_accuracy_halted)} with halting (${ev.examples} examples)`
            : '') +
          `; model folder written to ${out}`,
      );
      return { out, newIdentifiers: added, steps: run.step, seconds, lastTrain, eval: ev };
    } catch (err) {
      if (backend !== 'wasm' || !isWasmTrap(err)) throw err;
      trapped = true;
      throw wasmHeapError(err, s.batch);
    } finally {
      // after a trap the wasm backend is unusable: disposing would only trap again
      if (!trapped) await run.dispose();
    }
  } finally {
    train.close();
    test?.close();
  }
}
