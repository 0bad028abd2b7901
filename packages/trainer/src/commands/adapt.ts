// `adapt`: test-time adaptation for new puzzles (the reference's freeze_weights path). The weights stay frozen;
// puzzle identifiers of --data that the model has not seen (matched by name through identifiers.json) get new
// rows of the puzzle table, initialised to the mean of the old rows, and only those rows learn, by sparse sign-SGD
// on the persistent ACT carry, from the data's train split (for ARC: the new tasks' demonstration pairs). Writes a
// new model folder with the grown table and the extended identifiers.json.
import { existsSync } from 'node:fs';
import { Progress, type TrainConfig, validateModelConfig } from '@trm/core';
import { extendTable, planTable } from '../adapt/new-identifiers.js';
import { selectBackend } from '../backend/backend.js';
import { isWasmTrap, wasmHeapError } from '../backend/wasm-heap.js';
import { modelCard } from '../checkpoint/model-card.js';
import { readModelFolder, writeModelFolder } from '@trm/core';
import { configForData, datasetIdentifiers, hasSplit, openSplit } from '../data/dataset-folder.js';
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

  const train = openSplit(dataDir, 'train');
  const test = hasSplit(dataDir, 'test') ? openSplit(dataDir, 'test') : null;
  try {
    configForData(folder.config, train.metadata, dataDir);
    const plan = planTable(folder.identifiers, dataNames, train.metadata.num_puzzle_identifiers);
    if (plan.newRows.length === 0)
      throw new FlagError(
        `--data ${dataDir} names no puzzle that ${modelDir} does not know: nothing to adapt`,
        '--data',
      );
    const fresh = new Set(plan.newRows);
    const [rows, dim] = table.shape as [number, number];
    const batch = (f.batch as number | undefined) ?? folder.config.batch_size;
    const config = validateModelConfig({
      ...folder.config,
      num_puzzle_identifiers: plan.names.length,
      batch_size: batch,
    });
    const trainConfig: TrainConfig = {
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
    const data = puzzleSubset(train.source, (p) => fresh.has(plan.idMap[train.source.puzzleIdentifiers[p]!]!));
    const steps = f.steps as number;
    if (!quiet)
      io.err(
        `adapting ${plan.newRows.length} new puzzle identifier(s) (${data.numExamples} training examples in ${data.groupIndices.length - 1} groups) for ${steps} steps; ${rows} known rows stay as they are`,
      );
    const log = quiet ? () => {} : io.err;
    const engine = chooseEngine(f.backend as TrainBackendName, log);
    let backend: string;
    if (engine.kind === 'ort') {
      await selectBackend('cpu', () => {});
      backend = `ort-${engine.provider}`;
    } else backend = (await selectBackend(engine.backend, log)).backend;
    const runOptions: RunOptions = {
      model: config,
      train: trainConfig,
      totalSteps: steps,
      data,
      weights: {
        ...folder.weights,
        [PUZZLE_TABLE_NAME]: {
          shape: [plan.names.length, dim],
          data: extendTable(table.data, rows, dim, plan.newRows.length),
        },
      },
      freeze: { trainableIds: fresh },
      idMap: plan.idMap,
    };
    const run: TrainLoop =
      engine.kind === 'ort'
        ? await OrtTrainingRun.create({ ...runOptions, provider: engine.provider })
        : new TrainingRun(runOptions);
    let trapped = false;
    try {
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
      const seconds = (performance.now() - t0) / 1000;
      let ev: EvalResult | null = null;
      if (test) {
        const limit = f['eval-examples'] as number;
        ev = await run.evaluate(test.source, {
          batchSize: batch,
          limit: limit > 0 ? limit : undefined,
          idMap: planTable(folder.identifiers, dataNames, test.metadata.num_puzzle_identifiers).idMap,
        });
      }
      const weights = {
        ...folder.weights,
        [PUZZLE_TABLE_NAME]: (await run.folderWeights())[PUZZLE_TABLE_NAME]!,
      };
      const card = modelCard({
        title: `TRM ${config.task}, adapted to ${plan.newRows.length} new puzzle identifiers`,
        preset: null,
        model: config,
        train: trainConfig,
        data: cardPath(dataDir),
        steps: run.step,
        totalSteps: steps,
        wallSeconds: seconds,
        backend,
        machine: machineDescription(),
        command: cardCommand(adaptSpec.usage, argv, pathFlagNames(adaptSpec)),
        trainMetrics: lastTrain,
        evals: ev ? [{ split: 'test', ...ev }] : [],
        notes: [
          `Adapted from \`${cardPath(modelDir)}\`: its weights are unchanged; ${plan.newRows.length} puzzle-table rows (${rows}..${plan.names.length - 1}) were added for the identifiers of \`${cardPath(dataDir)}\` it had not seen, started at the mean of its ${rows} rows and fitted by sign-SGD (lr ${trainConfig.puzzle_emb_lr}, weight decay ${trainConfig.puzzle_emb_weight_decay}) while every other row stayed fixed.`,
        ],
      });
      await writeModelFolder(out, { config, weights, identifiers: plan.names, card });
      io.out(
        `adapted ${plan.newRows.length} new puzzle identifier(s) in ${run.step} steps (${seconds.toFixed(1)} s)` +
          (ev
            ? `, test exact ${pct(ev.exact_accuracy)} at ${config.halt_max_steps} steps / ${pct(ev.exact_accuracy_halted)} with halting (${ev.examples} examples)`
            : '') +
          `; model folder written to ${out}`,
      );
      return { out, newIdentifiers: plan.newRows.length, steps: run.step, seconds, lastTrain, eval: ev };
    } catch (err) {
      if (backend !== 'wasm' || !isWasmTrap(err)) throw err;
      trapped = true;
      throw wasmHeapError(err, batch);
    } finally {
      // after a trap the wasm backend is unusable: disposing would only trap again
      if (!trapped) await run.dispose();
    }
  } finally {
    train.close();
    test?.close();
  }
}
