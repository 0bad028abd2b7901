// The start command: flags (defaults, every option, the errors that name the flag), and a run with fake engines
// that serves them, logs its startup line, shuts down on the abort signal and drains what it started.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError } from '@trm/core';
import { describe, expect, it } from 'vitest';
import type { SolveEngine } from '../engine/types.js';
import { FakeEngine } from '../testing/fake-engine.js';
import {
  DEFAULT_MODEL_DIR,
  defaultModelDir,
  type EngineSettings,
  parseStartArgs,
  runStart,
  START_USAGE,
  type StartCommand,
} from './start-command.js';

const parse = (...argv: string[]) => parseStartArgs(argv, '/work/here');

function usageError(argv: string[]): string {
  try {
    parse(...argv);
  } catch (err) {
    if (err instanceof UsageError) return err.message;
    throw err;
  }
  throw new Error('expected a UsageError');
}

describe('defaultModelDir', () => {
  const root = resolve(import.meta.dirname, '../../../..');
  const shipped = join(root, 'models', 'sudoku-newspaper-mlp');

  it('is models/sudoku-newspaper-mlp of the repository, from the sources and from the bundle', () => {
    expect(defaultModelDir(import.meta.url)).toBe(shipped);
    expect(defaultModelDir(pathToFileURL(join(root, 'packages/server/src/http/start-command.ts')).href)).toBe(shipped);
    // pnpm build writes the start command to packages/server/dist/start.mjs, two folders higher up than the sources.
    expect(defaultModelDir(pathToFileURL(join(root, 'packages/server/dist/start.mjs')).href)).toBe(shipped);
  });

  it('is models/sudoku-newspaper-mlp of the working folder outside a repository', () => {
    const away = mkdtempSync(join(tmpdir(), 'trm-no-repo-'));
    try {
      expect(defaultModelDir(pathToFileURL(join(away, 'dist', 'start.mjs')).href)).toBe(
        resolve('models', 'sudoku-newspaper-mlp'),
      );
    } finally {
      rmSync(away, { recursive: true, force: true });
    }
  });
});

