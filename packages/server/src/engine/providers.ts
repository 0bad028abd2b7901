// The one module that knows ONNX Runtime's execution providers: which ones `--ep` names, where the CUDA provider
// library must lie, the session options of each, and the `auto` order (CUDA when its library is installed, then
// WebGPU when a GPU adapter answers, then CPU) with a note for every provider that was passed over and why.
// Under `auto` a provider whose native libraries the loader would not find (the CUDA and cuDNN libraries the
// provider links, the Vulkan loader under WebGPU) is passed over on that file check alone, without asking ONNX
// Runtime: asking prints its own error lines (a red "Failed to load library", Dawn's "Couldn't load Vulkan") for
// what is only a reason to take the next provider.
// Only worker threads open sessions (session.run blocks); the main thread uses the file checks.
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import {
  CUDA_INSTALL_HINT,
  CUDA_PROVIDER_LIBRARIES,
  type CudaProviderStatus,
  cudaProviderStatus as statusOf,
  cudaUnavailable,
  EXECUTION_PROVIDERS,
  findSharedLibrary,
  LIBRARY_SEARCH_SUPPORTED,
  onnxruntimeBinDir as binDirOf,
  UsageError,
} from '@trm/core';

export { CUDA_INSTALL_HINT, CUDA_PROVIDER_LIBRARIES, type CudaProviderStatus, cudaUnavailable };
import { MULTI_STEP_OUTPUTS, type MultiStepForm, STEP_OUTPUTS } from '@trm/graph';
import type { InferenceSession } from 'onnxruntime-node';
import type { ExecutionProviderChoice, ExecutionProviderName } from './types.js';

/** What `--ep` takes: `auto` or one of core's execution providers. */
export const EXECUTION_PROVIDER_CHOICES: readonly ExecutionProviderChoice[] = ['auto', ...EXECUTION_PROVIDERS];

/** The onnxruntime-node release whose CUDA provider libraries cuda:install places (they must match exactly). */
export const ONNXRUNTIME_VERSION = '1.29.0';

/** Outputs JavaScript reads every step; the state outputs may stay in device memory. */
const STATE_OUTPUTS = [STEP_OUTPUTS.zH, STEP_OUTPUTS.zL];
const READ_OUTPUTS = [STEP_OUTPUTS.logits, STEP_OUTPUTS.qHalt];
const MULTI_READ_OUTPUTS = [MULTI_STEP_OUTPUTS.answers, MULTI_STEP_OUTPUTS.qHalts];

/** The onnxruntime-node package folder as this module resolves it (also from a bundle in dist/). */
export function onnxruntimePackageDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('onnxruntime-node/package.json'));
}

/** Where onnxruntime-node loads its native libraries from on this platform. */
export function onnxruntimeBinDir(packageDir = onnxruntimePackageDir()): string {
  return binDirOf(packageDir);
}

/** The CUDA provider's files in this installation of onnxruntime-node (core's check). */
export function cudaProviderStatus(binDir = onnxruntimeBinDir()): CudaProviderStatus {
  return statusOf(binDir);
}

/** The Vulkan loader that Dawn (ONNX Runtime's WebGPU provider) opens; without it there is no GPU adapter. */
export const VULKAN_LOADER = 'libvulkan.so.1';

/** Why WebGPU cannot run here, from the files alone (no Vulkan loader), or null when it may. */
export function webgpuUnavailable(find: (name: string) => string | null = findSharedLibrary): string | null {
  if (!LIBRARY_SEARCH_SUPPORTED || find(VULKAN_LOADER) !== null) return null;
  return `no Vulkan loader (${VULKAN_LOADER} is not on the library path), so no GPU adapter: WebGPU needs a GPU with a Vulkan driver`;
}

/** Providers to try, in order, for a --ep choice. */
export function providerOrder(choice: ExecutionProviderChoice): ExecutionProviderName[] {
  return choice === 'auto' ? [...EXECUTION_PROVIDERS] : [choice];
}

