import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Batcher } from '../batcher.js';
import { type FakeStepOptions, fakeAnswer, fakeHaltStep } from '../../testing/fake-step.js';
import type { StepShape } from '../step/step-function.js';
import { EngineUnavailableError, type SolveRequest } from '../types.js';
import { type WorkerEvent, WorkerLane, type WorkerLaneOptions } from './worker-lane.js';

const shape: StepShape = { seqLen: 5, stateLen: 6, hidden: 2, puzzleEmbDim: 0, vocab: 8 };
const fakeUrl = new URL('../../testing/fake-step.ts', import.meta.url).href;
const tmp = mkdtempSync(join(tmpdir(), 'trm-lane-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function laneOptions(over: Partial<WorkerLaneOptions> = {}): WorkerLaneOptions {
  return { startTimeoutMs: 30_000, stepTimeoutMs: 10_000, restartAttempts: 2, ...over };
}
function start(index: number, fake: Partial<FakeStepOptions> = {}, over: Partial<WorkerLaneOptions> = {}) {
  return WorkerLane.start(
    index,
    { source: { kind: 'module', url: fakeUrl, options: { shape, ...fake } } },
    laneOptions(over),
  );
}
let n = 0;
function request(over: Partial<SolveRequest> = {}): SolveRequest {
  n++;
  const tokens = Uint8Array.from({ length: shape.seqLen }, (_, i) => (n * 7 + i * 3) % shape.vocab);
  return { tokens, maxSteps: 16, haltThreshold: 0.5, trace: false, ...over };
}
function expectAnswer(r: SolveRequest, got: { tokens: Uint8Array; steps: number }): void {
  const steps = Math.min(r.maxSteps, r.haltThreshold < 0.9 ? fakeHaltStep(r.tokens) : r.maxSteps);
  expect(got.steps).toBe(steps);
  expect(Array.from(got.tokens)).toEqual(Array.from(fakeAnswer(r.tokens, steps, shape.vocab)));
}

describe('WorkerLane', () => {
  it('runs the batcher over two worker threads with correct answers', async () => {
    const lanes = await Promise.all([start(0), start(1)]);
    expect(lanes[0]!.threadId).not.toBe(lanes[1]!.threadId);
    const b = new Batcher(lanes, { maxBatch: 4, maxQueue: 100, maxWaitMs: 1, seqLen: shape.seqLen });
    const rs = Array.from({ length: 40 }, (_, i) => request({ maxSteps: 1 + (i % 8) }));
    const got = await Promise.all(rs.map((r) => b.solve(r)));
    for (const [i, r] of rs.entries()) expectAnswer(r, got[i]!);
    await b.drain();
    await Promise.all(lanes.map((l) => l.close()));
  });

  it('a worker that exits mid-step fails its puzzles with EngineUnavailableError and is replaced', async () => {
    const events: WorkerEvent[] = [];
    const lane = await start(
      0,
      { exitAtCall: 3, exitMarker: join(tmp, 'exited-once') },
      { onWorkerEvent: (e) => events.push(e) },
    );
    const b = new Batcher([lane], { maxBatch: 2, maxQueue: 100, maxWaitMs: 0, seqLen: shape.seqLen });
    const t0 = performance.now();
    const inFlight = [b.solve(request({ haltThreshold: 1 })), b.solve(request({ haltThreshold: 1 }))];
    for (const p of inFlight) {
      const err = await p.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EngineUnavailableError);
      expect((err as Error).message).toContain('exit code 7');
    }
    expect(performance.now() - t0).toBeLessThan(5_000);
    const after = request({ maxSteps: 5, haltThreshold: 1 });
    expectAnswer(after, await b.solve(after));
    expect(events.map((e) => e.kind)).toEqual(['died', 'replaced']);
    await b.drain();
    await lane.close();
  });

  it('a killed worker fails its puzzles after its current step; a hung step fails at once', async () => {
    const lane = await start(0, { delayMs: 400 });
    const b = new Batcher([lane], { maxBatch: 2, maxQueue: 100, maxWaitMs: 0, seqLen: shape.seqLen });
    const p = b.solve(request({ haltThreshold: 1 }));
    await new Promise((r) => setTimeout(r, 100));
    const t0 = performance.now();
    lane.kill();
    await expect(p).rejects.toThrow('stopped on request');
    // at most the rest of the 400 ms step, plus slack for a loaded machine
    expect(performance.now() - t0).toBeLessThan(2_000);
    await lane.whenReady();
    await b.drain();
    await lane.close();

    // The step runs 2 s in the worker (blocking it, like session.run); the lane gives up after 300 ms without
    // waiting for it, and the abandoned thread exits once its step returns.
    const slow = await start(0, { delayMs: 2_000 }, { stepTimeoutMs: 300, restartAttempts: 1 });
    const b2 = new Batcher([slow], { maxBatch: 2, maxQueue: 100, maxWaitMs: 0, seqLen: shape.seqLen });
    const t1 = performance.now();
    await expect(b2.solve(request())).rejects.toThrow('a step took longer than 300 ms');
    expect(performance.now() - t1).toBeLessThan(1_500);
    await slow.whenReady();
    await slow.close();
  });

  it('retries a replacement that fails to start with backoff, reports itself broken, and recovers when fixed', async () => {
    const model = join(tmp, 'fake-model');
    writeFileSync(model, 'weights\n');
    const events: WorkerEvent[] = [];
    const lane = await start(
      0,
      { requireFile: model },
      { restartAttempts: 3, restartBackoffMs: 40, restartBackoffMaxMs: 160, onWorkerEvent: (e) => events.push(e) },
    );
    const b = new Batcher([lane], { maxBatch: 2, maxQueue: 100, maxWaitMs: 0, seqLen: shape.seqLen });
    rmSync(model); // the model file goes away, then the worker dies: no replacement can start
    lane.kill();
    const failures = () => events.filter((e) => e.kind === 'restart-failed');
    while (failures().length < 4) await new Promise((r) => setTimeout(r, 10));
    expect(events[0]).toEqual({ kind: 'died', lane: 0, reason: 'stopped on request' });
    expect(failures().map((e) => [e.attempt, e.retryInMs, e.broken])).toEqual([
      [1, 40, false],
      [2, 80, false],
      [3, 160, true],
      [4, 160, true],
    ]);
    expect(failures()[0]!.reason).toContain(`the fake model file ${model} is missing`);
    expect(lane.isReady()).toBe(false);
    expect(lane.health()).toMatchObject({ state: 'restarting', broken: true });
    expect(lane.health().lastError).toContain('is missing');
    // a puzzle that arrives meanwhile waits for the replacement
    const waiting = request({ maxSteps: 3, haltThreshold: 1 });
    const pWaiting = b.solve(waiting);
    writeFileSync(model, 'weights\n'); // fixed: the next attempt starts a worker
    await lane.whenReady();
    expect(events.at(-1)).toMatchObject({ kind: 'replaced', lane: 0 });
    expect(lane.health()).toEqual({ state: 'ready', failedRestarts: 0, broken: false, lastError: null });
    expectAnswer(waiting, await pWaiting);
    await b.drain();
    await lane.close();
  });

  it('closing a lane ends its wait for the next replacement attempt', async () => {
    const model = join(tmp, 'fake-model-2');
    writeFileSync(model, 'weights\n');
    const lane = await start(0, { requireFile: model }, { restartBackoffMs: 60_000 });
    rmSync(model);
    lane.kill();
    while (lane.health().failedRestarts === 0) await new Promise((r) => setTimeout(r, 10));
    const t0 = performance.now();
    await lane.close();
    await expect(lane.whenReady()).rejects.toThrow('the engine stopped');
    expect(performance.now() - t0).toBeLessThan(1_000);
  });

  it('reports a step function that cannot start', async () => {
    await expect(
      WorkerLane.start(
        0,
        { source: { kind: 'module', url: new URL('./no-such-module.ts', import.meta.url).href, options: {} } },
        laneOptions(),
      ),
    ).rejects.toThrow('no-such-module');
  });
});
