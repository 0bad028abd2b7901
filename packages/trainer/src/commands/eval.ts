import { Progress, puzzleViews, type TaskName, writeFileAtomic } from '@trm/core';
import { selectBackend } from '../backend/backend.js';
import { type ModelFolderContents, readModelFolder } from '@trm/core';
import { configForData, datasetIdentifiers, hasSplit, type OpenedSplit, openSplit } from '../data/dataset-folder.js';
import { mapIdentifiers } from '../data/identifier-map.js';
import { type EvalOptions, type EvalResult, evaluate, evaluateSteps } from '../evaluate/evaluate.js';
import { type CliSpec, FlagError, parseFlags, requiredPath } from '@trm/core';
import { PUZZLE_TABLE_NAME, TrmModel } from '../model/model.js';
import { PuzzleTable } from '../model/puzzle-table.js';
import { chooseEngine, TRAIN_BACKEND_NAMES, type TrainBackendName } from '../ort/ort-backend.js';
import { OrtEvalSession } from '../ort/eval-step.js';
import type { SplitSource } from '../data/split.js';
import type { CommandIo } from '@trm/core';

export const evalSpec: CliSpec = {
  usage: 'pnpm --filter @trm/trainer eval',
  summary:
    'Evaluates a model folder on a dataset folder: exact accuracy after all supervision steps (the reference metric)\n' +
    'and with early halting (stop at the first positive halt logit), with the steps it used, per split.',
  flags: [
    { name: 'model', kind: 'path', value: '<dir>', help: 'model folder (config.json + weights.safetensors)' },
    { name: 'data', kind: 'path', value: '<dir>', help: 'dataset folder' },
    { name: 'split', kind: 'string', value: '<name|all>', default: 'test', help: 'split to evaluate, or all of them' },
    { name: 'limit', kind: 'int', min: 0, value: '<n>', default: 0, help: 'first n examples of each split, 0 = all' },
    { name: 'batch', kind: 'int', min: 1, value: '<n>', help: "batch size (default: the model's)" },
    {
      name: 'steps',
      kind: 'int',
      min: 1,
      value: '<n>',
      help: 'supervision steps per example (default: halt_max_steps)',
    },
    {
      name: 'backend',
      kind: 'enum',
      choices: TRAIN_BACKEND_NAMES,
      default: 'auto',
      help: 'ort-cuda / ort-webgpu / ort-cpu: the step graph on ONNX Runtime; cpu / wasm / webgpu / tensorflow: TensorFlow.js; auto: ort-cuda when its provider is installed, else the fastest tfjs backend',
    },
    {
      name: 'views',
      kind: 'int',
      min: 1,
      value: '<n>',
      default: 1,
      help:
        'also answer each example through n views of it (itself and n - 1 symmetries of its task: sudoku shuffles, ' +
        'maze rotations and mirrors, at most 8) and report the exact accuracy of the first answer, mapped back, that ' +
        "follows the task's rules; sudoku and maze only",
    },
    { name: 'views-seed', kind: 'int', min: 0, value: '<n>', default: 0, help: 'seed of the sudoku views' },
    { name: 'json', kind: 'path', value: '<file>', help: 'also write the results as JSON' },
  ],
  examples: [
    'pnpm --filter @trm/trainer eval --model models/sudoku-small-mlp --data data/quickstart-ds',
    'pnpm --filter @trm/trainer eval --model runs/easy-sudoku --data data/quickstart-ds --split all --limit 100 --json out/easy-sudoku-eval.json',
    'pnpm --filter @trm/trainer eval --model models/sudoku-newspaper-mlp --data data/sudoku-hard --limit 256 --views 8',
  ],
};

