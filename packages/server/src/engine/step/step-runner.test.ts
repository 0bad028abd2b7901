import { describe, expect, it } from 'vitest';
import { FakeStepFunction, fakeAnswer } from '../../testing/fake-step.js';
import { gatherRows } from './host-state.js';
import type { RowPlan } from './plan.js';
import type { StepShape } from './step-function.js';
import { argmaxRows, StepRunner } from './step-runner.js';

const shape: StepShape = { seqLen: 4, stateLen: 5, hidden: 3, puzzleEmbDim: 2, vocab: 7 };
const S = shape.seqLen;

function puzzle(seed: number): Uint8Array {
  return Uint8Array.from({ length: S }, (_, i) => (seed * 3 + i * 5) % shape.vocab);
}
const start = (tokens: Uint8Array, puzzleEmb?: Float32Array): RowPlan => ({ kind: 'start', tokens, puzzleEmb });
const keep = (from: number): RowPlan => ({ kind: 'keep', from });
const rowOf = (t: Uint8Array, i: number) => Array.from(t.subarray(i * S, (i + 1) * S));

describe('gatherRows', () => {
  it('compacts in place and keeps the kept rows in the new order', () => {
    const a = Float32Array.from({ length: 4 * 2 }, (_, i) => Math.floor(i / 2)); // rows 0,0 1,1 2,2 3,3
    const out = gatherRows(a, 2, Int32Array.from([1, 3, -1]));
    expect(out.buffer).toBe(a.buffer);
    expect(Array.from(out.subarray(0, 4))).toEqual([1, 1, 3, 3]);
    expect(out.length).toBe(6);
  });

  it('allocates when the batch grows or a row moves up', () => {
    const a = Float32Array.from([10, 11, 20, 21]);
    const grown = gatherRows(a, 2, Int32Array.from([1, 0, -1]));
    expect(grown.buffer).not.toBe(a.buffer);
    expect(Array.from(grown.subarray(0, 4))).toEqual([20, 21, 10, 11]);
    const f16 = gatherRows(Uint16Array.from([1, 2, 3, 4]), 2, Int32Array.from([1, -1, 0]));
    expect(f16).toBeInstanceOf(Uint16Array);
    expect(Array.from(f16.subarray(0, 2))).toEqual([3, 4]);
    expect(Array.from(f16.subarray(4, 6))).toEqual([1, 2]);
  });
});

describe('argmaxRows', () => {
  it('takes the first index on ties', () => {
    expect(Array.from(argmaxRows(Float32Array.from([0, 2, 2, 5, 1, 0]), 2, 3))).toEqual([1, 0]);
  });
});

describe('StepRunner with host state (compact rows)', () => {
  it('gives every puzzle its own answer while rows leave, move and join', async () => {
    const runner = new StepRunner(new FakeStepFunction({ shape }));
    const [a, b, c, d] = [puzzle(1), puzzle(2), puzzle(3), puzzle(4)];
    const emb = Float32Array.from([3, 0]);
    let r = await runner.step({ rows: [start(a), start(b, emb), start(c)] });
    expect(rowOf(r.tokens, 1)).toEqual(Array.from(fakeAnswer(b, 1, shape.vocab, emb)));
    // a leaves; b and c close up; d joins at the end.
    r = await runner.step({ rows: [keep(1), keep(2), start(d)] });
    expect(rowOf(r.tokens, 0)).toEqual(Array.from(fakeAnswer(b, 2, shape.vocab, emb)));
    expect(rowOf(r.tokens, 1)).toEqual(Array.from(fakeAnswer(c, 2, shape.vocab)));
    expect(rowOf(r.tokens, 2)).toEqual(Array.from(fakeAnswer(d, 1, shape.vocab)));
    // rows swap and the batch grows: the state must follow its puzzle.
    r = await runner.step({ rows: [keep(2), keep(0), start(a), keep(1)] });
    expect(rowOf(r.tokens, 0)).toEqual(Array.from(fakeAnswer(d, 2, shape.vocab)));
    expect(rowOf(r.tokens, 1)).toEqual(Array.from(fakeAnswer(b, 3, shape.vocab, emb)));
    expect(rowOf(r.tokens, 2)).toEqual(Array.from(fakeAnswer(a, 1, shape.vocab)));
    expect(rowOf(r.tokens, 3)).toEqual(Array.from(fakeAnswer(c, 3, shape.vocab)));
    expect(runner.batchRows).toBe(4);
  });

  it('refuses a plan that keeps a row twice or one that does not exist', async () => {
    const runner = new StepRunner(new FakeStepFunction({ shape }));
    await runner.step({ rows: [start(puzzle(1)), start(puzzle(2))] });
    await expect(runner.step({ rows: [keep(0), keep(0)] })).rejects.toThrow('kept twice');
    await expect(runner.step({ rows: [keep(2)] })).rejects.toThrow('previous step had 2 rows');
    await expect(runner.step({ rows: [start(new Uint8Array(3))] })).rejects.toThrow('tokens has 3 values, expected 4');
  });

  it('forgets the state after a failed run', async () => {
    const runner = new StepRunner(new FakeStepFunction({ shape, failAtCall: 2 }));
    await runner.step({ rows: [start(puzzle(1))] });
    await expect(runner.step({ rows: [keep(0)] })).rejects.toThrow('fake step failed at call 2');
    expect(runner.batchRows).toBe(0);
    await expect(runner.step({ rows: [keep(0)] })).rejects.toThrow('previous step had 0 rows');
  });
});

describe('StepRunner with device-style state (fixed rows)', () => {
  it('keeps rows in place, feeds idle rows as resets and releases every replaced state', async () => {
    const fn = new FakeStepFunction({ shape, layout: 'fixed' });
    const runner = new StepRunner(fn);
    const [a, b, c] = [puzzle(5), puzzle(6), puzzle(7)];
    await runner.step({ rows: [start(a), start(b), { kind: 'idle' }] });
    expect(fn.live).toBe(2);
    let r = await runner.step({ rows: [keep(0), { kind: 'idle' }, start(c)] });
    expect(fn.live).toBe(2);
    expect(rowOf(r.tokens, 0)).toEqual(Array.from(fakeAnswer(a, 2, shape.vocab)));
    expect(rowOf(r.tokens, 2)).toEqual(Array.from(fakeAnswer(c, 1, shape.vocab)));
    r = await runner.step({ rows: [keep(0), start(b), keep(2)] });
    expect(rowOf(r.tokens, 1)).toEqual(Array.from(fakeAnswer(b, 1, shape.vocab)));
    expect(rowOf(r.tokens, 2)).toEqual(Array.from(fakeAnswer(c, 2, shape.vocab)));
    await expect(runner.step({ rows: [keep(1), keep(0), keep(2)] })).rejects.toThrow('cannot move');
    await expect(runner.step({ rows: [keep(0), keep(1)] })).rejects.toThrow('cannot be resized');
    // Every row new: a batch of another size starts from scratch.
    await runner.step({ rows: [start(a)] });
    expect(fn.live).toBe(2);
    expect(fn.batches).toEqual([3, 3, 3, 1]);
    runner.clear();
    expect(fn.live).toBe(0);
  });
});
