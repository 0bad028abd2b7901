// The `start` command (pnpm --filter @trm/server start): flag parsing and the run, apart from the process wiring
// in cli/start.ts so that tests can call both. It starts one engine per --model folder, serves them over HTTP
// and shuts down gracefully on Ctrl-C or SIGTERM.
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CliSpec, helpText, parseFlags, UsageError } from '@trm/core';
import { MAX_STEPS_PER_RUN } from '@trm/graph';
import { findRepoRoot } from '../arc/adapt-command.js';
import { Engine, type EngineOptions, GRAPH_CHOICES, type GraphChoice } from '../engine/engine.js';
import { deviceList, EXECUTION_PROVIDER_CHOICES, workerCount } from '../engine/providers.js';
import type { ExecutionProviderChoice, SolveEngine } from '../engine/types.js';
import { type WorkerEvent, workerEventLine } from '../engine/worker/worker-lane.js';
import { DEFAULT_BODY_LIMIT } from './app.js';
import { DEFAULT_VIEWS, MAX_VIEWS } from './schemas/solve-request.js';
import { serve } from './server.js';

/**
 * The model `start` serves without --model: the paper-size sudoku model trained on newspaper-difficulty puzzles
 * (99.3 % of them, 23.4 % of hard ones; 150-200 ms per step at batch 1 on two CPU cores). On a slow CPU,
 * `--model models/sudoku-newspaper-small-mlp` takes about 2 ms per step and solves 95.8 % of newspaper puzzles.
 */
export const DEFAULT_MODEL = 'sudoku-newspaper-mlp';

/**
 * The shipped sudoku model at the root of the repository that holds `moduleUrl`. Found by looking up for the
 * repository root rather than by a fixed relative path, because this module runs from two depths: from the sources
 * (packages/server/src/http/) and bundled into packages/server/dist/start.mjs. Outside a repository: models/ of
 * the working folder.
 */
export function defaultModelDir(moduleUrl: string = import.meta.url): string {
  const root = findRepoRoot(dirname(fileURLToPath(moduleUrl)));
  return root ? join(root, 'models', DEFAULT_MODEL) : resolve('models', DEFAULT_MODEL);
}

export const DEFAULT_MODEL_DIR = defaultModelDir();

