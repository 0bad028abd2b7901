// `train`: trains a preset on a dataset folder (or, for sudoku without --data, on easy sudoku generated in memory)
// and writes a model folder with its training state to --out; --resume continues a saved run exactly.
import { existsSync } from 'node:fs';
import {
  getPreset,
  type ModelConfig,
  type NamedArrays,
  PRESET_NAMES,
  readModelFolder,
  Rng,
  type TrainConfig,
  validateModelConfig,
} from '@trm/core';
import { availableParallelism } from 'node:os';
import { selectBackend } from '../backend/backend.js';
import { chooseEngine, TRAIN_BACKEND_NAMES, type TrainBackendName } from '../ort/ort-backend.js';
import { OrtTrainingRun } from '../ort/ort-training-run.js';
import { OPTIMIZER_PLACES, type OptimizerPlace } from '../ort/optimizer-update.js';
import { parseGraphOps, TRAIN_PRECISIONS, type TrainPrecision } from '@trm/graph';
import type { RunOptions, TrainLoop } from '../run/training-run.js';
import { hasTrainState } from '../checkpoint/train-state.js';
import { configForData, datasetIdentifiers, hasSplit, openSplit } from '../data/dataset-folder.js';
import { easySudoku, sudokuSplit } from '../data/easy-sudoku.js';
import { fromMemory, type SplitSource } from '../data/split.js';
import {
  type CliSpec,
  cardCommand,
  FlagError,
  type FlagValues,
  parseFlags,
  pathFlagNames,
  resolveUserPath,
} from '@trm/core';
import { type GeneratedData, loadCheckpoint, type ResumePoint, type RunMeta } from '../run/checkpointing.js';
import { runSession, type SessionSummary } from '../run/session.js';
import { type CommandIo, machineDescription } from '@trm/core';

const DEFAULT_PRESET = 'sudoku-tiny-mlp';
/** Easy sudoku generated when a sudoku preset has no --data. */
const GENERATED = { train: 2000, test: 256, blanks: [3, 6] as [number, number] };

