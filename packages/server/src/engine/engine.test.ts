// End to end on ONNX Runtime's CPU provider: a small model with random weights is exported to a model folder, served
// by the engine with continuous batching over two workers, and every answer must equal the exporter's plain
// reference loop (all puzzles in one batch, no row ever moves).
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getPreset, type ModelConfig, Rng, writeWeights } from '@trm/core';
import { createCpuSession, exportStepGraph, randomWeights } from '@trm/exporter';
import { type LoopAnswer, referenceLoop } from '@trm/exporter/testing';
import { METADATA_KEYS, withoutMetadata } from '@trm/graph';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from './engine.js';
import { EngineUnavailableError, type SolveRequest, type SolveResult } from './types.js';
import { initializerData } from './weights-checksum.js';
import type { WorkerEvent } from './worker/worker-lane.js';

const dir = mkdtempSync(join(tmpdir(), 'trm-engine-'));
const config: ModelConfig = { ...getPreset('test-micro').model, num_puzzle_identifiers: 3 };
const rng = new Rng(7);
let modelBytes: Uint8Array;
const weights = randomWeights(config, { seed: 3, gain: 0.5 });

beforeAll(async () => {
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  await writeWeights(join(dir, 'weights.safetensors'), config, weights);
  writeFileSync(join(dir, 'identifiers.json'), JSON.stringify(['<blank>', 'task-a', 'task-b']));
  modelBytes = exportStepGraph(config, weights);
  writeFileSync(join(dir, 'model.onnx'), modelBytes);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function puzzle(): Uint8Array {
  return Uint8Array.from({ length: config.seq_len }, () => rng.int(0, config.vocab_size - 1));
}

async function reference(requests: SolveRequest[]): Promise<LoopAnswer[]> {
  const session = await createCpuSession(modelBytes, 1);
  try {
    const out: LoopAnswer[] = [];
    // The reference loop takes one (maxSteps, threshold) for all its puzzles: run it per request.
    for (const r of requests)
      out.push(
        (
          await referenceLoop(session, config, [{ tokens: r.tokens, puzzleEmb: r.puzzleEmb }], {
            maxSteps: r.maxSteps,
            haltThreshold: r.haltThreshold,
          })
        )[0]!,
      );
    return out;
  } finally {
    await session.release();
  }
}

function expectSame(got: SolveResult, want: LoopAnswer): void {
  expect({ steps: got.steps, halted: got.halted }).toEqual({ steps: want.steps, halted: want.halted });
  expect(Array.from(got.tokens)).toEqual(Array.from(want.tokens));
  expect(got.haltProbability).toBeCloseTo(want.haltProbability, 5);
}

describe('Engine on the CPU provider', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await Engine.start({
      modelDir: dir,
      executionProvider: 'auto',
      workers: 2,
      threads: 1,
      maxBatch: 4,
      maxWaitMs: 1,
    });
  });
  afterAll(async () => engine?.drain());

  it('starts on the CPU with notes on why CUDA and WebGPU did not run', () => {
    expect(engine.ready()).toBe(true);
    expect(engine.info).toMatchObject({
      task: 'sudoku',
      executionProvider: 'cpu',
      dtype: 'fp32',
      maxBatch: 4,
      workers: 2,
    });
    expect(engine.info.name).toBe(dir.split('/').at(-1));
    expect(engine.info.providerNotes.map((n) => n.split(':')[0])).toEqual(['cuda', 'webgpu', 'cpu']);
    expect(engine.stats()).toEqual({ queueDepth: 0, activeSlots: 0, totalSlots: 8 });
  });

  it('answers 24 concurrent puzzles exactly as the reference loop, with early halting and step limits', async () => {
    const tableRow = engine.puzzleRow('task-b')!;
    expect(Array.from(tableRow)).toEqual(Array.from(weights['puzzle_emb.weights']!.data.subarray(32, 48)));
    expect(engine.puzzleRow('nope')).toBeUndefined();
    const requests: SolveRequest[] = Array.from({ length: 24 }, (_, i) => ({
      tokens: puzzle(),
      maxSteps: [16, 5, 1, 9][i % 4]!,
      haltThreshold: i % 3 === 0 ? 1 : 0.5,
      puzzleEmb: i % 5 === 0 ? tableRow : undefined,
      trace: i % 6 === 0,
    }));
    const got = await Promise.all(requests.map((r) => engine.solve(r)));
    const want = await reference(requests);
    for (const [i, g] of got.entries()) expectSame(g, want[i]!);
    // Both kinds of stop happened: some halted early, some ran into their step limit.
    expect(got.some((g) => g.halted && g.steps < requests[got.indexOf(g)]!.maxSteps)).toBe(true);
    expect(got.some((g) => !g.halted && g.steps === 16)).toBe(true);
    const traced = got[0]!;
    expect(traced.trace!.map((t) => t.step)).toEqual(want[0]!.trace.map((_, k) => k + 1));
    for (const [k, t] of traced.trace!.entries())
      expect(Array.from(t.tokens)).toEqual(Array.from(want[0]!.trace[k]!.tokens));
  });

  it('refuses a request that does not fit the model, naming the field', async () => {
    const ok: SolveRequest = { tokens: puzzle(), maxSteps: 2, haltThreshold: 0.5, trace: false };
    await expect(engine.solve({ ...ok, tokens: new Uint8Array(5) })).rejects.toThrow('tokens has 5 values');
    await expect(engine.solve({ ...ok, tokens: new Uint8Array(81).fill(11) })).rejects.toThrow('tokens[0] = 11');
    await expect(engine.solve({ ...ok, maxSteps: 65 })).rejects.toThrow('maxSteps must be an integer in 1..64');
    await expect(engine.solve({ ...ok, puzzleEmb: new Float32Array(3) })).rejects.toThrow('puzzle_emb_ndim = 16');
    await expect(engine.solve({ ...ok, settleFrom: 3, acceptAnswer: () => true })).rejects.toThrow(
      'settleFrom must be an integer in 1..maxSteps = 2 (got 3)',
    );
    await expect(engine.solve({ ...ok, settleFrom: 1 })).rejects.toThrow('settleFrom needs acceptAnswer');
  });

  it('fails the puzzles of a killed worker with EngineUnavailableError, replaces it, and answers again', async () => {
    const requests: SolveRequest[] = Array.from({ length: 8 }, () => ({
      tokens: puzzle(),
      maxSteps: 16,
      haltThreshold: 1,
      trace: false,
    }));
    const started: number[] = [];
    const pending = requests.map((r, i) =>
      engine.solve({ ...r, onStep: (e) => e.step === 1 && started.push(i) }).then(
        (v) => v,
        (e: unknown) => e,
      ),
    );
    while (started.length < 8) await new Promise((r) => setTimeout(r, 2));
    const t0 = performance.now();
    engine.killWorker(0);
    const outcomes = await Promise.all(pending);
    const failed = outcomes.filter((o) => o instanceof EngineUnavailableError);
    // Worker 0 held some of the 8 rows (each worker batches 4): exactly those failed, and at once.
    expect(failed.length).toBe(4);
    expect(performance.now() - t0).toBeLessThan(2_000);
    const served = outcomes.filter((o): o is SolveResult => !(o instanceof Error));
    expect(served).toHaveLength(4);
    // The replacement answers like the reference.
    const again = requests.slice(0, 4);
    const got = await Promise.all(again.map((r) => engine.solve(r)));
    const want = await reference(again);
    for (const [i, g] of got.entries()) expectSame(g, want[i]!);
    expect(engine.ready()).toBe(true);
  });

  it('drains: finishes what is in flight, then refuses new puzzles', async () => {
    const r: SolveRequest = { tokens: puzzle(), maxSteps: 4, haltThreshold: 1, trace: false };
    const inFlight = engine.solve(r);
    const drained = engine.drain();
    expect(engine.ready()).toBe(false);
    await expect(engine.solve(r)).rejects.toBeInstanceOf(EngineUnavailableError);
    expect((await inFlight).steps).toBe(4);
    await drained;
  });
});

