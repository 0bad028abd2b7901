// engine-check: the engine on one execution provider against the reference loop on the CPU, puzzle by puzzle (same
// answer, same steps, same halting, the largest halt-probability difference); prints a table and writes JSON.
import { join } from 'node:path';
import {
  type CliSpec,
  type CommandIo,
  encodeSudoku,
  generateSudoku,
  machineDescription,
  type ModelConfig,
  parseFlags,
  parseSudokuString,
  Rng,
  readModelConfig,
  runCli,
} from '@trm/core';
import { createCpuSession } from '@trm/exporter';
import { MULTI_STEP_FORMS, type MultiStepForm } from '@trm/graph';
import { type LoopAnswer, referenceLoop } from '@trm/exporter/testing';
import { benchRoot, graphFlag, writeBenchRecord } from './bench-support.js';
import { Engine, type GraphChoice, MODEL_FILE } from '../engine/engine.js';
import { buildFp16Graph } from '../engine/step/fp16-graph.js';
import { stepGraphFile } from '../engine/step-graph-file.js';
import { EXECUTION_PROVIDER_CHOICES } from '../engine/providers.js';
import { MAX_STEPS_LIMIT } from '../engine/solve-request.js';
import type { ExecutionProviderChoice, SolveResult } from '../engine/types.js';

const spec: CliSpec = {
  usage: 'node packages/server/dist/engine-check.mjs',
  summary: 'Compares the engine on one execution provider with the reference loop on the CPU, answer by answer.',
  flags: [
    { name: 'model', kind: 'path', value: '<dir>', help: 'sudoku model folder (default: models/sudoku-small-mlp)' },
    { name: 'ep', kind: 'enum', choices: EXECUTION_PROVIDER_CHOICES, default: 'auto', help: 'execution provider' },
    graphFlag('(the reference loop runs the same graph) '),
    { name: 'puzzles', kind: 'int', min: 1, default: 256, value: '<n>', help: 'generated sudoku (45-70 givens)' },
    { name: 'batch', kind: 'int', min: 1, default: 32, value: '<n>', help: 'engine batch rows' },
    { name: 'concurrency', kind: 'int', min: 1, default: 96, value: '<n>', help: 'puzzles in flight' },
    { name: 'threshold', kind: 'number', min: 0, default: 0.5, value: '<p>', help: 'halt threshold' },
    {
      name: 'steps-per-run',
      kind: 'int',
      min: 1,
      default: 1,
      value: '<k>',
      help: "supervision steps per run of the engine's graph (the reference loop runs one at a time)",
    },
    {
      name: 'steps-form',
      kind: 'enum',
      choices: MULTI_STEP_FORMS,
      default: 'loop',
      help: 'how a graph of k > 1 steps per run is made: an ONNX Loop, or the step unrolled k times',
    },
    { name: 'json', kind: 'path', value: '<file>', help: 'output JSON (default bench/results/engine-check-<ep>.json)' },
  ],
  examples: [
    'node packages/server/dist/engine-check.mjs --ep cuda --puzzles 512',
    'node packages/server/dist/engine-check.mjs --ep cuda --steps-per-run 4 --steps-form unrolled',
  ],
};

interface LoopSettings {
  maxSteps: number;
  threshold: number;
  /** the model's blank puzzle row, for every puzzle */
  blank: Float32Array | undefined;
}