export const trainSpec: CliSpec = {
  usage: 'pnpm --filter @trm/trainer train',
  summary:
    'Trains a Tiny Recursive Model with deep supervision on the persistent ACT carry and writes a model folder\n' +
    '(config.json, weights.safetensors with the EMA weights, README.md) plus train-state.* , metrics.jsonl and\n' +
    'curves.svg to --out. Without --data a sudoku preset trains on easy sudoku generated in memory.',
  flags: [
    {
      name: 'preset',
      kind: 'enum',
      choices: PRESET_NAMES,
      help: `model and optimiser preset (default: ${DEFAULT_PRESET})`,
    },
    {
      name: 'data',
      kind: 'path',
      value: '<dir>',
      help: 'dataset folder (train/ and optionally test/, as build-dataset writes)',
    },
    { name: 'out', kind: 'path', value: '<dir>', help: 'output folder (default: runs/<preset>)' },
    {
      name: 'generate',
      kind: 'int',
      min: 1,
      value: '<n>',
      default: GENERATED.train,
      help: `without --data: easy sudoku puzzles generated for training (plus ${GENERATED.test} for testing)`,
    },
    { name: 'steps', kind: 'int', min: 1, value: '<n>', help: 'optimiser steps (default: epochs x examples / batch)' },
    { name: 'batch', kind: 'int', min: 1, value: '<n>', help: "batch size (default: the preset's)" },
    {
      name: 'lr',
      kind: 'number',
      min: 0,
      exclusiveMin: true,
      value: '<x>',
      help: "learning rate (default: the preset's)",
    },
    {
      name: 'weight-decay',
      kind: 'number',
      min: 0,
      value: '<x>',
      help: "decoupled weight decay of the network's weights (default: the preset's, 1.0 for the paper sizes; the official code's short runs learn faster with 0.1 and --lr 1e-3)",
    },
    {
      name: 'puzzle-lr',
      kind: 'number',
      min: 0,
      exclusiveMin: true,
      value: '<x>',
      help: "learning rate of the puzzle-embedding rows (sign-SGD) (default: the preset's)",
    },
    {
      name: 'ema-rate',
      kind: 'number',
      min: 0,
      max: 1,
      value: '<x>',
      help: "rate of the weights' exponential moving average, saved as the model's weights; 0 = no EMA, the trained weights are saved (default: the preset's, 0.999 for the paper sizes, which lags a run of a few thousand steps)",
    },
    { name: 'optimizer', kind: 'enum', choices: ['adam_atan2', 'adamw'], help: "optimiser (default: the preset's)" },
    {
      name: 'warmup',
      kind: 'int',
      min: 0,
      value: '<n>',
      help: "steps of linear learning-rate warm-up (default: the preset's, 2000 for the paper sizes)",
    },
    {
      name: 'seed',
      kind: 'int',
      min: 0,
      value: '<n>',
      help: 'seed of the initialisation, data order and exploration (default: 0)',
    },
    {
      name: 'backend',
      kind: 'enum',
      choices: TRAIN_BACKEND_NAMES,
      default: 'auto',
      help: 'ort-cuda / ort-webgpu / ort-cpu: the generated training graph on ONNX Runtime; cpu / wasm / webgpu / tensorflow: TensorFlow.js; auto: ort-cuda when its provider is installed, else the fastest tfjs backend',
    },
    {
      name: 'gpus',
      kind: 'int',
      min: 1,
      value: '<n>',
      default: 1,
      help: 'ort-* backends: devices the batch is split over (data parallel; with ort-cpu, n CPU sessions)',
    },
    {
      name: 'micro-batch',
      kind: 'int',
      min: 1,
      value: '<n>',
      help: "ort-* backends: rows per graph run (default: all of a device's rows); a smaller value sums the gradients of several runs per step: the same step in less device memory",
    },
    {
      name: 'threads',
      kind: 'int',
      min: 1,
      value: '<n>',
      help: 'ort-cpu: threads per session (default: the cores divided by --gpus)',
    },
    {
      name: 'steps-per-run',
      kind: 'int',
      min: 1,
      value: '<k>',
      help: 'ort-* backends: optimiser steps per graph run (default: 16 on ort-cuda with one device, the whole batch per run and no --optimizer-on device, where it trained 1.9x faster than 1 on an H200; else 1); with k > 1 the carry, weights and optimiser state stay on the device for k steps (one device, the whole batch per run, the optimiser in the graph)',
    },
    {
      name: 'precision',
      kind: 'enum',
      choices: TRAIN_PRECISIONS,
      help: 'ort-* backends: arithmetic of the training graph; fp32 (TF32 matrix products on CUDA) or fp16 (float32 master weights, dynamic loss scaling) (default: fp16 on ort-cuda, where it measured 1.65x fp32 and fits the reference batch, fp32 elsewhere)',
    },
    {
      name: 'optimizer-on',
      kind: 'enum',
      choices: OPTIMIZER_PLACES,
      help: 'ort-* backends: where AdamATan2/AdamW and the EMA run: host (worker threads) or device (an update graph on the training device; the state crosses to it and back each step) (default: host)',
    },
    {
      name: 'graph-ops',
      kind: 'string',
      value: '<k=v,...>',
      help: 'ort-* backends: forms of the training graph, e.g. no-grad=differentiable,swiglu=fused,norm=stats,silu=decomposed,carry=fp16 (keys: no-grad, swiglu, mlpT, norm, silu: the same function in other kernels; carry: fp32 or fp16 (with --precision fp16, its default there), the carry crossing to the device and back; mlpTPad: none or align8 (default); steps: loop (default) or unrolled, the layout of the --steps-per-run graph; ort-train-speed measures them)',
    },
    { name: 'resume', kind: 'bool', help: 'continue the run saved in --out (same data order and RNG)' },
    {
      name: 'init',
      kind: 'path',
      value: '<dir>',
      help: 'a new run that starts from the weights (and puzzle rows) of this model folder, e.g. to go on with another batch size or backend; same model shape and dataset identifiers',
    },
    {
      name: 'eval-every',
      kind: 'int',
      min: 0,
      value: '<n>',
      help: "evaluate and save every n steps, 0 = only at the end (default: the preset's eval_interval in steps)",
    },
    {
      name: 'eval-examples',
      kind: 'int',
      min: 0,
      value: '<n>',
      help: 'test examples per evaluation, 0 = all (default: 1000)',
    },
    { name: 'log-every', kind: 'int', min: 1, value: '<n>', default: 10, help: 'steps per metrics.jsonl record' },
    { name: 'quiet', kind: 'bool', help: 'no progress output' },
  ],
  examples: [
    'pnpm --filter @trm/trainer train --preset sudoku-tiny-mlp --steps 500 --out runs/easy-sudoku',
    'pnpm --filter @trm/trainer train --preset sudoku-mlp --data data/sudoku-1k-aug-1000 --batch 64 --backend ort-cpu',
    'pnpm --filter @trm/trainer train --out runs/easy-sudoku --resume --steps 800',
  ],
};

