// Where the time of one session.run of the step graph goes, from ONNX Runtime's own profiler: kernels per run,
// the time inside kernels against the whole run (the rest is the framework: scheduling, allocation, copies the
// profiler does not attribute), each op type's share, and which provider ran each node (a CPU node inside a CUDA
// graph is a hidden round trip). On the CUDA provider a node's time is what the host spent on it (kernels are
// launched asynchronously; a copy to the host waits for the GPU), so many short nodes and a large unattributed
// rest say the run is bound by launches rather than by the GPU's arithmetic.
//
//   pnpm --filter @trm/server bench:profile --preset sudoku-tiny --ep cpu --batch 16
//   node packages/server/dist/profile.mjs --preset sudoku-mlp --dtype fp16 --ep cuda --batch 1,256 --steps-per-run 1,16
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type CliSpec,
  type CommandIo,
  EXECUTION_PROVIDERS,
  type FlagValues,
  machineDescription,
  type ModelConfig,
  type ProfileEvent,
  type ProfileSummary,
  parseFlags,
  Rng,
  runCli,
  stateLen,
  summarizeProfile,
} from '@trm/core';
import { MULTI_STEP_FORMS, MULTI_STEP_INPUTS, type MultiStepForm, STEP_INPUTS, unrollStepGraph } from '@trm/graph';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { benchModel, benchRoot, integerList, modelFlags, writeBenchRecord } from './bench-support.js';
import { MODEL_FILE } from '../engine/engine.js';
import { stepGraphFile } from '../engine/step-graph-file.js';
import { cpuThreadsPerWorker, sessionOptions } from '../engine/providers.js';
import type { ExecutionProviderName } from '../engine/types.js';

const spec: CliSpec = {
  usage: 'pnpm --filter @trm/server bench:profile',
  summary:
    "Profiles session.run of the step graph with ONNX Runtime's profiler: nodes per run, time inside nodes\n" +
    'against the whole run, the op types that take it, and the provider of every node.',
  flags: [
    ...modelFlags('profile'),
    { name: 'ep', kind: 'enum', choices: EXECUTION_PROVIDERS, default: 'cpu', help: 'execution provider' },
    { name: 'batch', kind: 'string', value: '<b,b,...>', default: '1,16', help: 'batch sizes' },
    {
      name: 'steps-per-run',
      kind: 'string',
      value: '<k,k,...>',
      default: '1',
      help: 'supervision steps per run (k > 1: the graph made at load, as the server does)',
    },
    {
      name: 'steps-form',
      kind: 'enum',
      choices: MULTI_STEP_FORMS,
      default: 'loop',
      help: 'how a graph of k > 1 steps per run is made',
    },
    { name: 'runs', kind: 'int', min: 1, default: 20, value: '<n>', help: 'profiled runs per case' },
    { name: 'warmup', kind: 'int', min: 0, default: 3, value: '<n>', help: 'runs before them, not counted' },
    { name: 'top', kind: 'int', min: 1, default: 12, value: '<n>', help: 'op types listed per case' },
    { name: 'device', kind: 'int', min: 0, default: 0, value: '<n>', help: 'CUDA device' },
    { name: 'out', kind: 'path', value: '<file>', help: 'JSON output (default bench/results/profile-...json)' },
  ],
  examples: [
    'pnpm --filter @trm/server bench:profile --preset sudoku-tiny --ep cpu --batch 1,16',
    'node packages/server/dist/profile.mjs --preset sudoku-mlp --dtype fp16 --ep cuda --batch 1,256 --steps-per-run 1,16',
  ],
};

/** Feeds of a batch of random puzzles with fresh state; `k` > 1 adds the Loop's limits (all k steps). */
function feedsFor(
  ort: typeof import('onnxruntime-node'),
  session: InferenceSession,
  config: ModelConfig,
  batch: number,
  k: number,
): Record<string, Tensor> {
  const rng = new Rng(batch);
  const S = config.seq_len;
  const L = stateLen(config);
  const D = config.hidden_size;
  const zh = session.inputMetadata.find((m) => m.name === STEP_INPUTS.zH);
  const half = zh?.isTensor === true && zh.type === 'float16';
  const state = () =>
    half
      ? new ort.Tensor('float16', new Uint16Array(batch * L * D), [batch, L, D])
      : new ort.Tensor('float32', new Float32Array(batch * L * D), [batch, L, D]);
  const feeds: Record<string, Tensor> = {
    [STEP_INPUTS.tokens]: new ort.Tensor(
      'int64',
      BigInt64Array.from({ length: batch * S }, () => BigInt(rng.int(1, config.vocab_size - 1))),
      [batch, S],
    ),
    [STEP_INPUTS.reset]: new ort.Tensor('bool', new Uint8Array(batch).fill(1), [batch]),
    [STEP_INPUTS.zH]: state(),
    [STEP_INPUTS.zL]: state(),
  };
  if (session.inputNames.includes(STEP_INPUTS.puzzleEmb))
    feeds[STEP_INPUTS.puzzleEmb] = new ort.Tensor('float32', new Float32Array(batch * config.puzzle_emb_ndim), [
      batch,
      config.puzzle_emb_ndim,
    ]);
  if (session.inputNames.includes(MULTI_STEP_INPUTS.haltLogit)) {
    feeds[MULTI_STEP_INPUTS.haltLogit] = new ort.Tensor(
      'float32',
      new Float32Array(batch).fill(Number.POSITIVE_INFINITY),
      [batch],
    );
    feeds[MULTI_STEP_INPUTS.stepsLeft] = new ort.Tensor('int64', new BigInt64Array(batch).fill(BigInt(k)), [batch]);
  }
  return feeds;
}