export function parseExecutionProvider(value: string): ExecutionProviderChoice {
  if (!(EXECUTION_PROVIDER_CHOICES as readonly string[]).includes(value))
    throw new Error(`ep must be one of ${EXECUTION_PROVIDER_CHOICES.join(', ')} (got "${value}")`);
  return value as ExecutionProviderChoice;
}

/** --devices 0,1: CUDA device numbers (integers >= 0, each once). */
export function deviceList(raw: string | undefined): number[] | undefined {
  if (raw === undefined) return undefined;
  const parts = raw.split(',').map((x) => x.trim());
  const ids = parts.map(Number);
  if (parts.some((x) => !/^\d+$/.test(x)))
    throw new UsageError(`--devices must be a comma-separated list of device numbers such as 0,1 (got "${raw}")`);
  if (new Set(ids).size !== ids.length) throw new UsageError(`--devices names a device twice (got "${raw}")`);
  return ids;
}

/** --workers N (an integer >= 1) or auto. */
export function workerCount(raw: string | undefined): number | 'auto' | undefined {
  if (raw === undefined || raw === 'auto') return raw;
  if (!/^\d+$/.test(raw) || Number(raw) < 1)
    throw new UsageError(`--workers must be an integer >= 1 or auto (got ${JSON.stringify(raw)})`);
  return Number(raw);
}

/** CPU threads for each of `workers` sessions: the cores split between them (oversubscription is ~30x slower). */
export function cpuThreadsPerWorker(workers: number): number {
  return Math.max(1, Math.floor(availableParallelism() / Math.max(1, workers)));
}

export interface SessionSettings {
  /** intra-op threads of the CPU provider */
  threads: number;
  /** keep z_h_out/z_l_out in device memory between steps where the provider allows it (WebGPU) */
  stateOnDevice: boolean;
  /**
   * supervision steps per run of the graph (1: the step graph; k > 1: its unrolled form, other outputs); absent:
   * the provider's default (stepsPerRunOn)
   */
  stepsPerRun?: number;
  /** the CUDA device the session runs on (default 0); the other providers take the first GPU they find */
  deviceId?: number;
  /** how a graph of several steps per run is made (unrollStepGraph; default loop) */
  stepsForm?: MultiStepForm;
}

/**
 * The default steps per run on the CUDA provider. Measured on an H100 (BENCHMARKS.md, "Serving on the H100"): 4
 * steps per run gave 1.18-1.27x the puzzles/s of 1 under load (sudoku-mlp, 2 x 256) and a lower lone-puzzle latency;
 * 16 was no faster with all steps and slower with early halting. On the CPU 1 and 4 are within noise.
 */
export const CUDA_STEPS_PER_RUN = 4;

/** The steps per run of a session on `ep`: the one asked for, else CUDA_STEPS_PER_RUN on CUDA and 1 elsewhere. */
export function stepsPerRunOn(ep: ExecutionProviderName, settings: SessionSettings): number {
  return settings.stepsPerRun ?? (ep === 'cuda' ? CUDA_STEPS_PER_RUN : 1);
}

/** Whether `ep` can keep the state outputs in device memory that the next run takes as input. */
export function keepsStateOnDevice(ep: ExecutionProviderName, settings: SessionSettings): boolean {
  // onnxruntime-node binds device outputs ('gpu-buffer') for WebGPU only; the CUDA provider returns host memory.
  return ep === 'webgpu' && settings.stateOnDevice;
}

export function sessionOptions(ep: ExecutionProviderName, settings: SessionSettings): InferenceSession.SessionOptions {
  const options: InferenceSession.SessionOptions = {
    executionProviders: [ep === 'cuda' && settings.deviceId ? { name: 'cuda', deviceId: settings.deviceId } : ep],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    // errors only: ONNX Runtime's warnings at load (on CUDA, that shape ops run on the CPU) are expected, not news
    logSeverityLevel: 3,
  };
  if (ep === 'cpu') {
    options.intraOpNumThreads = settings.threads;
    options.interOpNumThreads = 1;
  }
  if (keepsStateOnDevice(ep, settings)) {
    // getData() on a gpu-buffer tensor aborts the process in Node, so everything JavaScript reads comes back as 'cpu'.
    const location: Record<string, 'gpu-buffer' | 'cpu'> = {};
    for (const name of STATE_OUTPUTS) location[name] = 'gpu-buffer';
    for (const name of stepsPerRunOn(ep, settings) > 1 ? MULTI_READ_OUTPUTS : READ_OUTPUTS) location[name] = 'cpu';
    options.preferredOutputLocation = location;
  }
  return options;
}

