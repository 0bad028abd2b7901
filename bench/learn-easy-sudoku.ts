// Learning speed on easy sudoku (3-6 blanks, generated): trains a preset (with optional config overrides) and
// evaluates the EMA model on 256 held-out puzzles every --eval-every steps. Prints the curve as a table and writes
// bench/results/learn-easy-sudoku-<time>.json. This is how the sudoku-tiny-mlp preset was tuned.
//
//   pnpm exec tsx bench/learn-easy-sudoku.ts                                   # sudoku-tiny-mlp, 600 steps
//   pnpm exec tsx bench/learn-easy-sudoku.ts --preset sudoku-tiny --steps 400 \
//     --override '{"model":{"H_cycles":1,"L_cycles":1,"L_layers":1},"train":{"global_batch_size":32,"lr":0.003}}'
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { getPreset, machineDescription, Rng, validateModelConfig } from '@trm/core';
import {
  type BackendName,
  easySudoku,
  evaluate,
  fromMemory,
  selectBackend,
  sudokuSplit,
  TrainingRun,
} from '@trm/trainer';

const { values } = parseArgs({
  options: {
    preset: { type: 'string', default: 'sudoku-tiny-mlp' },
    steps: { type: 'string', default: '600' },
    'eval-every': { type: 'string', default: '100' },
    override: { type: 'string', default: '{}' },
    puzzles: { type: 'string', default: '2000' },
    backend: { type: 'string', default: 'wasm' },
  },
});

const over = JSON.parse(values.override!) as { model?: object; train?: object };
const p = getPreset(values.preset!);
const train = { ...p.train, ...over.train };
const model = validateModelConfig({ ...p.model, ...over.model, batch_size: train.global_batch_size });
const steps = Number(values.steps);
const every = Number(values['eval-every']);
const backend = (await selectBackend(values.backend as BackendName)).backend;
const rng = new Rng(train.seed);
const trainSplit = fromMemory(sudokuSplit(easySudoku(Number(values.puzzles), [3, 6], rng)));
const test = fromMemory(sudokuSplit(easySudoku(256, [3, 6], rng)));
const run = new TrainingRun({ model, train, totalSteps: steps, data: trainSplit });
const curve: { step: number; trainSeconds: number; exact: number; exactHalted: number; stepsHalted: number }[] = [];
let trainSeconds = 0;
console.log(`${values.preset} ${values.override}; backend ${backend}; ${machineDescription()}`);
console.log('| step | train s | exact (max steps) | exact (halting) | steps (halting) |\n|---|---|---|---|---|');
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
    console.log(
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
console.log(`wrote ${file}`);