export const startSpec: CliSpec = {
  usage: 'pnpm --filter @trm/server start',
  summary: `Serves TRM models over HTTP: POST /solve, POST /solve/stream (server-sent events), GET /models, /healthz,
/readyz, /metrics (Prometheus), /openapi.json, and the playground page at /. Ctrl-C or SIGTERM drains: new
requests get 503, requests in flight finish, then the process exits (0 after SIGTERM, 130 after Ctrl-C). A second
one shortens the drain: queued puzzles get 503 at once, puzzles in a batch still finish.`,
  flags: [
    {
      name: 'model',
      kind: 'path',
      multiple: true,
      value: 'DIR',
      help:
        'model folder with model.onnx, or with config.json and weights.safetensors, from which model.onnx is built at ' +
        'first load (default: models/sudoku-newspaper-mlp of the repository; on a slow CPU, ' +
        'models/sudoku-newspaper-small-mlp takes about 2 ms per step against 150-200 ms); several serve several ' +
        'models, the first is the default of a request',
    },
    { name: 'port', kind: 'int', min: 0, max: 65535, default: 8080, value: 'N', help: 'TCP port; 0 picks a free one' },
    {
      name: 'host',
      kind: 'string',
      default: '127.0.0.1',
      value: 'ADDR',
      help: 'address to bind; 0.0.0.0 for every interface',
    },
    {
      name: 'ep',
      kind: 'enum',
      choices: EXECUTION_PROVIDER_CHOICES,
      default: 'auto',
      value: 'NAME',
      help: `execution provider: ${EXECUTION_PROVIDER_CHOICES.join(', ')} (auto: cuda, then webgpu, then cpu)`,
    },
    {
      name: 'max-batch',
      kind: 'int',
      min: 1,
      value: 'N',
      help: "puzzles per batch in each worker (default: the engine's)",
    },
    {
      name: 'max-queue',
      kind: 'int',
      min: 0,
      value: 'N',
      help:
        "puzzles waiting for a batch slot before requests get 429 (default: the engine's, 1024);\n" +
        '0: no waiting, a puzzle is taken while a batch slot is free and gets 429 otherwise',
    },
    {
      name: 'max-wait-ms',
      kind: 'int',
      min: 0,
      value: 'N',
      help: "how long a batch waits to fill before it runs (default: the engine's)",
    },
    {
      name: 'queue-timeout',
      kind: 'int',
      min: 0,
      value: 'MS',
      help:
        'a request that waited this long for a batch slot gets 503 with Retry-After\n' +
        "(default: the engine's, 30000; 0: no limit)",
    },
    {
      name: 'workers',
      kind: 'string',
      value: 'N|auto',
      help:
        'inference worker threads, each with its own session and batch (default: 1, or one per --devices entry); ' +
        'auto on the CUDA provider: as many per device as fit in --gpu-memory-share of its free memory, measured ' +
        'after a warm-up batch of the first worker, at most --max-workers-per-gpu',
    },
    {
      name: 'gpu-memory-share',
      kind: 'number',
      min: 0,
      exclusiveMin: true,
      value: 'F',
      help: "with --workers auto: the share of each GPU's free memory at start the workers may take (default: 0.8)",
    },
    {
      name: 'max-workers-per-gpu',
      kind: 'int',
      min: 1,
      value: 'N',
      help: 'with --workers auto: the most workers one GPU gets (default: 2)',
    },
    {
      name: 'devices',
      kind: 'string',
      value: 'LIST',
      help:
        'CUDA devices to spread the workers over, e.g. 0,1,2,3: worker i runs on the i-th (round robin), and ' +
        '--workers defaults to one per device (default: 0)',
    },
    {
      name: 'steps-per-run',
      kind: 'int',
      min: 1,
      max: MAX_STEPS_PER_RUN,
      value: 'K',
      help:
        'supervision steps per run of the graph (an ONNX Loop of K steps, made at load): fewer runs and state ' +
        'transfers per puzzle, same answers; a puzzle that halts mid-run waits for the run to end (default: 4 on ' +
        'CUDA, where it measured faster, 1 on the other providers)',
    },
    {
      name: 'steps-when-queued',
      kind: 'int',
      min: 1,
      max: MAX_STEPS_PER_RUN,
      value: 'Q',
      help:
        'with --steps-per-run K: the most steps a run takes while puzzles wait for a batch slot (1..K), so slots ' +
        'freed by halting are refilled sooner under load; a lone puzzle still takes K per run (default: K)',
    },
    {
      name: 'graph',
      kind: 'enum',
      choices: GRAPH_CHOICES,
      default: 'auto',
      value: 'WHICH',
      help:
        "the step graph that runs: auto: on CUDA and WebGPU a float16 graph built at load from the folder's " +
        'weights.safetensors with the op forms measured fastest on a GPU, model.onnx on the CPU; file: always ' +
        'model.onnx; fp16: the built float16 graph on every provider',
    },
    {
      name: 'body-limit',
      kind: 'string',
      default: String(DEFAULT_BODY_LIMIT),
      value: 'SIZE',
      help: 'largest request body, bytes or e.g. 1mb',
    },
    {
      name: 'allowed-hosts',
      kind: 'string',
      value: 'LIST',
      help:
        'names accepted in the Host header besides localhost, IP addresses and the --host name, comma-separated; ' +
        '.example.com for a domain and its subdomains, * for any name. Other names get 403 (a guard against DNS ' +
        'rebinding). Default: none',
    },
    {
      name: 'views',
      kind: 'int',
      min: 1,
      max: MAX_VIEWS,
      default: DEFAULT_VIEWS,
      value: 'N',
      help:
        "copies of a sudoku or maze puzzle whose own answer still breaks the rules at the model's trained step: " +
        'N - 1 symmetric views of it join it and the first answer that follows the rules is taken (a maze has at ' +
        'most 8); a request may set its own `views`; 1 turns them off',
    },
    { name: 'log', kind: 'bool', help: 'one line per request on stderr' },
  ],
  examples: [
    'pnpm --filter @trm/server start',
    'pnpm --filter @trm/server start --model models/arc-simple-mini --port 9000 --ep cpu --max-batch 16 --log',
    'pnpm --filter @trm/server start --ep cuda --devices 0,1 --workers auto --max-batch 256 --steps-per-run 4',
  ],
};