interface Prepared {
  meta: RunMeta;
  train: SplitSource;
  test: SplitSource | null;
  identifiers: string[] | null;
  close: () => void;
}

function generatedData(g: GeneratedData): { train: SplitSource; test: SplitSource } {
  const rng = new Rng(g.seed);
  return {
    train: fromMemory(sudokuSplit(easySudoku(g.train, g.blanks, rng))),
    test: fromMemory(sudokuSplit(easySudoku(g.test, g.blanks, rng))),
  };
}

function describeGenerated(g: GeneratedData): string {
  return `easy sudoku generated in memory (${g.train} train / ${g.test} test puzzles, ${g.blanks[0]}-${g.blanks[1]} blanks, seed ${g.seed})`;
}

/** Opens the data and fills the model's data-dependent fields; `model` is the preset's or the saved one. */
function prepareData(
  dataDir: string | undefined,
  generated: GeneratedData | undefined,
  model: ModelConfig,
): Omit<Prepared, 'meta'> & {
  model: ModelConfig;
  description: string;
  shape: RunMeta['data_shape'];
  examplesPerEpoch: number;
} {
  if (dataDir) {
    if (!existsSync(dataDir)) throw new FlagError(`--data ${dataDir} does not exist`, '--data');
    if (!hasSplit(dataDir, 'train'))
      throw new FlagError(`--data ${dataDir} has no train split (train/dataset.json)`, '--data');
    const train = openSplit(dataDir, 'train');
    const test = hasSplit(dataDir, 'test') ? openSplit(dataDir, 'test') : null;
    const m = train.metadata;
    return {
      model: configForData(model, m, dataDir),
      train: train.source,
      test: test?.source ?? null,
      identifiers: datasetIdentifiers(dataDir),
      close: () => {
        train.close();
        test?.close();
      },
      description: dataDir,
      shape: { examples: train.source.numExamples, groups: train.numGroups },
      examplesPerEpoch: m.total_groups * m.mean_puzzle_examples,
    };
  }
  if (!generated)
    throw new FlagError(
      `--data is required for task "${model.task}" (only sudoku presets can train on generated puzzles)`,
      '--data',
    );
  const g = generatedData(generated);
  return {
    model,
    train: g.train,
    test: g.test,
    identifiers: null,
    close: () => {},
    description: describeGenerated(generated),
    shape: { examples: generated.train, groups: generated.train },
    examplesPerEpoch: generated.train,
  };
}

function prepareNew(f: FlagValues): Prepared {
  const preset = getPreset((f.preset as string | undefined) ?? DEFAULT_PRESET);
  const seed = (f.seed as number | undefined) ?? 0;
  const train: TrainConfig = { ...preset.train, seed };
  if (f.batch !== undefined) train.global_batch_size = f.batch as number;
  if (f.lr !== undefined) train.lr = f.lr as number;
  if (f.optimizer !== undefined) train.optimizer = f.optimizer as TrainConfig['optimizer'];
  if (f.warmup !== undefined) train.lr_warmup_steps = f.warmup as number;
  if (f['weight-decay'] !== undefined) train.weight_decay = f['weight-decay'] as number;
  if (f['puzzle-lr'] !== undefined) train.puzzle_emb_lr = f['puzzle-lr'] as number;
  if (f['ema-rate'] !== undefined) {
    const rate = f['ema-rate'] as number;
    train.ema = rate > 0;
    if (rate > 0) train.ema_rate = rate;
  }
  const generated: GeneratedData | undefined =
    f.data === undefined && preset.model.task === 'sudoku'
      ? { kind: 'easy-sudoku', ...GENERATED, train: f.generate as number, seed }
      : undefined;
  const d = prepareData(f.data as string | undefined, generated, preset.model);
  const model = validateModelConfig({ ...d.model, batch_size: train.global_batch_size });
  const perEpoch = d.examplesPerEpoch / train.global_batch_size;
  const totalSteps = (f.steps as number | undefined) ?? Math.max(1, Math.floor(train.epochs * perEpoch));
  const evalEvery = (f['eval-every'] as number | undefined) ?? Math.max(1, Math.floor(train.eval_interval * perEpoch));
  return {
    meta: {
      preset: preset.name,
      model,
      train,
      total_steps: totalSteps,
      data: d.description,
      generated,
      data_shape: d.shape,
      backend: '',
      wall_s: 0,
      eval_every: evalEvery,
      eval_examples: (f['eval-examples'] as number | undefined) ?? 1000,
    },
    train: d.train,
    test: d.test,
    identifiers: d.identifiers,
    close: d.close,
  };
}

