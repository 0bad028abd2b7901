// The `start` command as a process, stopped by real signals while it serves the shipped CPU sudoku model
// (models/sudoku-newspaper-small-mlp: a batch of 16 puzzles runs its 16 steps well within the 30-s drain limit on two
// cores, where the default paper-size model's would not):
// SIGTERM drains and exits 0, a second SIGTERM shortens the drain (queued puzzles get 503, those in a batch still
// get their answer) and never kills the process under a running step; Ctrl-C exits 130 after the drain.
import { type ChildProcess, spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { SUDOKU_PUZZLE } from '@trm/server/testing';
import { afterEach, describe, expect, it } from 'vitest';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The sources of the `start` command, as the server package exports them. */
const START = createRequire(import.meta.url).resolve('@trm/server/cli/start');
const SMALL_MODEL = fileURLToPath(new URL('../models/sudoku-newspaper-small-mlp', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Server {
  child: ChildProcess;
  port: number;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const started: ChildProcess[] = [];
afterEach(() => {
  for (const c of started.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

async function startServer(...flags: string[]): Promise<Server> {
  const args = ['--import', 'tsx', START, '--model', SMALL_MODEL, '--port', '0', '--ep', 'cpu', ...flags];
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  started.push(child);
  let err = '';
  child.stderr!.on('data', (c: Buffer) => {
    err += c;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on('exit', (code, signal) => r({ code, signal })),
  );
  const t0 = performance.now();
  let port = 0;
  while (port === 0) {
    const m = err.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
    if (m) port = Number(m[1]);
    else if (child.exitCode !== null) throw new Error(`the server exited at start: ${err}`);
    else if (performance.now() - t0 > 60_000) throw new Error(`the server did not start: ${err}`);
    else await sleep(20);
  }
  return { child, port, stderr: () => err, exited };
}

interface Answer {
  status: number | string;
  retryAfter?: string;
  message?: string;
}

/** POST /solve on a connection of its own; a connection that breaks is the error code instead of a status. */
function solve(port: number, agent: Agent, body: object): Promise<Answer> {
  const text = JSON.stringify(body);
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/solve',
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: res.headers['retry-after'],
            message: parsed.error?.message,
          });
        });
        res.on('error', (e: NodeJS.ErrnoException) => resolve({ status: e.code ?? e.message }));
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ status: e.code ?? e.message }));
    req.end(text);
  });
}

/** The puzzles the engine holds (queued and in a batch), from /metrics. */
async function puzzlesHeld(port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  const text = await res.text();
  const gauge = (name: string) => Number(text.match(new RegExp(`^${name}\\{[^}]*\\} (\\d+)`, 'm'))?.[1] ?? 0);
  return gauge('trm_engine_queue_depth') + gauge('trm_engine_active_slots');
}

const slow = { task: 'sudoku', grid: SUDOKU_PUZZLE, maxSteps: 16, haltThreshold: 1 };

describe('the start command stopped by signals', () => {
  it('a second SIGTERM refuses the queue with 503, lets the batch finish, and the process exits 0', async () => {
    const s = await startServer('--max-batch', '16');
    const agent = new Agent({ keepAlive: false, maxSockets: 1000 });
    const answers = Promise.all(Array.from({ length: 200 }, () => solve(s.port, agent, slow)));
    const t0 = performance.now();
    while ((await puzzlesHeld(s.port)) < 200) {
      if (performance.now() - t0 > 30_000) throw new Error('the 200 puzzles never reached the engine');
      await sleep(20);
    }
    s.child.kill('SIGTERM');
    await sleep(1500); // past the window in which a second signal counts as the first one delivered twice
    s.child.kill('SIGTERM');
    const { code, signal } = await s.exited;
    const got = await answers;
    agent.destroy();
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(s.stderr()).not.toContain('terminate called');
    // Every request got an answer: those in a batch their solution, the queued ones 503 with Retry-After.
    const statuses = got.map((a) => a.status);
    expect(statuses.filter((x) => x !== 200 && x !== 503)).toEqual([]);
    expect(statuses.filter((x) => x === 200).length).toBeGreaterThanOrEqual(16);
    for (const a of got.filter((x) => x.status === 503)) {
      expect(a.retryAfter).toBe('1');
      expect(a.message).toMatch(/shutting down/);
    }
    expect(s.stderr()).toMatch(/stopping sooner \(asked again\): \d+ queued puzzle\(s\) refused with 503/);
    expect(s.stderr()).toMatch(/stopped\n/);
  }, 120_000);

  it('Ctrl-C drains the puzzles in flight and exits 130', async () => {
    const s = await startServer();
    const agent = new Agent({ keepAlive: false });
    const answers = Promise.all(Array.from({ length: 4 }, () => solve(s.port, agent, slow)));
    while ((await puzzlesHeld(s.port)) < 4) await sleep(20);
    s.child.kill('SIGINT');
    const { code } = await s.exited;
    agent.destroy();
    expect(code).toBe(130);
    expect((await answers).map((a) => a.status)).toEqual([200, 200, 200, 200]);
  }, 120_000);
});