export interface EvalCommandResult {
  model: string;
  data: string;
  steps: number;
  splits: (EvalResult & { split: string; seconds: number })[];
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

/** Evaluation of a split on the engine of --backend, and how to release that engine. */
interface EvalEngine {
  run: (source: SplitSource, o: EvalOptions) => Promise<EvalResult>;
  close: () => unknown;
}

async function evalEngine(
  name: TrainBackendName,
  folder: ModelFolderContents,
  log: (line: string) => void,
): Promise<EvalEngine> {
  const engine = chooseEngine(name, log);
  if (engine.kind === 'ort') {
    const t = folder.weights[PUZZLE_TABLE_NAME];
    const table = t ? new PuzzleTable(t.shape[0]!, t.shape[1]!, t.data) : null;
    const session = await OrtEvalSession.create(folder.config, folder.weights, { provider: engine.provider });
    log(`backend: ONNX Runtime ${engine.provider} provider (the step graph, float32)`);
    return {
      run: (source, o) => evaluateSteps(session.stepper(table), folder.config.halt_max_steps, source, o),
      close: () => session.release(),
    };
  }
  await selectBackend(engine.backend, log);
  const model = TrmModel.fromWeights(folder.config, folder.weights);
  return { run: (source, o) => evaluate(model, model.puzzleTable, source, o), close: () => model.dispose() };
}

/** The views of --views (null for 1); a task without them (ARC) or too many for a maze is a FlagError. */
function evalViews(task: TaskName, count: number, seed: number): EvalOptions['views'] | null {
  if (count === 1) return null;
  try {
    return { task, views: puzzleViews(task, count, seed) };
  } catch (err) {
    // puzzleViews names what the task allows (no views for ARC, at most 8 for a maze)
    if (err instanceof RangeError) throw new FlagError(`--${err.message}`, '--views');
    throw err;
  }
}

/**
 * The model row of each puzzle identifier of the split, after checking that the split is of the model's task; a
 * puzzle the model does not know is an error that points to adapt.
 */
function splitIdMap(folder: ModelFolderContents, dataDir: string, split: string, opened: OpenedSplit): Int32Array {
  const c = configForData(folder.config, opened.metadata, `${dataDir} (${split})`);
  if (c.seq_len !== folder.config.seq_len || c.vocab_size !== folder.config.vocab_size)
    throw new FlagError(
      `--data ${dataDir} has seq_len ${c.seq_len} / vocab ${c.vocab_size}, the model ${folder.config.seq_len} / ${folder.config.vocab_size}`,
      '--data',
    );
  const ids = mapIdentifiers(
    folder.identifiers,
    datasetIdentifiers(dataDir),
    opened.metadata.num_puzzle_identifiers,
    folder.config.num_puzzle_identifiers,
  );
  const used = new Set(opened.source.puzzleIdentifiers);
  const missing = ids.unknown.filter((u) => used.has(u.id));
  if (missing.length > 0)
    throw new Error(
      `${missing.length} puzzle(s) of ${dataDir} (${split}) are unknown to the model, e.g. "${missing[0]!.name}": fit their embeddings with the adapt command first`,
    );
  return ids.map;
}

/** The splits of --split that --data holds ('all': those of train and test it has). */
function splitsToEvaluate(wanted: string, dataDir: string): string[] {
  const splits = wanted === 'all' ? ['train', 'test'].filter((s) => hasSplit(dataDir, s)) : [wanted];
  for (const s of splits)
    if (!hasSplit(dataDir, s)) throw new FlagError(`--split ${s}: ${dataDir} has no ${s}/dataset.json`, '--split');
  if (splits.length === 0) throw new FlagError(`--data ${dataDir} has no train or test split`, '--data');
  return splits;
}

export async function evalCommand(argv: readonly string[], io: CommandIo): Promise<EvalCommandResult | null> {
  const { values: f, help } = parseFlags(argv, evalSpec);
  if (help) return null;
  const modelDir = requiredPath(f, 'model', { exists: true });
  const dataDir = requiredPath(f, 'data', { exists: true });
  const splits = splitsToEvaluate(f.split as string, dataDir);

  const folder = await readModelFolder(modelDir);
  const views = evalViews(folder.config.task, f.views as number, f['views-seed'] as number);
  const engine = await evalEngine(f.backend as TrainBackendName, folder, io.quiet ? () => {} : io.err);
  const steps = (f.steps as number | undefined) ?? folder.config.halt_max_steps;
  const batchSize = (f.batch as number | undefined) ?? folder.config.batch_size;
  const result: EvalCommandResult = { model: modelDir, data: dataDir, steps, splits: [] };
  try {
    for (const split of splits) {
      const opened = openSplit(dataDir, split);
      try {
        const idMap = splitIdMap(folder, dataDir, split, opened);
        const t0 = performance.now();
        let bar: Progress | null = null;
        const r = await engine.run(opened.source, {
          batchSize,
          steps,
          limit: (f.limit as number) > 0 ? (f.limit as number) : undefined,
          idMap,
          views: views ?? undefined,
          onBatch: (done, total) => {
            bar ??= new Progress(`eval ${split}`, total, { unit: 'examples', silent: io.quiet });
            bar.update(done);
          },
        });
        (bar as Progress | null)?.finish();
        const seconds = (performance.now() - t0) / 1000;
        result.splits.push({ split, seconds, ...r });
        io.out(
          `${split}: ${r.examples} examples, exact ${pct(r.exact_accuracy)} at ${steps} steps, ${pct(r.exact_accuracy_halted)} with early halting (${r.steps_halted.toFixed(2)} steps), token accuracy ${pct(r.accuracy)}, q_halt accuracy ${pct(r.q_halt_accuracy)} [${seconds.toFixed(1)} s]`,
        );
        if (r.views)
          io.out(
            `${split}: through ${r.views.count} views, exact ${pct(r.views.exact_accuracy)} at ${steps} steps (an answer that follows the rules: ${pct(r.views.follows_rules)}, of which ${pct(r.views.follows_rules_not_exact)} not the label's; the example's own answer follows them for ${pct(r.views.own_follows_rules)})`,
          );
      } finally {
        opened.close();
      }
    }
  } finally {
    await engine.close();
  }
  if (f.json) await writeFileAtomic(f.json as string, `${JSON.stringify(result, null, 2)}\n`);
  const head = result.splits
    .map((s) => `${s.split} ${pct(s.exact_accuracy)} / ${pct(s.exact_accuracy_halted)}`)
    .join(', ');
  io.out(`evaluated ${modelDir} on ${dataDir}: exact at ${steps} steps / with halting: ${head}`);
  return result;
}
