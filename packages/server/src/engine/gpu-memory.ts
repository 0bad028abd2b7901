// How many inference workers a CUDA device takes when the server is told to use a share of its free memory
// (`start --workers auto`): the free memory of each device is read before the first worker loads, the first worker
// runs one warm-up run at the full batch, and what the process then holds on the GPU (as nvidia-smi lists it, or
// the first device's loss of free memory) is one worker's cost. Every
// device then gets as many workers as fit in its share of the free memory, at least one, at most a cap (more
// workers than the GPU can overlap only add memory).
import { execFileSync } from 'node:child_process';
import { Batcher, type Lane } from './batcher.js';

export interface GpuMemory {
  index: number;
  freeMiB: number;
  totalMiB: number;
}

/** Runs nvidia-smi with `args` and returns its stdout, or null when it cannot be run. */
export type GpuQuery = (args: readonly string[]) => string | null;

export const nvidiaSmi: GpuQuery = (args) => {
  try {
    return execFileSync('nvidia-smi', [...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 10_000,
    });
  } catch {
    return null;
  }
};

export const DEVICE_MEMORY_QUERY = ['--query-gpu=index,memory.free,memory.total', '--format=csv,noheader,nounits'];
export const PROCESS_MEMORY_QUERY = ['--query-compute-apps=pid,used_memory', '--format=csv,noheader,nounits'];

const number = (s: string | undefined): number => (s !== undefined && /^\s*\d+(\.\d+)?\s*$/.test(s) ? Number(s) : NaN);

/** The lines of `nvidia-smi --query-gpu=index,memory.free,memory.total --format=csv,noheader,nounits`. */
export function parseGpuMemory(csv: string): GpuMemory[] {
  const rows: GpuMemory[] = [];
  for (const line of csv.split('\n')) {
    if (line.trim() === '') continue;
    const [index, free, total] = line.split(',').map((x) => number(x));
    if (!(Number.isInteger(index) && free! >= 0 && total! >= free!))
      throw new Error(
        `nvidia-smi printed a memory line that is not "index, free MiB, total MiB": ${JSON.stringify(line)}`,
      );
    rows.push({ index: index!, freeMiB: free!, totalMiB: total! });
  }
  return rows;
}

/**
 * MiB of GPU memory held by process `pid`, summed over devices, from
 * `nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader,nounits`; null when it is not listed (some
 * containers hide other processes' ids, including their own).
 */
export function parseProcessGpuMemory(csv: string, pid: number): number | null {
  let used: number | null = null;
  for (const line of csv.split('\n')) {
    const [p, mib] = line.split(',').map((x) => number(x));
    if (p === pid && mib! >= 0) used = (used ?? 0) + mib!;
  }
  return used;
}

export interface WorkerShare {
  /** workers for each of the devices asked for, in their order */
  perDevice: number[];
  /** why, in one line for the startup log */
  reason: string;
}

/**
 * Workers for each device: floor(share x free / perWorker), at least 1 and at most `maxPerDevice`.
 * `free` holds each device's free MiB before the first worker loaded.
 */
export function workersFromFreeMemory(
  devices: readonly number[],
  free: readonly GpuMemory[],
  perWorkerMiB: number,
  share: number,
  maxPerDevice: number,
): WorkerShare {
  if (!(share > 0 && share <= 1)) throw new Error(`gpuMemoryShare must be in (0, 1] (got ${share})`);
  if (!(Number.isInteger(maxPerDevice) && maxPerDevice >= 1))
    throw new Error(`maxWorkersPerDevice must be an integer >= 1 (got ${maxPerDevice})`);
  const cost = Math.max(1, perWorkerMiB);
  const parts: string[] = [];
  const perDevice = devices.map((d) => {
    const m = free.find((g) => g.index === d);
    if (!m)
      throw new Error(`CUDA device ${d} is not among those nvidia-smi lists (${free.map((g) => g.index).join(', ')})`);
    const n = Math.min(maxPerDevice, Math.max(1, Math.floor((share * m.freeMiB) / cost)));
    parts.push(`device ${d}: ${n} (${m.freeMiB} of ${m.totalMiB} MiB free)`);
    return n;
  });
  return {
    perDevice,
    reason: `${Math.round(share * 100)} % of the free memory at ${Math.ceil(cost)} MiB per worker, at most ${maxPerDevice} per device: ${parts.join('; ')}`,
  };
}

/** Which device each worker runs on: round robin over the devices while each has workers left (worker 0 on the first). */
export function laneDevices(devices: readonly number[], perDevice: readonly number[]): number[] {
  const left = [...perDevice];
  const out: number[] = [];
  while (left.some((n) => n > 0))
    devices.forEach((d, i) => {
      if (left[i]! > 0) {
        out.push(d);
        left[i]!--;
      }
    });
  return out;
}

export interface AutoWorkerSettings {
  provider: string;
  devices: number[];
  /** nvidia-smi's free memory per device before the first worker loaded (null: it could not be read) */
  freeBefore: string | null;
  gpuQuery: GpuQuery;
  share: number;
  maxPerDevice: number;
  maxBatch: number;
  seqLen: number;
}

/**
 * `workers: auto`: the device of every worker (worker 0, already running, first) and a line that says why. On the
 * CUDA provider, worker 0 runs one step at the full batch (so ONNX Runtime's memory arena has grown to what a
 * batch needs), and what the process then holds on the GPU is taken as one worker's cost.
 */
export async function autoWorkers(first: Lane, s: AutoWorkerSettings): Promise<{ lanes: number[]; note: string }> {
  const one = { lanes: [s.devices[0]!], note: '' };
  if (s.provider !== 'cuda') return { ...one, note: `workers auto: 1 (the ${s.provider} provider)` };
  if (s.freeBefore === null)
    return { ...one, note: 'workers auto: 1 per device, nvidia-smi could not be run to read the free memory' };
  const free = parseGpuMemory(s.freeBefore);
  const warm = new Batcher([first], { maxBatch: s.maxBatch, maxQueue: s.maxBatch, maxWaitMs: 1000, seqLen: s.seqLen });
  const blank = new Uint8Array(s.seqLen);
  await Promise.all(
    Array.from({ length: s.maxBatch }, () =>
      warm.solve({ tokens: blank, maxSteps: 1, haltThreshold: 1, trace: false }),
    ),
  );
  await warm.drain();
  // What this process holds: as nvidia-smi lists it, or else (containers often hide process ids) what the first
  // device's free memory lost since before worker 0 loaded.
  const apps = s.gpuQuery(PROCESS_MEMORY_QUERY);
  let used = apps === null ? null : parseProcessGpuMemory(apps, process.pid);
  if (used === null) {
    const after = s.gpuQuery(DEVICE_MEMORY_QUERY);
    const d0 = s.devices[0];
    const before = free.find((g) => g.index === d0)?.freeMiB;
    const now = after === null ? undefined : parseGpuMemory(after).find((g) => g.index === d0)?.freeMiB;
    if (before !== undefined && now !== undefined && before > now) used = before - now;
  }
  if (used === null)
    return {
      lanes: s.devices,
      note: "workers auto: 1 per device, this process's GPU memory could not be read (nvidia-smi lists neither it nor a change of free memory)",
    };
  const share = workersFromFreeMemory(s.devices, free, used, s.share, s.maxPerDevice);
  return { lanes: laneDevices(s.devices, share.perDevice), note: `workers auto: ${share.reason}` };
}
