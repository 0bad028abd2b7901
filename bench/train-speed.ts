// Training speed of the TypeScript trainer: optimiser steps per second (one supervision step each: forward,
// backward through the last recursion, AdamATan2, sign-SGD, EMA, the ACT bookkeeping) and an evaluation step
// (one supervision step, forward only), for the CPU presets and the paper-size presets at a small batch. Data are
// random tokens of the task's shape (speed does not depend on content). Each case runs in its own process (the
// wasm heap only grows), and a case that fails is reported with its reason. Prints a table and writes
// bench/results/train-speed-<time>.json.
//
//   pnpm exec tsx bench/train-speed.ts                         # wasm, all cases below (about 5 min on 2 cores)
//   pnpm exec tsx bench/train-speed.ts --only sudoku-tiny-mlp --backend cpu --steps 3
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { countParameters, getPreset, machineDescription, Rng, stateLen, TASK_SHAPES } from '@trm/core';
import { type BackendName, evaluate, fromMemory, type SplitSource, selectBackend, TrainingRun } from '@trm/trainer';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    only: { type: 'string' },
    steps: { type: 'string' },
    /** internal: run one case and print its result as JSON lines */
    child: { type: 'string' },
  },
});

/** preset, batch, timed steps (after one warm-up step) */
const CASES: [string, number, number][] = [
  ['sudoku-tiny-mlp', 32, 20],
  ['sudoku-tiny', 64, 5],
  ['sudoku-mlp', 4, 3],
  ['sudoku-att', 4, 3],
  ['maze-att', 1, 2],
];

interface Row {
  preset: string;
  params: number;
  batch: number;
  stateLen: number;
  steps: number;
  secondsPerStep: number | null;
  stepsPerSecond: number | null;
  samplesPerSecond: number | null;
  evalStepSeconds: number | null;
  peakRssMB: number;
  error?: string;
}

function randomSplit(seqLen: number, vocab: number, examples: number, rng: Rng): SplitSource {
  const tokens = () => Uint8Array.from({ length: examples * seqLen }, () => rng.int(1, vocab - 1));
  const upTo = Int32Array.from({ length: examples + 1 }, (_, i) => i);
  return fromMemory({
    metadata: { seq_len: seqLen, pad_id: 0, ignore_label_id: 0, blank_identifier_id: 0 },
    inputs: tokens(),
    labels: tokens(),
    puzzleIndices: upTo,
    groupIndices: upTo.slice(),
    puzzleIdentifiers: new Int32Array(examples),
    numExamples: examples,
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rss = () => Math.round(process.resourceUsage().maxRSS / 1024);

/** One case in this process: an evaluation step (reported at once), then the training steps. */
async function runCase(name: string, batch: number, steps: number): Promise<void> {
  await selectBackend(values.backend as BackendName, () => {});
  const p = getPreset(name);
  const model = { ...p.model, batch_size: batch };
  const train = { ...p.train, global_batch_size: batch };
  const shape = TASK_SHAPES[model.task];
  const data = randomSplit(shape.seqLen, shape.vocabSize, 4 * batch, new Rng(1));
  const run = new TrainingRun({ model, train, totalSteps: steps + 1, data });
  const evalTimes: number[] = [];
  for (let i = 0; i < 2; i++) {
    const t0 = performance.now();
    await evaluate(run.evalNet(), run.model.puzzleTable, data, { batchSize: batch, limit: batch, steps: 1 });
    evalTimes.push((performance.now() - t0) / 1000);
  }
  console.log(`EVAL ${JSON.stringify({ evalStepSeconds: evalTimes[1], peakRssMB: rss() })}`);
  const times: number[] = [];
  for (let i = 0; i <= steps; i++) {
    const t0 = performance.now();
    await run.trainStep();
    const s = (performance.now() - t0) / 1000;
    if (i > 0) times.push(s);
    process.stderr.write(`${name}: step ${i}${i === 0 ? ' (warm-up)' : ''} ${s.toFixed(2)} s\n`);
  }
  run.dispose();
  console.log(`TRAIN ${JSON.stringify({ secondsPerStep: median(times), peakRssMB: rss() })}`);
}

if (values.child) {
  const [name, batch, steps] = values.child.split(':');
  await runCase(name!, Number(batch), Number(steps));
} else {
  const backendName = values.backend!;
  const only = values.only?.split(',');
  const rows: Row[] = [];
  for (const [name, batch, defaultSteps] of CASES) {
    if (only && !only.includes(name)) continue;
    const steps = values.steps ? Number(values.steps) : defaultSteps;
    const model = { ...getPreset(name).model, batch_size: batch };
    const child = spawnSync(
      process.execPath,
      [...process.execArgv, import.meta.filename, '--child', `${name}:${batch}:${steps}`, '--backend', backendName],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26 },
    );
    const lines = child.stdout.split('\n');
    const pick = (tag: string) => {
      const l = lines.find((x) => x.startsWith(`${tag} `));
      return l
        ? (JSON.parse(l.slice(tag.length + 1)) as {
            secondsPerStep?: number;
            evalStepSeconds?: number;
            peakRssMB: number;
          })
        : null;
    };
    const ev = pick('EVAL');
    const tr = pick('TRAIN');
    const s = tr?.secondsPerStep ?? null;
    const errLine = child.stderr.split('\n').find((l) => /Error|Aborted/.test(l));
    rows.push({
      preset: name,
      params: countParameters(model),
      batch,
      stateLen: stateLen(model),
      steps,
      secondsPerStep: s === null ? null : Number(s.toFixed(3)),
      stepsPerSecond: s === null ? null : Number((1 / s).toFixed(3)),
      samplesPerSecond: s === null ? null : Number((batch / s).toFixed(2)),
      evalStepSeconds: ev?.evalStepSeconds === undefined ? null : Number(ev.evalStepSeconds.toFixed(3)),
      peakRssMB: tr?.peakRssMB ?? ev?.peakRssMB ?? 0,
      ...(tr ? {} : { error: (errLine ?? `exit ${child.status}`).trim().slice(0, 200) }),
    });
    process.stderr.write(`${name}: ${tr ? `${s!.toFixed(2)} s/step` : `failed (${rows.at(-1)!.error})`}\n`);
  }
  const header = [
    'preset',
    'params',
    'batch',
    'L',
    'steps',
    's/step',
    'steps/s',
    'samples/s',
    'eval step s',
    'peak RSS MB',
  ];
  const show = (v: number | null) => (v === null ? '-' : String(v));
  console.log(`backend ${backendName}; ${machineDescription()}`);
  console.log(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
  for (const r of rows)
    console.log(
      `| ${[r.preset, r.params.toLocaleString('en-US'), r.batch, r.stateLen, r.steps, show(r.secondsPerStep), show(r.stepsPerSecond), show(r.samplesPerSecond), show(r.evalStepSeconds), r.peakRssMB].join(' | ')} |${r.error ? ` failed: ${r.error}` : ''}`,
    );
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `train-speed-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ date: new Date().toISOString(), backend: backendName, machine: machineDescription(), rows }, null, 2)}\n`,
  );
  console.log(`wrote ${file}`);
}
