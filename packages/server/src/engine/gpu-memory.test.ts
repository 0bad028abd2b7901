import { describe, expect, it } from 'vitest';
import { FakeStepFunction } from '../testing/fake-step.js';
import type { Lane } from './batcher.js';
import {
  autoWorkers,
  DEVICE_MEMORY_QUERY,
  type GpuQuery,
  laneDevices,
  PROCESS_MEMORY_QUERY,
  parseGpuMemory,
  parseProcessGpuMemory,
  workersFromFreeMemory,
} from './gpu-memory.js';
import type { StepPlan, StepResult } from './step/plan.js';
import type { StepShape } from './step/step-function.js';
import { StepRunner } from './step/step-runner.js';

const SMI = '0, 120000, 143771\n1, 30000, 143771\n';

describe('reading nvidia-smi', () => {
  it('reads the free and total memory of every device', () => {
    expect(parseGpuMemory(SMI)).toEqual([
      { index: 0, freeMiB: 120000, totalMiB: 143771 },
      { index: 1, freeMiB: 30000, totalMiB: 143771 },
    ]);
    expect(parseGpuMemory('')).toEqual([]);
  });

  it('refuses lines it cannot read, quoting them', () => {
    expect(() => parseGpuMemory('0, [N/A], 80000')).toThrow(/"0, \[N\/A\], 80000"/);
    expect(() => parseGpuMemory('0, 90000, 80000')).toThrow(/index, free MiB, total MiB/);
  });

  it("sums this process's memory over devices, null when it is not listed", () => {
    expect(parseProcessGpuMemory('123, 900\n456, 4000\n123, 100\n', 123)).toBe(1000);
    expect(parseProcessGpuMemory('456, 4000\n', 123)).toBeNull();
    expect(parseProcessGpuMemory('', 123)).toBeNull();
  });
});

describe('workers from free memory', () => {
  const free = parseGpuMemory(SMI);

  it('fits floor(share x free / cost) per device, at least one and at most the cap', () => {
    expect(workersFromFreeMemory([0, 1], free, 20000, 0.8, 8).perDevice).toEqual([4, 1]);
    expect(workersFromFreeMemory([0, 1], free, 20000, 0.8, 2).perDevice).toEqual([2, 1]);
    expect(workersFromFreeMemory([1], free, 50000, 0.5, 4).perDevice).toEqual([1]);
    const r = workersFromFreeMemory([0], free, 1500.4, 0.8, 2);
    expect(r.reason).toBe(
      '80 % of the free memory at 1501 MiB per worker, at most 2 per device: device 0: 2 (120000 of 143771 MiB free)',
    );
  });

  it('names a device nvidia-smi does not list and bad settings', () => {
    expect(() => workersFromFreeMemory([2], free, 100, 0.8, 2)).toThrow(
      'CUDA device 2 is not among those nvidia-smi lists (0, 1)',
    );
    expect(() => workersFromFreeMemory([0], free, 100, 0, 2)).toThrow('gpuMemoryShare must be in (0, 1] (got 0)');
    expect(() => workersFromFreeMemory([0], free, 100, 0.5, 0)).toThrow(/maxWorkersPerDevice/);
  });

  it('spreads the workers round robin with worker 0 on the first device', () => {
    expect(laneDevices([3, 1], [2, 1])).toEqual([3, 1, 3]);
    expect(laneDevices([0, 1], [1, 3])).toEqual([0, 1, 1, 1]);
    expect(laneDevices([0], [1])).toEqual([0]);
  });
});

const shape: StepShape = { seqLen: 6, stateLen: 7, hidden: 2, puzzleEmbDim: 2, vocab: 9 };

/** A lane over the fake model that records the batches it was given. */
class CountingLane implements Lane {
  readonly layout = 'fixed' as const;
  readonly rows: number[] = [];
  private readonly runner = new StepRunner(new FakeStepFunction({ shape, layout: 'fixed' }) as never);
  step(plan: StepPlan): Promise<StepResult> {
    this.rows.push(plan.rows.filter((r) => r.kind === 'start').length);
    return this.runner.step(plan);
  }
  whenReady(): Promise<void> {
    return Promise.resolve();
  }
  isReady(): boolean {
    return true;
  }
}

describe('autoWorkers', () => {
  const settings = { devices: [0, 1], share: 0.8, maxPerDevice: 4, maxBatch: 5, seqLen: shape.seqLen };
  const smi =
    (apps: string | null): GpuQuery =>
    (args) =>
      args[0] === DEVICE_MEMORY_QUERY[0] ? SMI : args[0] === PROCESS_MEMORY_QUERY[0] ? apps : null;

  it('on CUDA: one warm-up step at the full batch, then what the process holds is the cost of a worker', async () => {
    const lane = new CountingLane();
    const plan = await autoWorkers(lane, {
      ...settings,
      provider: 'cuda',
      freeBefore: SMI,
      gpuQuery: smi(`${process.pid}, 30000\n`),
    });
    expect(lane.rows).toEqual([5]);
    expect(plan.lanes).toEqual([0, 1, 0, 0]);
    expect(plan.note).toMatch(/^workers auto: 80 % of the free memory at 30000 MiB per worker/);
  });

  it('one worker elsewhere, and one per device when the memory cannot be read', async () => {
    const lane = new CountingLane();
    const cpu = await autoWorkers(lane, { ...settings, provider: 'cpu', freeBefore: null, gpuQuery: smi(null) });
    expect(cpu).toEqual({ lanes: [0], note: 'workers auto: 1 (the cpu provider)' });
    expect(lane.rows).toEqual([]);
    const noSmi = await autoWorkers(lane, { ...settings, provider: 'cuda', freeBefore: null, gpuQuery: smi(null) });
    expect(noSmi.lanes).toEqual([0]);
    expect(noSmi.note).toMatch(/nvidia-smi could not be run/);
    // nvidia-smi hides the process (a container): the first device's loss of free memory is the cost
    const after = '0, 90000, 143771\n1, 30000, 143771\n';
    const hiddenQuery: GpuQuery = (args) => (args[0] === DEVICE_MEMORY_QUERY[0] ? after : '1, 5\n');
    const hidden = await autoWorkers(lane, { ...settings, provider: 'cuda', freeBefore: SMI, gpuQuery: hiddenQuery });
    expect(hidden.lanes).toEqual([0, 1, 0, 0]);
    expect(hidden.note).toMatch(/at 30000 MiB per worker/);
    // neither: one per device
    const unknown = await autoWorkers(lane, {
      ...settings,
      provider: 'cuda',
      freeBefore: SMI,
      gpuQuery: smi('1, 5\n'),
    });
    expect(unknown.lanes).toEqual([0, 1]);
    expect(unknown.note).toMatch(/could not be read/);
  });
});
