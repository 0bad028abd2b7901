// The listening server: graceful shutdown (requests in flight finish, new work gets 503 while draining, the
// listener closes, the engines drain), the drain timeout, 429 on a full queue, and the signals that start it.
import { Agent } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeEngine } from '../testing/fake-engine.js';
import { type RunningServer, SERVER_TIMEOUTS, serve } from './server.js';
import { parseEventStream, type RawResponse, sendRequest } from '../testing/client.js';
import { SUDOKU_PUZZLE, SUDOKU_SOLUTION } from '../testing/fixtures.js';

const running: RunningServer[] = [];
const agents: Agent[] = [];

afterEach(async () => {
  for (const s of running.splice(0)) {
    s.server.closeAllConnections();
    await s.shutdown('test over');
  }
  for (const a of agents.splice(0)) a.destroy();
});

async function start(engine: FakeEngine, options: Parameters<typeof serve>[1] = {}) {
  const lines: string[] = [];
  const s = await serve(engine, { port: 0, signals: [], playgroundDir: null, info: (l) => lines.push(l), ...options });
  running.push(s);
  // a fresh connection per request: keep-alive would hide whether the listener still accepts
  const agent = new Agent({ keepAlive: false });
  agents.push(agent);
  const post = (path: string, body: unknown) =>
    sendRequest(agent, s.port, path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const get = (path: string) => sendRequest(agent, s.port, path);
  return { s, lines, post, get };
}

const slowSolve = { task: 'sudoku', grid: SUDOKU_PUZZLE, haltThreshold: 1, maxSteps: 3 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `cond` holds (a loaded 2-core machine makes fixed sleeps flaky). */
async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

describe('serve', () => {
  it('listens on the port and host it was given and reports its URL', async () => {
    const { s, get } = await start(new FakeEngine());
    expect(s.url).toBe(`http://127.0.0.1:${s.port}`);
    expect(s.port).toBeGreaterThan(0);
    expect((await get('/healthz')).status).toBe(200);
  });

  it('answers to the allowed names besides localhost and IP addresses, and refuses other Host names with 403', async () => {
    const { s } = await start(new FakeEngine(), { allowedHosts: ['trm.internal'] });
    const agent = new Agent({ keepAlive: false });
    agents.push(agent);
    const status = async (host: string) => (await sendRequest(agent, s.port, '/healthz', { headers: { host } })).status;
    expect(await status(`localhost:${s.port}`)).toBe(200);
    expect(await status(`127.0.0.1:${s.port}`)).toBe(200);
    expect(await status('trm.internal')).toBe(200);
    expect(await status('attacker.example')).toBe(403);
  });

  it('answers 408 and closes a connection whose request headers or body do not arrive in time', async () => {
    const engine = new FakeEngine({ stepDelayMs: 200 });
    const { s, post } = await start(engine, { timeouts: { headers: 200, request: 400 } });
    expect(s.server.headersTimeout).toBe(200);
    expect(s.server.requestTimeout).toBe(400);
    expect(s.server.keepAliveTimeout).toBe(SERVER_TIMEOUTS.keepAlive);
    const stalled = (text: string) =>
      new Promise<{ answer: string; ms: number }>((resolve, reject) => {
        const t0 = performance.now();
        let answer = '';
        const socket = connect(s.port, '127.0.0.1', () => socket.write(text));
        socket.on('data', (c: Buffer) => {
          answer += c;
        });
        socket.on('error', reject);
        socket.on('close', () => resolve({ answer, ms: performance.now() - t0 }));
      });
    // headers that never end, then a body that never ends
    const headers = await stalled('POST /solve HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n');
    expect(headers.answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(headers.ms).toBeLessThan(2_000);
    const body = await stalled(
      'POST /solve HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"task"',
    );
    expect(body.answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(body.ms).toBeGreaterThanOrEqual(350);
    // the request timeout covers receiving the request, not the answer: a 600 ms stream is not cut
    const stream = await post('/solve/stream', slowSolve);
    expect(parseEventStream(stream.text).map((e) => e.event)).toEqual(['step', 'step', 'step', 'done']);
    expect(SERVER_TIMEOUTS).toEqual({ headers: 60_000, request: 300_000, keepAlive: 5_000 });
  });

  it('finishes the requests in flight, refuses new connections, then drains the engines', async () => {
    const engine = new FakeEngine({ stepDelayMs: 100 });
    const { s, lines, post, get } = await start(engine);
    const t0 = performance.now();
    const inFlight = [post('/solve', slowSolve), post('/solve/stream', slowSolve), post('/solve', slowSolve)];
    await waitFor(() => engine.stats().activeSlots === 3, 'three puzzles in flight');
    const stopped = s.shutdown('test');
    expect(s.lifecycle.draining).toBe(true);
    await waitFor(() => !s.server.listening, 'the listener to close');
    await expect(get('/readyz')).rejects.toThrow(/ECONNREFUSED/);
    const answers: RawResponse[] = await Promise.all(inFlight);
    await stopped;
    const elapsed = performance.now() - t0;
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(JSON.parse(answers[0]!.text)).toMatchObject({ steps: 3, answer: SUDOKU_SOLUTION });
    expect(parseEventStream(answers[1]!.text).map((e) => e.event)).toEqual(['step', 'step', 'step', 'done']);
    expect(elapsed).toBeGreaterThanOrEqual(290); // three steps of 100 ms ran to the end
    expect(engine.ready()).toBe(false); // drained
    expect(s.server.listening).toBe(false);
    expect(lines).toEqual(['draining (test): /readyz answers 503, finishing the requests in flight', 'stopped']);
  });

  it('answers 503 to new work and /readyz while draining, and closes kept-alive connections', async () => {
    const engine = new FakeEngine({ stepDelayMs: 100 });
    const { s, post, get } = await start(engine, { drainDelayMs: 400 });
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    agents.push(keepAlive);
    expect((await sendRequest(keepAlive, s.port, '/healthz')).headers.connection).toBe('keep-alive');
    const inFlight = post('/solve', slowSolve);
    await waitFor(() => engine.stats().activeSlots === 1, 'the puzzle in flight');
    const stopped = s.shutdown('test');
    const ready = await get('/readyz');
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.text)).toMatchObject({ ready: false, draining: true });
    const refused = await post('/solve', slowSolve);
    expect(refused.status).toBe(503);
    expect(refused.headers.connection).toBe('close');
    expect(refused.headers['retry-after']).toBe('1');
    expect(JSON.parse(refused.text).error.message).toMatch(/shutting down/);
    expect((await get('/healthz')).status).toBe(200); // still alive while draining
    expect((await inFlight).status).toBe(200);
    await stopped;
    expect(s.server.listening).toBe(false);
    await waitFor(() => Object.values(keepAlive.freeSockets).flat().length === 0, 'the idle connection to close');
  });

  it('closes what is still open after the drain timeout', async () => {
    const engine = new FakeEngine({ stepDelayMs: 400 });
    const { s, lines, post } = await start(engine, { drainTimeoutMs: 150 });
    const stuck = post('/solve', { ...slowSolve, maxSteps: 2 }).then(
      () => null,
      (err: Error) => err,
    );
    await waitFor(() => engine.stats().activeSlots === 1, 'the puzzle in flight');
    const t0 = performance.now();
    await s.shutdown('test');
    expect((await stuck)?.message).toMatch(/socket hang up|ECONNRESET/);
    // the connection closed at the timeout, which aborted the puzzle (its step of 400 ms ends, then it stops)
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    expect(engine.received[0]!.signal!.aborted).toBe(true);
    expect(lines).toContain('requests still in flight after 150 ms: closing their connections');
  });

  it('answers 429 with Retry-After when the queue is full, and serves the queued puzzle', async () => {
    const engine = new FakeEngine({ stepDelayMs: 60, slots: 1, maxQueue: 1 });
    const { post, get } = await start(engine);
    const first = post('/solve', slowSolve);
    await waitFor(() => engine.stats().activeSlots === 1, 'the first puzzle in its slot');
    const second = post('/solve', slowSolve);
    await waitFor(() => engine.stats().queueDepth === 1, 'the second puzzle in the queue');
    expect(engine.stats()).toEqual({ queueDepth: 1, activeSlots: 1, totalSlots: 1 });
    const metrics = (await get('/metrics')).text.split('\n');
    expect(metrics).toContain('trm_engine_queue_depth{model="fake-sudoku"} 1');
    expect(metrics).toContain('trm_engine_batch_occupancy{model="fake-sudoku"} 1');
    const third = await post('/solve', slowSolve);
    expect(third.status).toBe(429);
    expect(third.headers['retry-after']).toBe('1');
    expect(JSON.parse(third.text)).toEqual({
      error: { status: 429, message: 'the queue is full (1 puzzles waiting); retry later' },
    });
    const [a, b] = await Promise.all([first, second]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(JSON.parse(b.text).timing.queueMs).toBeGreaterThan(100);
  });

  it('answers 503 with Retry-After to a request that waited longer than the queue timeout', async () => {
    const engine = new FakeEngine({ stepDelayMs: 100, slots: 1, queueTimeoutMs: 80 });
    const { post } = await start(engine);
    const first = post('/solve', slowSolve);
    await waitFor(() => engine.stats().activeSlots === 1, 'the first puzzle in its slot');
    const t0 = performance.now();
    const late = await post('/solve', slowSolve);
    expect(late.status).toBe(503);
    expect(late.headers['retry-after']).toBe('1');
    expect(JSON.parse(late.text).error.message).toBe(
      'the puzzle waited 80 ms for a batch slot without getting one (the queue timeout); retry later',
    );
    expect(performance.now() - t0).toBeLessThan(250); // not after the first puzzle's 300 ms
    expect((await first).status).toBe(200);
  });

  it('hurried: refuses the queued puzzles with 503 at once and still answers those in a slot', async () => {
    const engine = new FakeEngine({ stepDelayMs: 100, slots: 2 });
    const hurry = new AbortController();
    const { s, lines, post } = await start(engine, { hurry: hurry.signal });
    const all = Array.from({ length: 5 }, () => post('/solve', slowSolve));
    await waitFor(
      () => engine.stats().activeSlots === 2 && engine.stats().queueDepth === 3,
      'two running, three queued',
    );
    const stopped = s.shutdown('test');
    hurry.abort();
    const t0 = performance.now();
    const answers = await Promise.all(all);
    await stopped;
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 503, 503, 503]);
    for (const a of answers.filter((x) => x.status === 503)) {
      expect(a.headers['retry-after']).toBe('1');
      expect(JSON.parse(a.text).error.message).toBe('the server is shutting down; retry on another instance');
    }
    // the queued three did not wait for a slot: the drain took the running puzzles' three steps, not six
    expect(performance.now() - t0).toBeLessThan(550);
    expect(lines).toContain('stopping sooner (asked again): 3 queued puzzle(s) refused with 503, 2 in batches finish');
  });

  it('starts the shutdown on an abort signal and on the signals it was given', async () => {
    const controller = new AbortController();
    const { s } = await start(new FakeEngine(), { signal: controller.signal });
    controller.abort();
    await s.closed;
    expect(s.server.listening).toBe(false);

    const { s: s2, lines } = await start(new FakeEngine(), { signals: ['SIGUSR2'] });
    expect(process.listenerCount('SIGUSR2')).toBeGreaterThan(0);
    process.emit('SIGUSR2', 'SIGUSR2');
    await s2.closed;
    expect(lines[0]).toBe('draining (SIGUSR2): /readyz answers 503, finishing the requests in flight');
    expect(process.listenerCount('SIGUSR2')).toBe(0);
  });
});