describe('parseStartArgs', () => {
  it('defaults to the shipped sudoku model on 127.0.0.1:8080 with auto', () => {
    expect(parse()).toEqual({
      kind: 'start',
      modelDirs: [DEFAULT_MODEL_DIR],
      port: 8080,
      host: '127.0.0.1',
      engine: {
        executionProvider: 'auto',
        maxBatch: undefined,
        maxQueue: undefined,
        maxWaitMs: undefined,
        queueTimeoutMs: undefined,
        workers: undefined,
        graph: 'auto',
      },
      bodyLimit: '1mb',
      allowedHosts: [],
      views: 16,
      log: false,
    });
    expect(DEFAULT_MODEL_DIR).toBe(resolve(import.meta.dirname, '../../../../models/sudoku-newspaper-mlp'));
    expect(parse('--help')).toEqual({ kind: 'help' });
    expect(parse('-h')).toEqual({ kind: 'help' });
  });

  it('reads every flag; --model is repeatable and relative to the folder pnpm ran in', () => {
    const cmd = parse(
      ...['--model', 'models/a', '--model', '/abs/b', '--port', '0', '--host', '0.0.0.0', '--ep', 'cpu'],
      ...['--max-batch', '16', '--max-queue', '0', '--max-wait-ms', '5', '--queue-timeout', '2500', '--workers', '2'],
      ...['--steps-per-run', '4', '--steps-when-queued', '2', '--devices', '0, 2', '--graph', 'file'],
      ...['--body-limit', '512KB', '--allowed-hosts', 'trm.example.com, .lan,[fd00::1]', '--views', '4', '--log'],
    );
    expect(cmd).toEqual({
      kind: 'start',
      modelDirs: ['/work/here/models/a', '/abs/b'],
      port: 0,
      host: '0.0.0.0',
      engine: {
        executionProvider: 'cpu',
        maxBatch: 16,
        maxQueue: 0,
        maxWaitMs: 5,
        queueTimeoutMs: 2500,
        workers: 2,
        stepsPerRun: 4,
        stepsWhenQueued: 2,
        devices: [0, 2],
        graph: 'file',
      },
      bodyLimit: '512kb',
      allowedHosts: ['trm.example.com', '.lan', '[fd00::1]'],
      views: 4,
      log: true,
    } satisfies StartCommand);
    expect(usageError(['--views', '17'])).toBe('--views must be an integer 1..16 (got "17")');
    expect((parse('--body-limit', '2048') as { bodyLimit: unknown }).bodyLimit).toBe(2048);
  });

  it('--workers auto takes a share of the free GPU memory', () => {
    const cmd = parse('--workers', 'auto', '--gpu-memory-share', '0.5', '--max-workers-per-gpu', '3') as {
      engine: object;
    };
    expect(cmd.engine).toMatchObject({ workers: 'auto', gpuMemoryShare: 0.5, maxWorkersPerDevice: 3 });
    expect(START_USAGE).toMatch(/--workers N\|auto/);
  });

  it('--help says what --max-queue 0 means and documents --queue-timeout', () => {
    expect(START_USAGE).toMatch(/--max-queue N .*\n\s+0: no waiting, a puzzle is taken while a batch slot is free/);
    expect(START_USAGE).toMatch(
      /--queue-timeout MS .* gets 503 with Retry-After\n\s+\(default: the engine's, 30000; 0: no limit\)/,
    );
    expect(usageError(['--queue-timeout=1.5'])).toBe('--queue-timeout must be an integer >= 0 (got "1.5")');
  });

  it('names the bad flag and what it expects', () => {
    expect(usageError(['--ep', 'tpu'])).toBe('--ep must be one of auto, cuda, webgpu, cpu (got "tpu")');
    expect(usageError(['--graph', 'bf16'])).toBe('--graph must be one of auto, file, fp16 (got "bf16")');
    expect(usageError(['--port', '70000'])).toBe('--port must be an integer 0..65535 (got "70000")');
    expect(usageError(['--max-batch', '0'])).toBe('--max-batch must be an integer >= 1 (got "0")');
    expect(usageError(['--workers', '1.5'])).toBe('--workers must be an integer >= 1 or auto (got "1.5")');
    expect(usageError(['--workers', '0'])).toBe('--workers must be an integer >= 1 or auto (got "0")');
    expect(usageError(['--gpu-memory-share', '0'])).toMatch(/^--gpu-memory-share must be a number > 0/);
    expect(usageError(['--gpu-memory-share', '1.5'])).toBe('--gpu-memory-share must be at most 1 (got 1.5)');
    expect(usageError(['--steps-per-run', '1', '--steps-when-queued', '2'])).toBe(
      '--steps-when-queued must be at most --steps-per-run (1) (got 2)',
    );
    expect(usageError(['--max-workers-per-gpu', '0'])).toBe('--max-workers-per-gpu must be an integer >= 1 (got "0")');
    expect(usageError(['--steps-per-run', '65'])).toMatch(/--steps-per-run .*65/);
    expect(usageError(['--devices', '0,x'])).toBe(
      '--devices must be a comma-separated list of device numbers such as 0,1 (got "0,x")',
    );
    expect(usageError(['--devices', '1,1'])).toBe('--devices names a device twice (got "1,1")');
    expect(usageError(['--body-limit', 'lots'])).toBe(
      '--body-limit must be a byte count or a size like 512kb or 1mb (got "lots")',
    );
    expect(usageError(['--model', 'a/m', '--model', 'b/m'])).toBe(
      "--model: two folders are named m; a model's name is its folder's name",
    );
    expect(usageError(['--allowed-hosts', 'a.com,http://b.com'])).toBe(
      '--allowed-hosts must be comma-separated host names, .domain or * (got "http://b.com" in "a.com,http://b.com")',
    );
    expect(usageError(['--bogus'])).toMatch(/^unknown flag --bogus \(known: --model, --port, /);
    expect(usageError(['extra'])).toMatch(/^unexpected argument "extra"/);
  });
});

describe('runStart', () => {
  it('starts an engine per model, serves them, and drains them on the abort signal', async () => {
    const settings: EngineSettings[] = [];
    const engines: FakeEngine[] = [];
    const startEngine = async (s: EngineSettings): Promise<SolveEngine> => {
      settings.push(s);
      const e = new FakeEngine({ task: engines.length === 0 ? 'sudoku' : 'maze', name: s.modelDir.split('/').at(-1) });
      engines.push(e);
      return e;
    };
    const cmd = parse('--model', 'm/sudoku-x', '--model', 'm/maze-y', '--port', '0', '--max-batch', '4', '--log');
    if (cmd.kind !== 'start') throw new Error('expected a start command');
    const lines: string[] = [];
    const controller = new AbortController();
    let url = '';
    const done = runStart(cmd, {
      signal: controller.signal,
      err: (l) => lines.push(l),
      startEngine,
      onListening: (u) => {
        url = u;
      },
    });
    while (url === '') await new Promise((r) => setTimeout(r, 5));
    const models = (await (await fetch(`${url}/models`)).json()) as { models: { name: string }[] };
    expect(models.models.map((m) => m.name)).toEqual(['sudoku-x', 'maze-y']);
    controller.abort();
    await done;
    expect(settings).toEqual([
      {
        modelDir: '/work/here/m/sudoku-x',
        executionProvider: 'auto',
        maxBatch: 4,
        maxQueue: undefined,
        maxWaitMs: undefined,
        queueTimeoutMs: undefined,
        workers: undefined,
        graph: 'auto',
        onWorkerEvent: expect.any(Function),
        onWarning: expect.any(Function),
        onNote: expect.any(Function),
      },
      {
        modelDir: '/work/here/m/maze-y',
        executionProvider: 'auto',
        maxBatch: 4,
        maxQueue: undefined,
        maxWaitMs: undefined,
        queueTimeoutMs: undefined,
        workers: undefined,
        graph: 'auto',
        onWorkerEvent: expect.any(Function),
        onWarning: expect.any(Function),
        onNote: expect.any(Function),
      },
    ]);
    expect(engines.map((e) => e.ready())).toEqual([false, false]);
    expect(lines[0]).toBe('model sudoku-x: sudoku, fp32 on cpu (fake engine: no ONNX Runtime), 1 worker(s) x batch 8');
    expect(lines[2]).toBe(`listening on ${url} (playground at ${url}/, API at ${url}/openapi.json)`);
    expect(lines).toContain(`GET /models 200 ${lines.find((l) => l.startsWith('GET /models'))!.split(' ')[3]} ms`);
    expect(lines.at(-1)).toBe('stopped');
    // worker deaths, replacements and failed replacements are logged with the model, the worker and the reason
    settings[1]!.onWorkerEvent!({ kind: 'died', lane: 0, reason: 'exit code 1' });
    settings[1]!.onWorkerEvent!({
      kind: 'restart-failed',
      lane: 0,
      attempt: 5,
      reason: 'model.onnx is not a readable ONNX model',
      retryInMs: 8000,
      broken: true,
    });
    settings[1]!.onWorkerEvent!({ kind: 'replaced', lane: 0, ms: 31_234.5, attempts: 6 });
    expect(lines.slice(-3)).toEqual([
      'model maze-y: inference worker 0 stopped (exit code 1); starting a replacement',
      'model maze-y: inference worker 0 could not be restarted (attempt 5: model.onnx is not a readable ONNX model); ' +
        'next attempt in 8.0 s; the model reports itself broken (/healthz answers 503) until a replacement starts',
      'model maze-y: inference worker 0 replaced in 31235 ms (attempt 6)',
    ]);
    settings[0]!.onWarning!('model.onnx records no checksum of its weights');
    expect(lines.at(-1)).toBe('model sudoku-x: warning: model.onnx records no checksum of its weights');
  });

  it('drains the engines it started when a later one fails to start', async () => {
    const first = new FakeEngine({ name: 'ok' });
    const cmd = parse('--model', 'ok', '--model', 'broken', '--port', '0');
    if (cmd.kind !== 'start') throw new Error('expected a start command');
    const startEngine = async (s: EngineSettings): Promise<SolveEngine> => {
      if (s.modelDir.endsWith('broken')) throw new Error('broken is not a model folder: config.json is missing');
      return first;
    };
    await expect(runStart(cmd, { startEngine, err: () => {} })).rejects.toThrow('config.json is missing');
    expect(first.ready()).toBe(false);
  });
});
