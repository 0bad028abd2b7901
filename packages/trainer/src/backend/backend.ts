// The one place that knows about TensorFlow.js backends. `auto` takes the fastest one that works here:
// the native TensorFlow binding (tfjs-node-gpu, tfjs-node) only if the user installed it, then WebGPU through
// Dawn (@tensorflow/tfjs-backend-webgpu + the `webgpu` package) if both import and a GPU adapter exists, then
// wasm (SIMD, single-threaded in Node), then the pure-JS cpu backend. None of the optional packages is a
// dependency: they are imported dynamically and their absence is a reason in the log, not an error. Once a backend
// runs, tfjs's own console messages are turned off (its banner advertising tfjs-node among them): the one line
// logged here says which backend was chosen and why.
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  type FlagSpec,
  findSharedLibrary,
  LIBRARY_SEARCH_SUPPORTED,
  TFJS_BACKENDS,
  type TfjsBackendName,
} from '@trm/core';

/** The TensorFlow.js backends (their names are core's, so that the server's solve-arc can offer them to adapt). */
export type BackendName = TfjsBackendName;
export const BACKEND_NAMES: readonly BackendName[] = TFJS_BACKENDS;

/** The `--backend <name>` flag of the commands and benches that run on one tfjs backend (default wasm). */
export const TFJS_BACKEND_FLAG: FlagSpec = {
  name: 'backend',
  kind: 'enum',
  choices: BACKEND_NAMES,
  default: 'wasm',
  value: '<name>',
  help: `tfjs backend: ${BACKEND_NAMES.join(', ')}`,
};

export interface BackendChoice {
  /** the tfjs backend now active (tf.getBackend()) */
  backend: string;
  /** why each earlier candidate was passed over, and how the chosen one was set up */
  reasons: string[];
}

type Attempt = { ok: true; note: string } | { ok: false; reason: string };

function message(e: unknown): string {
  // An optional package that is simply absent is the common case: say so without Node's long resolution message.
  if ((e as { code?: unknown } | null)?.code === 'ERR_MODULE_NOT_FOUND') return 'not installed';
  return e instanceof Error ? e.message.split('\n')[0]! : String(e);
}

/** Imports a module by a name the type checker does not resolve (optional packages that may be absent). */
async function importOptional(name: string): Promise<Record<string, unknown>> {
  return (await import(/* @vite-ignore */ name)) as Record<string, unknown>;
}

async function activate(name: string): Promise<boolean> {
  try {
    const ok = await tf.setBackend(name);
    await tf.ready();
    return ok && tf.getBackend() === name;
  } catch {
    return false;
  }
}

async function tryTensorflow(): Promise<Attempt> {
  const missing: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await importOptional(pkg);
    } catch (e) {
      missing.push(`${pkg}: ${message(e)}`);
      continue;
    }
    if (tf.findBackend('tensorflow') && (await activate('tensorflow'))) return { ok: true, note: `native via ${pkg}` };
    // A copy of tfjs-core other than ours registers the backend in its own engine, which we cannot use.
    missing.push(`${pkg} imported but registered no 'tensorflow' backend in this tfjs (version mismatch?)`);
  }
  return { ok: false, reason: missing.join('; ') };
}

/** Where tfjs-backend-wasm keeps its .wasm files (its dist folder), as setWasmPaths wants it. */
export function wasmDistDir(): string {
  const require = createRequire(import.meta.url);
  return `${path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'))}/dist/`;
}

async function tryWasm(): Promise<Attempt> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(wasmDistDir());
    // Threads need a Worker from a Blob URL, which Node lacks; SIMD works.
    if (await activate('wasm')) return { ok: true, note: 'wasm (SIMD, 1 thread)' };
    return { ok: false, reason: 'wasm backend did not initialise' };
  } catch (e) {
    return { ok: false, reason: `wasm: ${message(e)}` };
  }
}

interface GpuLike {
  requestAdapter(): Promise<unknown>;
}

async function tryWebgpu(): Promise<Attempt> {
  let dawn: Record<string, unknown>;
  try {
    dawn = await importOptional('webgpu');
  } catch (e) {
    return { ok: false, reason: `package webgpu not importable: ${message(e)}` };
  }
  // Dawn prints its own warning when the Vulkan loader is missing; looking first keeps the reason to one line.
  if (LIBRARY_SEARCH_SUPPORTED && findSharedLibrary('libvulkan.so.1') === null)
    return {
      ok: false,
      reason: 'webgpu: no Vulkan loader (libvulkan.so.1 is not on the library path), so no GPU adapter',
    };
  try {
    const create = dawn.create as ((flags: string[]) => GpuLike) | undefined;
    if (typeof create !== 'function') return { ok: false, reason: 'package webgpu has no create()' };
    const g = globalThis as Record<string, unknown>;
    if (dawn.globals) Object.assign(g, dawn.globals);
    const gpu = create([]);
    const adapter = await gpu.requestAdapter();
    if (!adapter) return { ok: false, reason: 'webgpu: no GPU adapter (Dawn needs Vulkan and a GPU driver)' };
    const nav = (g.navigator ?? {}) as Record<string, unknown>;
    if (!g.navigator) Object.defineProperty(g, 'navigator', { value: nav, configurable: true, writable: true });
    if (!nav.gpu) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
  } catch (e) {
    return { ok: false, reason: `webgpu: ${message(e)}` };
  }
  try {
    await import('@tensorflow/tfjs-backend-webgpu');
  } catch (e) {
    return { ok: false, reason: `@tensorflow/tfjs-backend-webgpu not importable: ${message(e)}` };
  }
  if (await activate('webgpu')) return { ok: true, note: 'webgpu (Dawn); read tensors with await data()' };
  return { ok: false, reason: 'webgpu backend did not initialise' };
}

async function tryCpu(): Promise<Attempt> {
  return (await activate('cpu')) ? { ok: true, note: 'cpu (pure JS)' } : { ok: false, reason: 'cpu failed' };
}

const ATTEMPTS: Record<Exclude<BackendName, 'auto'>, () => Promise<Attempt>> = {
  tensorflow: tryTensorflow,
  webgpu: tryWebgpu,
  wasm: tryWasm,
  cpu: tryCpu,
};

/**
 * Activates a backend and reports the choice through `log`. A named backend that cannot start is an error;
 * `auto` tries tensorflow, webgpu, wasm, cpu in that order.
 */
export async function selectBackend(
  name: BackendName,
  log: (line: string) => void = (l) => console.error(l),
): Promise<BackendChoice> {
  if (!BACKEND_NAMES.includes(name))
    throw new Error(`backend must be one of ${BACKEND_NAMES.join(', ')} (got "${String(name)}")`);
  const order: Exclude<BackendName, 'auto'>[] = name === 'auto' ? ['tensorflow', 'webgpu', 'wasm', 'cpu'] : [name];
  const reasons: string[] = [];
  for (const candidate of order) {
    const r = await ATTEMPTS[candidate]();
    if (r.ok) {
      reasons.push(r.note);
      // tfjs's documented switch for its console messages (tensorflow/tfjs#5368); in tfjs 4.x production mode
      // does nothing else. Set only now, so that a failed initialisation above still printed its cause.
      tf.enableProdMode();
      log(`backend: ${tf.getBackend()} (${[...reasons].join('; ')})`);
      return { backend: tf.getBackend(), reasons };
    }
    reasons.push(`not ${candidate}: ${r.reason}`);
  }
  throw new Error(`backend ${name} is not available here: ${reasons.join('; ')}`);
}