/** Every puzzle through the engine, `concurrency` in flight; the answers in puzzle order and the seconds taken. */
async function engineAnswers(
  engine: Engine,
  tokens: Uint8Array[],
  s: LoopSettings,
  concurrency: number,
): Promise<{ answers: SolveResult[]; seconds: number }> {
  const t0 = performance.now();
  const answers: SolveResult[] = new Array(tokens.length);
  let next = 0;
  const client = async () => {
    while (next < tokens.length) {
      const i = next++;
      answers[i] = await engine.solve({
        tokens: tokens[i]!,
        puzzleEmb: s.blank,
        maxSteps: s.maxSteps,
        haltThreshold: s.threshold,
        trace: false,
      });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  return { answers, seconds: (performance.now() - t0) / 1000 };
}

/** Every puzzle through the reference loop on an ONNX Runtime CPU session, 64 at a time. */
async function referenceAnswers(
  modelDir: string,
  config: ModelConfig,
  tokens: Uint8Array[],
  s: LoopSettings,
  built: boolean,
): Promise<LoopAnswer[]> {
  // the float16 graph the engine built from the weights, or model.onnx (a folder shipped without it: the graph the
  // engine builds from its weights)
  const session = await createCpuSession(
    built ? await buildFp16Graph(modelDir) : (await stepGraphFile(modelDir, join(modelDir, MODEL_FILE))).path,
  );
  const reference: LoopAnswer[] = [];
  for (let i = 0; i < tokens.length; i += 64)
    reference.push(
      ...(await referenceLoop(
        session,
        config,
        tokens.slice(i, i + 64).map((t) => ({ tokens: t, puzzleEmb: s.blank })),
        { maxSteps: s.maxSteps, haltThreshold: s.threshold },
      )),
    );
  await session.release();
  return reference;
}

/** How many answers agree (tokens, steps, halting), and the largest halt-probability difference at equal steps. */
function compareAnswers(answers: readonly SolveResult[], reference: readonly LoopAnswer[]) {
  let sameAnswer = 0;
  let sameSteps = 0;
  let sameHalted = 0;
  let maxHaltDiff = 0;
  answers.forEach((a, i) => {
    const r = reference[i]!;
    if (a.tokens.every((t, k) => t === r.tokens[k])) sameAnswer++;
    if (a.steps === r.steps) sameSteps++;
    if (a.halted === r.halted) sameHalted++;
    if (a.steps === r.steps) maxHaltDiff = Math.max(maxHaltDiff, Math.abs(a.haltProbability - r.haltProbability));
  });
  return { sameAnswer, sameSteps, sameHalted, maxHaltDiff };
}

async function check(argv: readonly string[], io: CommandIo): Promise<void> {
  const { values: f, help } = parseFlags(argv, spec);
  if (help) return;
  const modelDir = (f.model as string | undefined) ?? join(benchRoot(), 'models/sudoku-small-mlp');
  const config = await readModelConfig(modelDir);
  const rng = new Rng(31);
  const tokens = Array.from({ length: f.puzzles as number }, () =>
    encodeSudoku(parseSudokuString(generateSudoku(rng, { givens: [45, 70] }).question)),
  );
  const engine = await Engine.start({
    modelDir,
    executionProvider: f.ep as ExecutionProviderChoice,
    graph: f.graph as GraphChoice,
    maxBatch: f.batch as number,
    maxQueue: tokens.length,
    queueTimeoutMs: 0, // every puzzle is queued at once; a slow provider must not time them out
    stepsPerRun: f['steps-per-run'] as number,
    stepsForm: f['steps-form'] as MultiStepForm,
  });
  const loop: LoopSettings = {
    maxSteps: Math.min(MAX_STEPS_LIMIT, config.halt_max_steps),
    threshold: f.threshold as number,
    blank: engine.puzzleRow('<blank>'),
  };
  const { answers, seconds } = await engineAnswers(engine, tokens, loop, f.concurrency as number);
  const provider = engine.info.executionProvider;
  await engine.drain();
  const reference = await referenceAnswers(modelDir, config, tokens, loop, engine.info.graphBuilt === true);
  const { sameAnswer, sameSteps, sameHalted, maxHaltDiff } = compareAnswers(answers, reference);

  const n = tokens.length;
  const result = {
    bench: 'engine-check',
    date: new Date().toISOString(),
    machine: machineDescription(),
    model: modelDir,
    provider,
    notes: engine.info.providerNotes,
    dtype: engine.info.dtype,
    puzzles: n,
    batch: f.batch,
    stepsPerRun: f['steps-per-run'],
    stepsForm: f['steps-form'],
    concurrency: f.concurrency,
    maxSteps: loop.maxSteps,
    threshold: loop.threshold,
    seconds,
    sameAnswer,
    sameSteps,
    sameHalted,
    maxHaltProbabilityDiff: maxHaltDiff,
  };
  io.out(
    `# engine on ${provider} (${engine.info.dtype}) against the reference loop on the CPU, ${machineDescription()}`,
  );
  io.out(
    '| puzzles | batch x in flight | steps/run | form | same answer | same steps | same halting | max |P(halt) diff| | engine s |',
  );
  io.out('|---|---|---|---|---|---|---|---|---|');
  io.out(
    `| ${n} | ${f.batch} x ${f.concurrency} | ${f['steps-per-run']} | ${f['steps-per-run'] === 1 ? '-' : f['steps-form']} | ${sameAnswer} | ${sameSteps} | ${sameHalted} | ${maxHaltDiff.toExponential(1)} | ${seconds.toFixed(2)} |`,
  );
  const out = (f.json as string | undefined) ?? join(benchRoot(), `bench/results/engine-check-${provider}.json`);
  writeBenchRecord(out, result, io);
}

await runCli(spec, check);
