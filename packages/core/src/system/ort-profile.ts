// The summary of an ONNX Runtime profile (the server's bench:profile, the trainer's ort-train-speed --profile): per run,
// nodes, time inside them, op types, providers.

/** One event of ONNX Runtime's profile (Chrome trace format). */
export interface ProfileEvent {
  cat?: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string; provider?: string; input_type_shape?: Record<string, number[]>[] };
}

export interface OpShare {
  name: string;
  /** nodes per run */
  nodes: number;
  /** milliseconds per run */
  ms: number;
  /** share of the time inside nodes */
  share: number;
}

export interface ProfileSummary {
  runs: number;
  /** mean wall time of a run inside ONNX Runtime (model_run) */
  runMs: number;
  /** nodes executed per run (a Loop's body counts once per iteration, the Loop node itself not) */
  nodesPerRun: number;
  /** time inside nodes per run */
  nodeMs: number;
  /** runMs - nodeMs: what the profiler attributes to no node */
  otherMs: number;
  byOp: OpShare[];
  /**
   * Op type and input shapes (`MatMul float16[768,512,97] float16[768,97,512]`), by time: which instances of an op
   * type take it (e.g. matrix products whose inner size is not a multiple of 8)
   */
  byShape: OpShare[];
  byProvider: OpShare[];
  /** GPU kernels per run and their time, where ONNX Runtime was built with CUPTI ('Kernel' events); else null */
  gpu: { kernels: number; ms: number } | null;
}

const CONTAINER_OPS = new Set(['Loop', 'If', 'Scan']);

const opName = (e: ProfileEvent): string => e.args?.op_name ?? e.name.replace(/_kernel_time$/, '');

/** A node event's input types and shapes as `float16[768,97,512] float[1]` (empty when the profile has none). */
function shapesOf(e: ProfileEvent): string {
  return (e.args?.input_type_shape ?? [])
    .flatMap((t) => Object.entries(t).map(([type, dims]) => `${type}[${dims.join(',')}]`))
    .join(' ');
}

/**
 * Summarises the runs after the first `warmup` ones: the node events that start at or after the first measured
 * run's start, per run.
 */
export function summarizeProfile(events: readonly ProfileEvent[], warmup: number): ProfileSummary {
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
  const measured = runs.slice(warmup);
  if (measured.length === 0)
    throw new Error(`the profile holds ${runs.length} run(s), not more than the ${warmup} warm-up run(s)`);
  const from = measured[0]!.ts;
  // A Loop (If, Scan) node's time is that of its body's nodes, which the profile also lists: count those.
  const nodes = events.filter(
    (e) =>
      e.cat === 'Node' && e.name.endsWith('_kernel_time') && e.ts >= from && !CONTAINER_OPS.has(e.args?.op_name ?? ''),
  );
  const n = measured.length;
  const nodeUs = nodes.reduce((s, e) => s + e.dur, 0);
  const group = (key: (e: ProfileEvent) => string): OpShare[] => {
    const m = new Map<string, { nodes: number; us: number }>();
    for (const e of nodes) {
      const k = key(e);
      const g = m.get(k) ?? { nodes: 0, us: 0 };
      g.nodes++;
      g.us += e.dur;
      m.set(k, g);
    }
    return [...m.entries()]
      .map(([name, g]) => ({ name, nodes: g.nodes / n, ms: g.us / n / 1000, share: nodeUs > 0 ? g.us / nodeUs : 0 }))
      .sort((a, b) => b.ms - a.ms);
  };
  const runMs = measured.reduce((s, e) => s + e.dur, 0) / n / 1000;
  const kernels = events.filter((e) => e.cat === 'Kernel' && e.ts >= from);
  const nodeMs = nodeUs / n / 1000;
  return {
    runs: n,
    runMs,
    nodesPerRun: nodes.length / n,
    nodeMs,
    otherMs: runMs - nodeMs,
    byOp: group(opName),
    byShape: group((e) => `${opName(e)} ${shapesOf(e)}`.trim()),
    byProvider: group((e) => (e.args?.provider ?? '?').replace(/ExecutionProvider$/, '')),
    gpu:
      kernels.length > 0
        ? { kernels: kernels.length / n, ms: kernels.reduce((s, e) => s + e.dur, 0) / n / 1000 }
        : null,
  };
}