export const START_USAGE = helpText(startSpec);

/** What the command sets of the engine's options; the rest keep the engine's defaults. */
export type EngineSettings = Pick<
  EngineOptions,
  | 'modelDir'
  | 'executionProvider'
  | 'maxBatch'
  | 'maxQueue'
  | 'maxWaitMs'
  | 'queueTimeoutMs'
  | 'workers'
  | 'gpuMemoryShare'
  | 'maxWorkersPerDevice'
  | 'devices'
  | 'stepsPerRun'
  | 'stepsWhenQueued'
  | 'graph'
  | 'onWorkerEvent'
  | 'onWarning'
  | 'onNote'
>;

export type StartCommand =
  | { kind: 'help' }
  | {
      kind: 'start';
      modelDirs: string[];
      port: number;
      host: string;
      engine: Omit<EngineSettings, 'modelDir' | 'onWorkerEvent' | 'onWarning' | 'onNote'>;
      bodyLimit: string | number;
      /** names accepted in Host besides localhost, IP addresses and the bind name */
      allowedHosts: string[];
      /** copies of a sudoku or maze puzzle by default (the request's `views`) */
      views: number;
      log: boolean;
    };

function bodyLimit(value: string): string | number {
  if (/^\d+$/.test(value)) return Number(value);
  if (/^\d+(\.\d+)?\s*(b|kb|mb|gb)$/i.test(value)) return value.toLowerCase();
  throw new UsageError(`--body-limit must be a byte count or a size like 512kb or 1mb (got ${JSON.stringify(value)})`);
}

function hostList(value: string | undefined): string[] {
  if (value === undefined) return [];
  const names = value.split(',').map((n) => n.trim());
  const bad = names.find((n) => !/^(\*|\.?[a-z0-9_.-]+|\[[0-9a-f:.]+\])$/i.test(n));
  if (bad !== undefined)
    throw new UsageError(
      `--allowed-hosts must be comma-separated host names, .domain or * (got ${JSON.stringify(bad)} in ${JSON.stringify(value)})`,
    );
  return names;
}

/** Parses the command line; relative --model folders are resolved against `cwd` (pnpm's INIT_CWD). */
export function parseStartArgs(argv: readonly string[], cwd: string): StartCommand {
  const { values: f, help } = parseFlags(argv, startSpec, cwd);
  if (help) return { kind: 'help' };
  const modelDirs = (f.model as string[] | undefined) ?? [DEFAULT_MODEL_DIR];
  const names = modelDirs.map((d) => basename(d));
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new UsageError(`--model: two folders are named ${twice}; a model's name is its folder's name`);
  const queued = f['steps-when-queued'] as number | undefined;
  const perRun = f['steps-per-run'] as number | undefined;
  if (queued !== undefined && perRun !== undefined && queued > perRun)
    throw new UsageError(`--steps-when-queued must be at most --steps-per-run (${perRun}) (got ${queued})`);
  const share = f['gpu-memory-share'] as number | undefined;
  if (share !== undefined && share > 1) throw new UsageError(`--gpu-memory-share must be at most 1 (got ${share})`);
  const host = f.host as string;
  if (host.trim() === '') throw new UsageError('--host must not be empty');
  return {
    kind: 'start',
    modelDirs,
    port: f.port as number,
    host,
    engine: {
      executionProvider: f.ep as ExecutionProviderChoice,
      maxBatch: f['max-batch'] as number | undefined,
      maxQueue: f['max-queue'] as number | undefined,
      maxWaitMs: f['max-wait-ms'] as number | undefined,
      queueTimeoutMs: f['queue-timeout'] as number | undefined,
      workers: workerCount(f.workers as string | undefined),
      gpuMemoryShare: f['gpu-memory-share'] as number | undefined,
      maxWorkersPerDevice: f['max-workers-per-gpu'] as number | undefined,
      stepsPerRun: f['steps-per-run'] as number | undefined,
      stepsWhenQueued: f['steps-when-queued'] as number | undefined,
      devices: deviceList(f.devices as string | undefined),
      graph: f.graph as GraphChoice,
    },
    bodyLimit: bodyLimit(f['body-limit'] as string),
    allowedHosts: hostList(f['allowed-hosts'] as string | undefined),
    views: f.views as number,
    log: f.log === true,
  };
}