interface CaseResult extends ProfileSummary {
  batch: number;
  stepsPerRun: number;
}

async function profileCase(
  bytes: Uint8Array,
  config: ModelConfig,
  f: FlagValues,
  batch: number,
  k: number,
): Promise<CaseResult> {
  const ort = await import('onnxruntime-node');
  const ep = f.ep as ExecutionProviderName;
  const graph = k > 1 ? unrollStepGraph(bytes, k, f['steps-form'] as MultiStepForm) : bytes;
  const dir = mkdtempSync(join(tmpdir(), 'trm-profile-'));
  try {
    const options: InferenceSession.SessionOptions = {
      ...sessionOptions(ep, {
        threads: cpuThreadsPerWorker(1),
        stateOnDevice: false,
        stepsPerRun: k,
        deviceId: f.device as number,
      }),
      enableProfiling: true,
      profileFilePrefix: join(dir, 'profile'),
    };
    const session = await ort.InferenceSession.create(graph, options);
    try {
      const feeds = feedsFor(ort, session, config, batch, k);
      const warmup = f.warmup as number;
      for (let i = 0; i < warmup + (f.runs as number); i++) await session.run(feeds);
      await session.endProfiling();
    } finally {
      await session.release();
    }
    const file = readdirSync(dir).find((n) => n.endsWith('.json'));
    if (!file) throw new Error(`ONNX Runtime wrote no profile into ${dir}`);
    const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as ProfileEvent[];
    return { batch, stepsPerRun: k, ...summarizeProfile(events, f.warmup as number) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (x: number, digits = 2) => x.toFixed(digits);

function caseLines(r: CaseResult, top: number): string[] {
  const pct = (x: number) => `${fmt(100 * x, 1)} %`;
  return [
    '',
    `batch ${r.batch}, ${r.stepsPerRun} step(s) per run: ${fmt(r.runMs)} ms per run (${fmt(r.runMs / r.stepsPerRun)} ms per step), ` +
      `${fmt(r.nodesPerRun, 0)} nodes per run, ${fmt(r.nodeMs)} ms inside nodes, ${fmt(r.otherMs)} ms outside ` +
      `(${pct(r.runMs > 0 ? r.otherMs / r.runMs : 0)}); providers: ` +
      r.byProvider.map((p) => `${p.name} ${fmt(p.nodes, 0)} nodes ${fmt(p.ms)} ms`).join(', ') +
      (r.gpu ? `; GPU kernels ${fmt(r.gpu.kernels, 0)} per run, ${fmt(r.gpu.ms)} ms` : ''),
    '| op | nodes/run | ms/run | share of node time |',
    '|---|---|---|---|',
    ...r.byOp.slice(0, top).map((o) => `| ${o.name} | ${fmt(o.nodes, 0)} | ${fmt(o.ms, 3)} | ${pct(o.share)} |`),
  ];
}

async function benchProfile(argv: readonly string[], io: CommandIo): Promise<void> {
  const { values: f, help } = parseFlags(argv, spec);
  if (help) return;
  const batches = integerList('batch', f.batch as string);
  const ks = integerList('steps-per-run', f['steps-per-run'] as string);
  const { modelDir, config, label, made } = await benchModel(f);
  const results: CaseResult[] = [];
  try {
    const graphPath = (await stepGraphFile(modelDir, join(modelDir, MODEL_FILE))).path;
    const bytes = new Uint8Array(readFileSync(graphPath));
    io.err(`bench:profile ${label} on ${f.ep as string}, ${machineDescription()}`);
    for (const k of ks)
      for (const batch of batches) {
        const r = await profileCase(bytes, config, f, batch, k);
        results.push(r);
        for (const line of caseLines(r, f.top as number)) io.out(line);
      }
  } finally {
    if (made) rmSync(made.dir, { recursive: true, force: true });
  }
  const out =
    (f.out as string | undefined) ??
    join(
      benchRoot(),
      'bench',
      'results',
      `profile-${f.model ? 'model' : (f.preset as string)}-${f.ep as string}-${Date.now()}.json`,
    );
  writeBenchRecord(
    out,
    {
      bench: 'profile',
      date: new Date().toISOString(),
      machine: machineDescription(),
      model: label,
      executionProvider: f.ep,
      command: `bench:profile ${argv.join(' ')}`,
      results,
    },
    io,
  );
}

await runCli(spec, benchProfile);