describe('Engine with an fp16 graph (float16 state)', () => {
  it('answers like the reference loop, moving float16 state rows', async () => {
    const fp16 = exportStepGraph(config, weights, { dtype: 'fp16' });
    writeFileSync(join(dir, 'model.fp16.onnx'), fp16);
    const engine = await Engine.start({
      modelDir: dir,
      modelFile: 'model.fp16.onnx',
      executionProvider: 'cpu',
      threads: 1,
      maxBatch: 3,
    });
    try {
      expect(engine.info.dtype).toBe('fp16');
      const requests: SolveRequest[] = Array.from({ length: 9 }, (_, i) => ({
        tokens: puzzle(),
        maxSteps: 1 + ((i * 5) % 16),
        haltThreshold: i % 2 ? 1 : 0.5,
        trace: false,
      }));
      const got = await Promise.all(requests.map((r) => engine.solve(r)));
      const session = await createCpuSession(fp16, 1);
      try {
        for (const [i, r] of requests.entries()) {
          const [want] = await referenceLoop(session, config, [{ tokens: r.tokens }], r);
          expectSame(got[i]!, want!);
        }
      } finally {
        await session.release();
      }
    } finally {
      await engine.drain();
    }
  });
});

describe('Engine with several supervision steps per run', () => {
  for (const stepsForm of ['loop', 'unrolled'] as const)
    it(`answers 16 concurrent puzzles exactly as the reference loop, with 4 steps per run (${stepsForm}), rows refilled, up to 64 steps`, async () => {
      const engine = await Engine.start({
        modelDir: dir,
        executionProvider: 'cpu',
        threads: 1,
        maxBatch: 3,
        stepsPerRun: 4,
        stepsForm,
      });
      try {
        expect(engine.info.stepsPerRun).toBe(4);
        const requests: SolveRequest[] = Array.from({ length: 16 }, (_, i) => ({
          tokens: puzzle(),
          // past 16 as well: a request runs several 4-step runs up to the API's 64 (puzzles 6 and 12 never halt)
          maxSteps: [16, 5, 1, 9, 3, 64, 40][i % 7]!,
          haltThreshold: i % 3 === 0 ? 1 : 0.5,
          puzzleEmb: i % 4 === 0 ? engine.puzzleRow('task-a') : undefined,
          trace: i === 1,
        }));
        const got = await Promise.all(requests.map((r) => engine.solve(r)));
        const want = await reference(requests);
        for (const [i, g] of got.entries()) expectSame(g, want[i]!);
        expect(got.some((g) => g.halted && g.steps % 4 !== 0)).toBe(true);
        expect([got[6]!.steps, got[12]!.steps]).toEqual([40, 64]);
        expect(got[1]!.trace!.map((t) => t.step)).toEqual(want[1]!.trace.map((_, k) => k + 1));
      } finally {
        await engine.drain();
      }
    });

  it('spreads one worker per listed device (the CPU provider ignores the device), and refuses a bad list', async () => {
    const engine = await Engine.start({ modelDir: dir, executionProvider: 'cpu', threads: 1, devices: [0, 1] });
    try {
      expect(engine.info.workers).toBe(2);
      const r = await engine.solve({ tokens: puzzle(), maxSteps: 2, haltThreshold: 1, trace: false });
      expect(r.steps).toBe(2);
    } finally {
      await engine.drain();
    }
    await expect(Engine.start({ modelDir: dir, executionProvider: 'cpu', devices: [] })).rejects.toThrow(
      'devices must be a non-empty list of integers >= 0 (got [])',
    );
  });

  it('workers auto: one worker off CUDA, with the reason in the notes; nvidia-smi is not asked', async () => {
    const asked: string[][] = [];
    const engine = await Engine.start({
      modelDir: dir,
      executionProvider: 'cpu',
      threads: 1,
      workers: 'auto',
      devices: [0, 1],
      gpuQuery: (args) => {
        asked.push([...args]);
        return null;
      },
    });
    try {
      expect(engine.info.workers).toBe(1);
      expect(engine.info.providerNotes).toContain('workers auto: 1 (the cpu provider)');
      expect(asked).toEqual([]);
    } finally {
      await engine.drain();
    }
    await expect(
      Engine.start({ modelDir: dir, executionProvider: 'cpu', workers: 'auto', gpuMemoryShare: 1.2 }),
    ).rejects.toThrow('gpuMemoryShare must be in (0, 1] (got 1.2)');
  });

  it('refuses a cap on steps while queued above the steps per run', async () => {
    await expect(
      Engine.start({ modelDir: dir, executionProvider: 'cpu', stepsPerRun: 2, stepsWhenQueued: 3 }),
    ).rejects.toThrow('stepsWhenQueued must be an integer in 1..stepsPerRun (2) (got 3)');
  });

  it('without stepsPerRun, takes one step per run on the CPU provider, where a cap while queued caps nothing', async () => {
    const engine = await Engine.start({ modelDir: dir, executionProvider: 'cpu', threads: 1, stepsWhenQueued: 3 });
    try {
      expect(engine.info.stepsPerRun).toBe(1);
      expect(engine.info.stepsWhenQueued).toBeUndefined();
    } finally {
      await engine.drain();
    }
  });

  it('refuses a number of steps per run out of range', async () => {
    await expect(Engine.start({ modelDir: dir, executionProvider: 'cpu', stepsPerRun: 0 })).rejects.toThrow(
      'stepsPerRun must be an integer >= 1 (got 0)',
    );
    await expect(Engine.start({ modelDir: dir, executionProvider: 'cpu', stepsPerRun: 65 })).rejects.toThrow(
      'stepsPerRun must be at most 64 (got 65)',
    );
  });
});