function prepareResume(f: FlagValues, point: ResumePoint): Prepared {
  const meta = structuredClone(point.meta);
  const fixed: [string, unknown, unknown][] = [
    ['preset', f.preset, meta.preset],
    ['batch', f.batch, meta.train.global_batch_size],
    ['lr', f.lr, meta.train.lr],
    ['optimizer', f.optimizer, meta.train.optimizer],
    ['warmup', f.warmup, meta.train.lr_warmup_steps],
    ['weight-decay', f['weight-decay'], meta.train.weight_decay],
    ['puzzle-lr', f['puzzle-lr'], meta.train.puzzle_emb_lr],
    ['ema-rate', f['ema-rate'], meta.train.ema ? meta.train.ema_rate : 0],
    ['seed', f.seed, meta.train.seed],
  ];
  for (const [name, given, saved] of fixed)
    if (given !== undefined && given !== saved)
      throw new FlagError(
        `--${name} cannot change on --resume (the run was saved with ${saved}, got ${given})`,
        `--${name}`,
      );
  if (f.steps !== undefined) {
    if ((f.steps as number) < point.json.step)
      throw new FlagError(`--steps ${f.steps} is below the saved step ${point.json.step}`, '--steps');
    meta.total_steps = f.steps as number;
  }
  if (f['eval-every'] !== undefined) meta.eval_every = f['eval-every'] as number;
  if (f['eval-examples'] !== undefined) meta.eval_examples = f['eval-examples'] as number;
  const dataDir = (f.data as string | undefined) ?? (meta.generated ? undefined : meta.data);
  const d = prepareData(dataDir, meta.generated, meta.model);
  if (d.shape.examples !== meta.data_shape.examples || d.shape.groups !== meta.data_shape.groups)
    throw new FlagError(
      `--data ${d.description} has ${d.shape.examples} examples in ${d.shape.groups} groups, but the run was trained on ${meta.data_shape.examples} in ${meta.data_shape.groups}`,
      '--data',
    );
  if (d.model.seq_len !== meta.model.seq_len || d.model.num_puzzle_identifiers !== meta.model.num_puzzle_identifiers)
    throw new FlagError(
      `--data ${d.description} does not match the saved model's seq_len / puzzle identifiers`,
      '--data',
    );
  return { meta, train: d.train, test: d.test, identifiers: d.identifiers ?? point.identifiers, close: d.close };
}

