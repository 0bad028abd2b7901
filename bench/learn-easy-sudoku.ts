// Learning speed on easy sudoku (3-6 blanks, generated): trains a preset (with optional config overrides) and
// evaluates the EMA model on 256 held-out puzzles every --eval-every steps. Prints the curve as a table and writes
// bench/results/learn-easy-sudoku-<time>.json. This is how the sudoku-tiny-mlp preset was tuned.
//
//   pnpm exec tsx bench/learn-easy-sudoku.ts                                   # sudoku-tiny-mlp, 600 steps
//   pnpm exec tsx bench/learn-easy-sudoku.ts --preset sudoku-tiny --steps 400 \
//     --override '{"model":{"H_cycles":1,"L_cycles":1,"L_layers":1},"train":{"global_batch_size":32,"lr":0.003}}'
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type CliSpec,
  type CommandIo,
  FlagError,
  getPreset,
  machineDescription,
  PRESET_NAMES,
  parseFlags,
  Rng,
  runCli,
  validateModelConfig,
} from '@trm/core';
import {
  TFJS_BACKEND_FLAG,
  type BackendName,
  easySudoku,
  evaluate,
  fromMemory,
  selectBackend,
  sudokuSplit,
  TrainingRun,
} from '@trm/trainer';

const spec: CliSpec = {
  usage: 'pnpm exec tsx bench/learn-easy-sudoku.ts',
  summary:
    'Learning speed on easy sudoku (3-6 blanks, generated): trains a preset (with optional config overrides) and\n' +
    'evaluates the EMA model on 256 held-out puzzles every --eval-every steps. Prints the curve as a table and\n' +
    'writes bench/results/learn-easy-sudoku-<time>.json.',
  flags: [
    {
      name: 'preset',
      kind: 'enum',
      choices: PRESET_NAMES,
      default: 'sudoku-tiny-mlp',
      value: '<name>',
      help: 'model preset',
    },
    { name: 'steps', kind: 'int', min: 1, default: 600, value: '<n>', help: 'optimiser steps' },
    {
      name: 'eval-every',
      kind: 'int',
      min: 1,
      default: 100,
      value: '<n>',
      help: 'evaluate every n steps (and after the last)',
    },
    {
      name: 'override',
      kind: 'string',
      default: '{}',
      value: '<json>',
      help: 'config overrides merged over the preset: {"model":{...},"train":{...}}',
    },
    { name: 'puzzles', kind: 'int', min: 1, default: 2000, value: '<n>', help: 'generated training puzzles' },
    TFJS_BACKEND_FLAG,
  ],
  examples: [
    'pnpm exec tsx bench/learn-easy-sudoku.ts',
    'pnpm exec tsx bench/learn-easy-sudoku.ts --preset sudoku-tiny --steps 400 \\\n' +
      '    --override \'{"model":{"H_cycles":1,"L_cycles":1,"L_layers":1},"train":{"global_batch_size":32,"lr":0.003}}\'',
  ],
};

/** The --override JSON: an object with optional model and train parts. */
function parseOverride(text: string): { model?: object; train?: object } {
  let over: unknown;
  try {
    over = JSON.parse(text);
  } catch (e) {
    throw new FlagError(`--override must be JSON (${e instanceof Error ? e.message : String(e)})`, '--override');
  }
  if (typeof over !== 'object' || over === null || Array.isArray(over))
    throw new FlagError('--override must be a JSON object: {"model":{...},"train":{...}}', '--override');
  return over as { model?: object; train?: object };
}

async function main(argv: readonly string[], io: CommandIo): Promise<void> {
  const { values, help } = parseFlags(argv, spec);
  if (help) return;
  const over = parseOverride(values.override as string);
  const p = getPreset(values.preset as string);
  const train = { ...p.train, ...over.train };
  const model = validateModelConfig({ ...p.model, ...over.model, batch_size: train.global_batch_size });
  const steps = values.steps as number;
  const every = values['eval-every'] as number;
  const backend = (await selectBackend(values.backend as BackendName)).backend;
  const rng = new Rng(train.seed);
  const trainSplit = fromMemory(sudokuSplit(easySudoku(values.puzzles as number, [3, 6], rng)));
  const test = fromMemory(sudokuSplit(easySudoku(256, [3, 6], rng)));
  const run = new TrainingRun({ model, train, totalSteps: steps, data: trainSplit });
  const curve: { step: number; trainSeconds: number; exact: number; exactHalted: number; stepsHalted: number }[] = [];
  let trainSeconds = 0;
  io.out(`${values.preset} ${values.override}; backend ${backend}; ${machineDescription()}`);
  io.out('| step | train s | exact (max steps) | exact (halting) | steps (halting) |\n|---|---|---|---|---|');
  for (let i = 1; i <= steps; i++) {
    const t0 = performance.now();
    await run.trainStep();
    trainSeconds += (performance.now() - t0) / 1000;
    if (i % every === 0 || i === steps) {
      const e = await evaluate(run.evalNet(), run.model.puzzleTable, test, { batchSize: model.batch_size });
      curve.push({
        step: i,
        trainSeconds,
        exact: e.exact_accuracy,
        exactHalted: e.exact_accuracy_halted,
        stepsHalted: e.steps_halted,
      });
      io.out(
        `| ${i} | ${trainSeconds.toFixed(0)} | ${(100 * e.exact_accuracy).toFixed(1)} % | ${(100 * e.exact_accuracy_halted).toFixed(1)} % | ${e.steps_halted.toFixed(2)} |`,
      );
    }
  }
  run.dispose();
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `learn-easy-sudoku-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ date: new Date().toISOString(), preset: values.preset, override: over, model, train, backend, machine: machineDescription(), curve }, null, 2)}\n`,
  );
  io.out(`wrote ${file}`);
}

await runCli(spec, main);