describe('Engine health', () => {
  it('a worker that cannot be restarted makes the engine not live, with the reason, until the file is back', async () => {
    const file = 'model.restart.onnx';
    writeFileSync(join(dir, file), modelBytes);
    const events: WorkerEvent[] = [];
    const engine = await Engine.start({
      modelDir: dir,
      modelFile: file,
      executionProvider: 'cpu',
      threads: 1,
      maxBatch: 2,
      restartAttempts: 2,
      restartBackoffMs: 50,
      restartBackoffMaxMs: 200,
      onWorkerEvent: (e) => events.push(e),
    });
    try {
      expect(engine.health()).toEqual({ live: true, problem: null });
      renameSync(join(dir, file), join(dir, `${file}.away`));
      engine.killWorker(0);
      while (engine.health().live) await new Promise((r) => setTimeout(r, 20));
      expect(engine.ready()).toBe(false);
      const { problem } = engine.health();
      expect(problem).toMatch(
        /^inference worker 0 could not be restarted \(2 attempts in a row failed, still trying\): /,
      );
      expect(problem).toContain(file);
      expect(events.slice(0, 3).map((e) => e.kind)).toEqual(['died', 'restart-failed', 'restart-failed']);
      // the file is fixed: a later attempt brings the worker back
      renameSync(join(dir, `${file}.away`), join(dir, file));
      while (!engine.ready()) await new Promise((r) => setTimeout(r, 20));
      expect(engine.health()).toEqual({ live: true, problem: null });
      expect(events.at(-1)!.kind).toBe('replaced');
      const r: SolveRequest = { tokens: puzzle(), maxSteps: 3, haltThreshold: 1, trace: false };
      expectSame(await engine.solve(r), (await reference([r]))[0]!);
    } finally {
      await engine.drain();
    }
  });
});