/** The weights of --init, checked against the new run's model config and dataset identifiers. */
async function initFrom(dir: string, prepared: Prepared): Promise<NamedArrays> {
  const folder = await readModelFolder(dir).catch((err: Error) => {
    throw new FlagError(`--init ${dir}: ${err.message}`, '--init');
  });
  const want = prepared.meta.model;
  for (const key of Object.keys(want) as (keyof ModelConfig)[]) {
    if (key === 'batch_size') continue;
    if (JSON.stringify(folder.config[key]) !== JSON.stringify(want[key]))
      throw new FlagError(
        `--init ${dir}: its ${key} is ${JSON.stringify(folder.config[key])}, the new run's is ${JSON.stringify(want[key])} (same preset and dataset needed)`,
        '--init',
      );
  }
  if (prepared.identifiers && folder.identifiers && folder.identifiers.join('\n') !== prepared.identifiers.join('\n'))
    throw new FlagError(
      `--init ${dir}: its identifiers.json differs from the dataset's, so its puzzle rows would not match`,
      '--init',
    );
  prepared.meta.init = dir;
  return folder.weights;
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

/** --out (default runs/<preset>): a saved run to continue with --resume, or a folder without one. */
function runFolder(f: FlagValues): string {
  const out =
    (f.out as string | undefined) ?? resolveUserPath(`runs/${(f.preset as string | undefined) ?? DEFAULT_PRESET}`);
  if (f.resume && !hasTrainState(out))
    throw new FlagError(`--resume: ${out} holds no saved run (train-state.json is missing)`, '--resume');
  if (!f.resume && hasTrainState(out))
    throw new FlagError(
      `--out ${out} already holds a saved run: pass --resume to continue it, or choose another --out`,
      '--out',
    );
  return out;
}

/**
 * Optimiser steps per graph run when --steps-per-run is not given: 16 on the CUDA provider where the multi-step
 * graph applies (one device, the whole batch per run, the optimiser not asked for on the device), else 1. Measured on
 * an H200 (BENCHMARKS.md, "Several optimiser steps per graph run"): sudoku-mlp at batch 768 in fp16 trained at 1,346
 * samples/s with one step per run, 2,329 with 4, 2,516 with 8 and 2,605 with 16 (the carry's transfers spread over
 * more steps; every loop opened in 1.4-1.8 s); the CPU provider has no host transfers to save.
 */
export function defaultStepsPerRun(o: {
  provider: string;
  devices: number;
  microBatch: number | undefined;
  optimizerOn: OptimizerPlace | undefined;
}): number {
  return o.provider === 'cuda' && o.devices === 1 && o.microBatch === undefined && o.optimizerOn !== 'device' ? 16 : 1;
}

/**
 * The engine of --backend: the opener of an ONNX Runtime run (sessions, threads, micro-batches, precision), or
 * undefined for the tfjs run on the selected tfjs backend. Names the backend in `meta` for the model card.
 */
async function trainEngine(
  f: FlagValues,
  meta: RunMeta,
  log: (line: string) => void,
): Promise<((o: RunOptions) => Promise<TrainLoop>) | undefined> {
  // a bad --graph-ops is refused before any backend loads
  const graphOps = f['graph-ops'] === undefined ? undefined : parseGraphOps(f['graph-ops'] as string);
  const engine = chooseEngine(f.backend as TrainBackendName, log);
  const devices = f.gpus as number;
  if (engine.kind !== 'ort') {
    if (devices > 1) throw new FlagError('--gpus needs an ort-* backend', '--gpus');
    for (const name of ['micro-batch', 'precision', 'optimizer-on', 'graph-ops', 'steps-per-run'])
      if (f[name] !== undefined) throw new FlagError(`--${name} needs an ort-* backend`, `--${name}`);
    meta.backend = (await selectBackend(engine.backend, log)).backend;
    return undefined;
  }
  // tfjs still draws the seeded initialisation (on its cpu backend), so both engines start alike.
  await selectBackend('cpu', () => {});
  const threads =
    (f.threads as number | undefined) ?? Math.max(1, Math.floor(availableParallelism() / Math.max(1, devices)));
  meta.backend = `ort-${engine.provider}${devices > 1 ? ` x${devices}` : ''}`;
  const microBatch = f['micro-batch'] as number | undefined;
  // Measured on an H100 (BENCHMARKS.md, "Training on ONNX Runtime's CUDA provider"): fp16 trains sudoku-mlp at
  // 1.65x fp32 and fits batch 768 in one run where fp32 runs out of memory; its loss tracks fp32's.
  const precision = (f.precision as TrainPrecision | undefined) ?? (engine.provider === 'cuda' ? 'fp16' : 'fp32');
  if (f.precision !== undefined || precision !== 'fp32') meta.backend += ` ${precision}`;
  log(
    `backend: ONNX Runtime ${engine.provider} provider, ${devices} session(s)${engine.provider === 'cpu' ? `, ${threads} thread(s) each` : ''}, ${precision}`,
  );
  const optimizerOn = f['optimizer-on'] as OptimizerPlace | undefined;
  if (optimizerOn === 'device') meta.backend += ', optimiser on the device';
  if (graphOps) meta.backend += `, graph ops ${f['graph-ops']}`;
  const stepsPerRun =
    (f['steps-per-run'] as number | undefined) ??
    defaultStepsPerRun({ provider: engine.provider, devices, microBatch, optimizerOn });
  if (stepsPerRun > 1) {
    if (devices > 1) throw new FlagError('--steps-per-run above 1 runs on one device (no --gpus)', '--steps-per-run');
    if (microBatch !== undefined)
      throw new FlagError(
        '--steps-per-run above 1 takes the whole batch per run (no --micro-batch)',
        '--steps-per-run',
      );
    if (optimizerOn === 'device')
      throw new FlagError(
        '--steps-per-run above 1 has the optimiser in its graph already (no --optimizer-on)',
        '--steps-per-run',
      );
    meta.backend += `, ${stepsPerRun} steps per run`;
    log(
      `${stepsPerRun} optimiser steps per graph run: the carry, weights and optimiser state stay on the device between them`,
    );
  }
  // The host optimiser runs between graph runs, so it can use every core (16 threads: 0.035 s against 0.048 s
  // for 8 on an H100 host's 16 cores, BENCHMARKS.md).
  const optimizerThreads = Math.min(16, availableParallelism());
  return (o) =>
    OrtTrainingRun.create({
      ...o,
      provider: engine.provider,
      devices,
      threads,
      microBatch,
      optimizerThreads,
      precision,
      optimizerOn,
      noGradForm: graphOps?.noGradForm,
      trainOps: graphOps?.trainOps,
      carry: graphOps?.carry,
      stepsPerRun,
      stepsForm: graphOps?.stepsForm,
    });
}

/** The command's last line: where the run stopped, its last training and test accuracy, and where it was saved. */
function doneLine(summary: SessionSummary, haltMaxSteps: number): string {
  const t = summary.lastTrain;
  const e = summary.lastEval;
  return (
    `${summary.interrupted ? 'interrupted' : 'done'}: step ${summary.step}/${summary.totalSteps} in ${summary.sessionSeconds.toFixed(1)} s` +
    (t ? `, train exact ${pct(t.exact_accuracy)} (halted rows), lm loss ${t.lm_loss.toFixed(4)}` : '') +
    (e
      ? `, test exact ${pct(e.exact_accuracy)} at ${haltMaxSteps} steps / ${pct(e.exact_accuracy_halted)} with halting (${e.examples} examples)`
      : '') +
    `; saved to ${summary.out}`
  );
}

/** Runs the train command; returns the session summary (null for --help). */
export async function trainCommand(argv: readonly string[], io: CommandIo): Promise<SessionSummary | null> {
  const { values: f, help } = parseFlags(argv, trainSpec);
  if (help) return null;
  const out = runFolder(f);
  const quiet = io.quiet || (f.quiet as boolean);
  if (f.resume && f.init !== undefined)
    throw new FlagError('--init starts a new run; it cannot go with --resume', '--init');
  const point = f.resume ? await loadCheckpoint(out) : null;
  const prepared = point ? prepareResume(f, point) : prepareNew(f);
  try {
    const initWeights = f.init === undefined ? undefined : await initFrom(f.init as string, prepared);
    const openRun = await trainEngine(f, prepared.meta, quiet ? () => {} : io.err);
    const m = prepared.meta;
    if (!quiet)
      io.err(
        `${point ? `resuming at step ${point.json.step}` : 'training'} ${m.preset ?? m.model.task} for ${m.total_steps} steps (batch ${m.train.global_batch_size}) on ${m.data}`,
      );
    const summary = await runSession({
      meta: m,
      train: prepared.train,
      test: prepared.test,
      identifiers: prepared.identifiers,
      out,
      resume: point,
      initWeights,
      openRun,
      logEvery: f['log-every'] as number,
      signal: io.signal,
      quiet,
      command: cardCommand(
        trainSpec.usage,
        argv.filter((a) => a !== '--resume'),
        pathFlagNames(trainSpec),
      ),
      machine: machineDescription(),
    });
    io.out(doneLine(summary, m.model.halt_max_steps));
    return summary;
  } finally {
    prepared.close();
  }
}
