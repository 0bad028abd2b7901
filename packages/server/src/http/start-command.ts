// The `start` command (pnpm --filter @trm/server start): flag parsing and the run, apart from the process wiring
// in cli/start.ts so that tests can call both. It starts one engine per --model folder, serves them over HTTP
// and shuts down gracefully on Ctrl-C or SIGTERM.
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { UsageError } from '@trm/core';
import { findRepoRoot } from '../arc/adapt-command.js';
import { Engine, type EngineOptions } from '../engine/engine.js';
import type { ExecutionProviderChoice, SolveEngine } from '../engine/types.js';
import { type WorkerEvent, workerEventLine } from '../engine/worker/worker-lane.js';
import { DEFAULT_BODY_LIMIT } from './app.js';
import { serve } from './server.js';

/**
 * The shipped sudoku model at the root of the repository that holds `moduleUrl`. Found by looking up for the
 * repository root rather than by a fixed relative path, because this module runs from two depths: from the sources
 * (packages/server/src/http/) and bundled into packages/server/dist/start.mjs. Outside a repository: models/ of
 * the working folder.
 */
export function defaultModelDir(moduleUrl: string = import.meta.url): string {
  const root = findRepoRoot(dirname(fileURLToPath(moduleUrl)));
  return root ? join(root, 'models', 'sudoku-small-mlp') : resolve('models', 'sudoku-small-mlp');
}

export const DEFAULT_MODEL_DIR = defaultModelDir();
const EXECUTION_PROVIDERS: readonly ExecutionProviderChoice[] = ['auto', 'cuda', 'webgpu', 'cpu'];

export const START_USAGE = `Usage: pnpm --filter @trm/server start [--model <dir>] [--port 8080] [--host 127.0.0.1] [options]

Serves TRM models over HTTP: POST /solve, POST /solve/stream (server-sent events), GET /models, /healthz,
/readyz, /metrics (Prometheus), /openapi.json, and the playground page at /. Ctrl-C or SIGTERM drains: new
requests get 503, requests in flight finish, then the process exits (0 after SIGTERM, 130 after Ctrl-C). A second
one shortens the drain: queued puzzles get 503 at once, puzzles in a batch still finish.

Options:
  --model DIR        model folder with model.onnx (default: models/sudoku-small-mlp of the repository);
                     repeat to serve several models (the first is the default of a request)
  --port N           TCP port (default 8080; 0 picks a free one)
  --host ADDR        address to bind (default 127.0.0.1; 0.0.0.0 for every interface)
  --ep NAME          execution provider: auto, cuda, webgpu or cpu (default auto: cuda, then webgpu, then cpu)
  --max-batch N      puzzles per batch in each worker (default: the engine's)
  --max-queue N      puzzles waiting for a batch slot before requests get 429 (default: the engine's, 1024);
                     0: no waiting, a puzzle is taken while a batch slot is free and gets 429 otherwise
  --max-wait-ms N    how long a batch waits to fill before it runs (default: the engine's)
  --queue-timeout MS a request that waited this long for a batch slot gets 503 with Retry-After
                     (default: the engine's, 30000; 0: no limit)
  --workers N        inference worker threads (default: the engine's)
  --body-limit SIZE  largest request body, bytes or e.g. 1mb (default ${DEFAULT_BODY_LIMIT})
  --allowed-hosts LIST
                     names accepted in the Host header besides localhost, IP addresses and the --host
                     name, comma-separated; .example.com for a domain and its subdomains, * for any name.
                     Other names get 403 (a guard against DNS rebinding). Default: none
  --log              one line per request on stderr
  --help             this text

Examples:
  pnpm --filter @trm/server start
  pnpm --filter @trm/server start --model models/arc-simple-mini --port 9000 --ep cpu --max-batch 16 --log
`;

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
  | 'onWorkerEvent'
  | 'onWarning'
>;

export type StartCommand =
  | { kind: 'help' }
  | {
      kind: 'start';
      modelDirs: string[];
      port: number;
      host: string;
      engine: Omit<EngineSettings, 'modelDir' | 'onWorkerEvent' | 'onWarning'>;
      bodyLimit: string | number;
      /** names accepted in Host besides localhost, IP addresses and the bind name */
      allowedHosts: string[];
      log: boolean;
    };

function integer(
  flag: string,
  value: string | undefined,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `${min}..${max}`;
    throw new UsageError(`--${flag} must be an integer ${range} (got ${JSON.stringify(value)})`);
  }
  return Number(value);
}

function bodyLimit(value: string | undefined): string | number {
  if (value === undefined) return DEFAULT_BODY_LIMIT;
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
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        model: { type: 'string', multiple: true },
        port: { type: 'string' },
        host: { type: 'string' },
        ep: { type: 'string' },
        'max-batch': { type: 'string' },
        'max-queue': { type: 'string' },
        'max-wait-ms': { type: 'string' },
        'queue-timeout': { type: 'string' },
        workers: { type: 'string' },
        'body-limit': { type: 'string' },
        'allowed-hosts': { type: 'string' },
        log: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return { kind: 'help' };
  const str = (k: string) => values[k] as string | undefined;
  const ep = (str('ep') ?? 'auto') as ExecutionProviderChoice;
  if (!EXECUTION_PROVIDERS.includes(ep))
    throw new UsageError(`--ep must be one of ${EXECUTION_PROVIDERS.join(', ')} (got ${JSON.stringify(str('ep'))})`);
  const modelDirs = ((values.model as string[] | undefined) ?? [DEFAULT_MODEL_DIR]).map((d) => resolve(cwd, d));
  const names = modelDirs.map((d) => basename(d));
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new UsageError(`--model: two folders are named ${twice}; a model's name is its folder's name`);
  const host = str('host') ?? '127.0.0.1';
  if (host.trim() === '') throw new UsageError('--host must not be empty');
  return {
    kind: 'start',
    modelDirs,
    port: integer('port', str('port'), 0, 65535) ?? 8080,
    host,
    engine: {
      executionProvider: ep,
      maxBatch: integer('max-batch', str('max-batch'), 1),
      maxQueue: integer('max-queue', str('max-queue'), 0),
      maxWaitMs: integer('max-wait-ms', str('max-wait-ms'), 0),
      queueTimeoutMs: integer('queue-timeout', str('queue-timeout'), 0),
      workers: integer('workers', str('workers'), 1),
    },
    bodyLimit: bodyLimit(str('body-limit')),
    allowedHosts: hostList(str('allowed-hosts')),
    log: values.log === true,
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
      const engine = await startEngine({ modelDir, ...cmd.engine, onWorkerEvent, onWarning });
      engines.set(engine.info.name, engine);
    }
    if (io.signal?.aborted) return;
    const running = await serve(engines, {
      port: cmd.port,
      host: cmd.host,
      bodyLimit: cmd.bodyLimit,
      allowedHosts: cmd.allowedHosts,
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
        `model ${name}: ${i.task}, ${i.dtype} on ${i.executionProvider}${notes}, ${i.workers} worker(s) x batch ${i.maxBatch}`,
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
