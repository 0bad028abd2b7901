// The end of a server process: a worker that close() let go in the middle of a step (a step longer than close()
// waits) is still a live thread, and workerThreadsExited holds the process until that step has returned and the
// thread has exited, which is what `start` waits for before it ends. In a file of its own: the count is of every
// inference worker of the process.
import { describe, expect, it } from 'vitest';
import { Batcher } from '../batcher.js';
import type { StepShape } from '../step/step-function.js';
import { WorkerLane, workerThreadsExited } from './worker-lane.js';

const shape: StepShape = { seqLen: 5, stateLen: 6, hidden: 2, puzzleEmbDim: 0, vocab: 8 };
const fakeUrl = new URL('../../testing/fake-step.ts', import.meta.url).href;
const STEP_MS = 1_500;

describe('workerThreadsExited', () => {
  it('is true at once without workers, and waits for a worker let go mid-step until its step returns', async () => {
    expect(await workerThreadsExited(0)).toBe(true);
    const lane = await WorkerLane.start(
      0,
      { source: { kind: 'module', url: fakeUrl, options: { shape, delayMs: STEP_MS } } },
      { startTimeoutMs: 30_000, stepTimeoutMs: 30_000, restartAttempts: 1, closeTimeoutMs: 100 },
    );
    const b = new Batcher([lane], { maxBatch: 1, maxQueue: 10, maxWaitMs: 0, seqLen: shape.seqLen });
    const answer = b.solve({ tokens: Uint8Array.of(1, 2, 3, 4, 5), maxSteps: 1, haltThreshold: 1, trace: false });
    answer.catch(() => {});
    await new Promise((r) => setTimeout(r, 300)); // the worker is inside its step (a busy wait, like session.run)
    const t0 = performance.now();
    await lane.close();
    // close() waited 100 ms, then let the worker go: it is still inside the step, and must not be cut short.
    expect(performance.now() - t0).toBeLessThan(STEP_MS - 300);
    expect(await workerThreadsExited(50)).toBe(false);
    expect(await workerThreadsExited(30_000)).toBe(true);
    // it ended only after the rest of the step (about STEP_MS - 300 ms after close() began)
    expect(performance.now() - t0).toBeGreaterThan(STEP_MS - 500);
    expect(await workerThreadsExited(0)).toBe(true);
  }, 60_000);
});
