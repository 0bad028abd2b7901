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
import {
  type CliSpec,
  type CommandIo,
  countParameters,
  FlagError,
  getPreset,
  machineDescription,
  parseFlags,
  Rng,
  runCli,
  stateLen,
  TASK_SHAPES,
} from '@trm/core';
import {
  TFJS_BACKEND_FLAG,
  type BackendName,
  evaluate,
  fromMemory,
  type SplitSource,
  selectBackend,
  TrainingRun,
} from '@trm/trainer';

/** preset, batch, timed steps (after one warm-up step) */
const CASES: [string, number, number][] = [
  ['sudoku-tiny-mlp', 32, 20],
  ['sudoku-tiny', 64, 5],
  ['sudoku-mlp', 4, 3],
  ['sudoku-att', 4, 3],
  ['maze-att', 1, 2],
];

const spec: CliSpec = {
  usage: 'pnpm exec tsx bench/train-speed.ts',
  summary:
    'Training speed of the TypeScript trainer: optimiser steps per second and an evaluation step, per preset at a\n' +
    'small batch, on random tokens; each case in its own process. Prints a table and writes\n' +
    'bench/results/train-speed-<time>.json.',
  flags: [
    TFJS_BACKEND_FLAG,
    {
      name: 'only',
      kind: 'string',
      value: '<a,b>',
      help: `only these cases, comma-separated (default: all of ${CASES.map(([n]) => n).join(', ')})`,
    },
    {
      name: 'steps',
      kind: 'int',
      min: 1,
      value: '<n>',
      help: `timed steps per case, after one warm-up step (default: the case's own: ${CASES.map(([n, , s]) => `${n} ${s}`).join(', ')})`,
    },
    {
      name: 'child',
      kind: 'string',
      value: '<preset:batch:steps>',
      help:
        'internal, not for use by hand: the bench re-spawns itself with it once per case; runs that one case in this ' +
        'process and prints its result as EVAL and TRAIN JSON lines',
    },
  ],
  examples: [
    'pnpm exec tsx bench/train-speed.ts',
    'pnpm exec tsx bench/train-speed.ts --only sudoku-tiny-mlp --backend cpu --steps 3',
  ],
};

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
async function runCase(backend: BackendName, name: string, batch: number, steps: number, io: CommandIo): Promise<void> {
  await selectBackend(backend, () => {});
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
  io.out(`EVAL ${JSON.stringify({ evalStepSeconds: evalTimes[1], peakRssMB: rss() })}`);
  const times: number[] = [];
  for (let i = 0; i <= steps; i++) {
    const t0 = performance.now();
    await run.trainStep();
    const s = (performance.now() - t0) / 1000;
    if (i > 0) times.push(s);
    io.err(`${name}: step ${i}${i === 0 ? ' (warm-up)' : ''} ${s.toFixed(2)} s`);
  }
  run.dispose();
  io.out(`TRAIN ${JSON.stringify({ secondsPerStep: median(times), peakRssMB: rss() })}`);
}

async function main(argv: readonly string[], io: CommandIo): Promise<void> {
  const { values, help } = parseFlags(argv, spec);
  if (help) return;
  const backendName = values.backend as BackendName;
  if (values.child !== undefined) {
    const [name, batch, steps] = (values.child as string).split(':');
    await runCase(backendName, name!, Number(batch), Number(steps), io);
    return;
  }
  const only = (values.only as string | undefined)?.split(',');
  const unknown = only?.filter((n) => !CASES.some(([c]) => c === n)) ?? [];
  if (unknown.length > 0)
    throw new FlagError(
      `--only names no case ${unknown.join(', ')} (cases: ${CASES.map(([n]) => n).join(', ')})`,
      '--only',
    );
  const rows: Row[] = [];
  for (const [name, batch, defaultSteps] of CASES) {
    if (only && !only.includes(name)) continue;
    const steps = (values.steps as number | undefined) ?? defaultSteps;
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
    io.err(`${name}: ${tr ? `${s!.toFixed(2)} s/step` : `failed (${rows.at(-1)!.error})`}`);
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
  io.out(`backend ${backendName}; ${machineDescription()}`);
  io.out(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
  for (const r of rows)
    io.out(
      `| ${[r.preset, r.params.toLocaleString('en-US'), r.batch, r.stateLen, r.steps, show(r.secondsPerStep), show(r.stepsPerSecond), show(r.samplesPerSecond), show(r.evalStepSeconds), r.peakRssMB].join(' | ')} |${r.error ? ` failed: ${r.error}` : ''}`,
    );
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `train-speed-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ date: new Date().toISOString(), backend: backendName, machine: machineDescription(), rows }, null, 2)}\n`,
  );
  io.out(`wrote ${file}`);
}

await runCli(spec, main);