describe('Engine.start', () => {
  it('refuses a graph exported for another config', async () => {
    const other = mkdtempSync(join(tmpdir(), 'trm-engine-bad-'));
    try {
      writeFileSync(
        join(other, 'config.json'),
        JSON.stringify({ ...config, seq_len: 900, task: 'maze', vocab_size: 6 }),
      );
      writeFileSync(join(other, 'model.onnx'), modelBytes);
      await expect(Engine.start({ modelDir: other, executionProvider: 'cpu' })).rejects.toThrow(
        'was exported for task = "sudoku" but config.json has "maze"',
      );
      await expect(Engine.start({ modelDir: other, modelFile: 'missing.onnx' })).rejects.toThrow(
        'is not a readable ONNX model',
      );
      await expect(Engine.start({ modelDir: dir, executionProvider: 'cuda' })).rejects.toThrow('cuda:install');
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('refuses a model.onnx whose weights no longer match their checksum, naming the file', async () => {
    const damaged = Uint8Array.from(modelBytes);
    const largest = initializerData(damaged).sort((a, b) => b.length - a.length)[0]!;
    for (let i = 0; i < 64; i++) largest[rng.int(0, largest.length - 1)] = rng.int(0, 255);
    const file = 'model.damaged.onnx';
    writeFileSync(join(dir, file), damaged);
    const warnings: string[] = [];
    await expect(
      Engine.start({ modelDir: dir, modelFile: file, executionProvider: 'cpu', onWarning: (m) => warnings.push(m) }),
    ).rejects.toThrow(`${join(dir, file)} is damaged: its weights do not match the checksum recorded at export`);
    expect(warnings).toEqual([]);
  });

  it('loads a model exported before the checksum existed, with a warning', async () => {
    const file = 'model.unrecorded.onnx';
    writeFileSync(join(dir, file), withoutMetadata(modelBytes, [METADATA_KEYS.weightsSha256]));
    const warnings: string[] = [];
    const engine = await Engine.start({
      modelDir: dir,
      modelFile: file,
      executionProvider: 'cpu',
      threads: 1,
      maxBatch: 1,
      onWarning: (m) => warnings.push(m),
    });
    try {
      expect(engine.ready()).toBe(true);
      expect(warnings).toEqual([
        `${join(dir, file)} records no checksum of its weights (trm.weights_sha256; exported before the ` +
          'exporter wrote one), so a damaged file cannot be detected; export it again to add one',
      ]);
    } finally {
      await engine.drain();
    }
  });
});