export interface OpenedSession {
  session: InferenceSession;
  provider: ExecutionProviderName;
  /** why each provider tried before `provider` did not run, then what runs */
  notes: string[];
  stateOnDevice: boolean;
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  // ORT prefixes messages with the source location of the check that failed; the reason is what follows.
  const line = text.split('\n')[0]!.trim();
  const reason = line.match(/ was false\. (.*)$/)?.[1] ?? line;
  return reason.length > 300 ? `${reason.slice(0, 300)}...` : reason;
}

/**
 * Opens a session of `model` on the first provider of `choice` that works. An explicit provider that fails is an
 * error that says how to fix it; under `auto` the failure becomes a note and the next provider is tried. `model`
 * may be a function of the provider being tried (a graph of that provider's steps per run).
 */
export async function openSession(
  model: string | Uint8Array | ((ep: ExecutionProviderName) => Promise<string | Uint8Array>),
  choice: ExecutionProviderChoice,
  settings: SessionSettings,
  binDir = onnxruntimeBinDir(),
): Promise<OpenedSession> {
  const ort = await import('onnxruntime-node');
  const notes: string[] = [];
  const explicit = choice !== 'auto';
  for (const ep of providerOrder(choice)) {
    // The file checks: under auto a missing library passes the provider over without asking ONNX Runtime. An
    // explicit choice still asks (the loader may know a folder the check does not) unless the provider itself is
    // absent, and its failure then carries what the check found.
    let found: string | null = null;
    if (ep === 'cuda') {
      const status = cudaProviderStatus(binDir);
      found = cudaUnavailable(status);
      if (found && (!explicit || !status.installed)) {
        if (explicit) throw new Error(`--ep cuda: ${found}`);
        notes.push(`cuda: ${found}`);
        continue;
      }
    }
    if (ep === 'webgpu') {
      found = webgpuUnavailable();
      if (found && !explicit) {
        notes.push(`webgpu: ${found}`);
        continue;
      }
    }
    const options = sessionOptions(ep, settings);
    try {
      const graph = typeof model === 'function' ? await model(ep) : model;
      const session =
        typeof graph === 'string'
          ? await ort.InferenceSession.create(graph, options)
          : await ort.InferenceSession.create(graph, options);
      const onDevice = keepsStateOnDevice(ep, settings);
      notes.push(
        ep === 'cpu'
          ? `cpu: runs with ${settings.threads} thread(s)`
          : `${ep}: runs, state ${onDevice ? 'stays in device memory between steps' : 'returns to the host every step'}`,
      );
      return { session, provider: ep, notes, stateOnDevice: onDevice };
    } catch (err) {
      const reason = firstLine(err);
      if (explicit) {
        const hint =
          ep === 'cuda'
            ? ' (the CUDA provider needs CUDA 13 and cuDNN 9 libraries on the library path; reinstall it with `pnpm --filter @trm/server cuda:install`)'
            : ep === 'webgpu'
              ? ' (WebGPU needs a GPU with a Vulkan driver: the Vulkan loader libvulkan.so.1 and the vendor ICD)'
              : '';
        throw new Error(`--ep ${ep}: the session could not be created: ${reason}${found ? `; ${found}` : hint}`);
      }
      notes.push(`${ep}: ${ep === 'webgpu' ? 'no usable GPU adapter: ' : 'failed to start: '}${reason}`);
    }
  }
  throw new Error(`no execution provider could run the model: ${notes.join('; ')}`);
}