/** How the command gets an engine for a model folder (the ONNX Runtime engine; tests pass a fake). */
export type StartEngine = (settings: EngineSettings) => Promise<SolveEngine>;

export interface StartIo {
  /** starts the graceful shutdown (the first Ctrl-C or SIGTERM) */
  signal?: AbortSignal;
  /** shortens it (a second one): queued puzzles get 503, puzzles in a batch finish */
  hurry?: AbortSignal;
  /** lifecycle and request lines (default stderr) */
  err?: (line: string) => void;
  startEngine?: StartEngine;
  /** called once the server listens (tests read the URL) */
  onListening?: (url: string) => void;
}

/** Starts the engines and the server; resolves after a graceful shutdown (`signal`: Ctrl-C or SIGTERM). */
export async function runStart(cmd: Extract<StartCommand, { kind: 'start' }>, io: StartIo = {}): Promise<void> {
  const err = io.err ?? ((line: string) => process.stderr.write(`${line}\n`));
  const startEngine = io.startEngine ?? ((settings: EngineSettings) => Engine.start(settings));
  const engines = new Map<string, SolveEngine>();
  try {
    for (const modelDir of cmd.modelDirs) {
      if (io.signal?.aborted) return;
      // Every worker death, replacement and failed replacement goes to the log with its reason.
      const name = basename(modelDir);
      const onWorkerEvent = (e: WorkerEvent) => err(workerEventLine(name, e));
      const onWarning = (message: string) => err(`model ${name}: warning: ${message}`);
      const onNote = (message: string) => err(`model ${name}: ${message}`);
      const engine = await startEngine({ modelDir, ...cmd.engine, onWorkerEvent, onWarning, onNote });
      engines.set(engine.info.name, engine);
    }
    if (io.signal?.aborted) return;
    const running = await serve(engines, {
      port: cmd.port,
      host: cmd.host,
      bodyLimit: cmd.bodyLimit,
      allowedHosts: cmd.allowedHosts,
      views: cmd.views,
      signal: io.signal,
      hurry: io.hurry,
      // runCommand owns SIGINT and SIGTERM and turns them into `signal` and `hurry`.
      signals: [],
      info: err,
      logError: err,
      ...(cmd.log ? { log: err } : {}),
    });
    for (const [name, e] of engines) {
      const i = e.info;
      const notes = i.providerNotes.length > 0 ? ` (${i.providerNotes.join('; ')})` : '';
      err(
        `model ${name}: ${i.task}, ${i.dtype} on ${i.executionProvider}${notes}, ${i.workers} worker(s) x batch ${i.maxBatch}` +
          (i.stepsPerRun > 1 ? `, ${i.stepsPerRun} steps per run` : '') +
          (i.stepsWhenQueued !== undefined ? ` (${i.stepsWhenQueued} while puzzles wait)` : ''),
      );
    }
    err(`listening on ${running.url} (playground at ${running.url}/, API at ${running.url}/openapi.json)`);
    io.onListening?.(running.url);
    await running.closed;
  } finally {
    // Engines that started before a failure (a port in use, a later model that did not load) must not keep
    // worker threads alive; drain() is a no-op for an engine that already drained.
    await Promise.allSettled([...engines.values()].map((e) => e.drain()));
  }
}
