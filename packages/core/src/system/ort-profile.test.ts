import { describe, expect, it } from 'vitest';
import { type ProfileEvent, summarizeProfile } from './ort-profile.js';

const run = (ts: number, dur: number): ProfileEvent => ({ cat: 'Session', name: 'model_run', ts, dur });
const node = (ts: number, dur: number, op: string, provider = 'CUDAExecutionProvider'): ProfileEvent => ({
  cat: 'Node',
  name: `n_${op}_${ts}_kernel_time`,
  ts,
  dur,
  args: { op_name: op, provider },
});

describe('summarizeProfile', () => {
  it('counts the runs after the warm-up, per run, with a Loop counted through its body', () => {
    const events: ProfileEvent[] = [
      { cat: 'Session', name: 'model_loading_array', ts: 0, dur: 5000 },
      run(100, 900), // warm-up
      node(110, 500, 'MatMul'),
      run(1000, 1000),
      node(1010, 300, 'MatMul'),
      node(1020, 100, 'Add'),
      node(1030, 100, 'Shape', 'CPUExecutionProvider'),
      node(1005, 700, 'Loop'),
      { cat: 'Node', name: 'n_Add_fence_before', ts: 1040, dur: 50 },
      run(2000, 2000),
      node(2010, 700, 'MatMul'),
      node(2020, 300, 'Add'),
    ];
    const s = summarizeProfile(events, 1);
    expect(s.runs).toBe(2);
    expect(s.runMs).toBeCloseTo(1.5, 12);
    expect(s.nodesPerRun).toBe(2.5);
    expect(s.nodeMs).toBeCloseTo(0.75, 12);
    expect(s.otherMs).toBeCloseTo(0.75, 12);
    expect(s.byOp.map((o) => [o.name, o.nodes, o.ms, o.share])).toEqual([
      ['MatMul', 1, 0.5, 1000 / 1500],
      ['Add', 1, 0.2, 400 / 1500],
      ['Shape', 0.5, 0.05, 100 / 1500],
    ]);
    expect(s.gpu).toBeNull();
    const cupti = summarizeProfile([...events, { cat: 'Kernel', name: 'gemm', ts: 2015, dur: 600 }], 1);
    expect(cupti.gpu).toEqual({ kernels: 0.5, ms: 0.3 });
    expect(s.byShape.map((o) => o.name)).toEqual(['MatMul', 'Add', 'Shape']);
    expect(s.byProvider.map((p) => [p.name, p.nodes])).toEqual([
      ['CUDA', 2],
      ['CPU', 0.5],
    ]);
  });

  it('groups the nodes by op type and input shapes', () => {
    const shaped = (ts: number, dur: number, shapes: Record<string, number[]>[]): ProfileEvent => ({
      ...node(ts, dur, 'MatMul'),
      args: { op_name: 'MatMul', provider: 'CUDAExecutionProvider', input_type_shape: shapes },
    });
    const events: ProfileEvent[] = [
      run(0, 1000),
      shaped(10, 300, [{ float16: [768, 512, 97] }, { float16: [97, 512] }]),
      shaped(20, 100, [{ float16: [768, 97, 512] }, { float16: [512, 1536] }]),
      shaped(30, 200, [{ float16: [768, 512, 97] }, { float16: [97, 512] }]),
    ];
    const s = summarizeProfile(events, 0);
    expect(s.byShape.map((o) => [o.name, o.nodes, o.ms])).toEqual([
      ['MatMul float16[768,512,97] float16[97,512]', 2, 0.5],
      ['MatMul float16[768,97,512] float16[512,1536]', 1, 0.1],
    ]);
  });

  it('says when there is no run to measure', () => {
    expect(() => summarizeProfile([run(0, 10)], 1)).toThrow(
      'the profile holds 1 run(s), not more than the 1 warm-up run(s)',
    );
  });
});
