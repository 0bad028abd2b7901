import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CUDA_PROVIDER_LIBRARIES,
  cpuThreadsPerWorker,
  cudaProviderStatus,
  cudaUnavailable,
  onnxruntimeBinDir,
  openSession,
  parseExecutionProvider,
  providerOrder,
  sessionOptions,
  stepsPerRunOn,
  webgpuUnavailable,
} from './providers.js';

// y = x + x over float32[2]: the smallest model that shows a provider runs (protobuf written by hand).
function addModel(): Uint8Array {
  const varint = (n: number): number[] => (n > 127 ? [(n % 128) | 128, ...varint(Math.floor(n / 128))] : [n]);
  const ld = (f: number, b: number[]) => [...varint(f * 8 + 2), ...varint(b.length), ...b];
  const str = (f: number, s: string) => ld(f, [...new TextEncoder().encode(s)]);
  const int = (f: number, n: number) => [...varint(f * 8), ...varint(n)];
  const value = (name: string) => [...str(1, name), ...ld(2, ld(1, [...int(1, 1), ...ld(2, ld(1, int(1, 2)))]))];
  const node = [...str(1, 'x'), ...str(1, 'x'), ...str(2, 'y'), ...str(4, 'Add')];
  const graph = [...ld(1, node), ...str(2, 'g'), ...ld(11, value('x')), ...ld(12, value('y'))];
  return Uint8Array.from([...int(1, 8), ...ld(8, [...str(1, ''), ...int(2, 17)]), ...ld(7, graph)]);
}

const tmp = mkdtempSync(join(tmpdir(), 'trm-providers-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('providers', () => {
  it('takes 4 steps per run on CUDA and 1 elsewhere unless told, and the graph for each provider tried', async () => {
    const settings = { threads: 1, stateOnDevice: true };
    expect(['cuda', 'webgpu', 'cpu'].map((ep) => stepsPerRunOn(ep as 'cuda', settings))).toEqual([4, 1, 1]);
    expect(stepsPerRunOn('cuda', { ...settings, stepsPerRun: 2 })).toBe(2);
    const asked: string[] = [];
    const opened = await openSession(
      async (ep) => {
        asked.push(ep);
        return addModel();
      },
      'cpu',
      settings,
    );
    expect([opened.provider, asked]).toEqual(['cpu', ['cpu']]);
    await opened.session.release();
  });

  it('orders auto as cuda, webgpu, cpu and parses --ep', () => {
    expect(providerOrder('auto')).toEqual(['cuda', 'webgpu', 'cpu']);
    expect(providerOrder('webgpu')).toEqual(['webgpu']);
    expect(parseExecutionProvider('cuda')).toBe('cuda');
    expect(() => parseExecutionProvider('gpu')).toThrow('ep must be one of auto, cuda, webgpu, cpu (got "gpu")');
  });

  it('gives the CPU provider all cores split between workers, and WebGPU device-resident state outputs', () => {
    expect(cpuThreadsPerWorker(1)).toBe(availableParallelism());
    expect(cpuThreadsPerWorker(1000)).toBe(1);
    const cpu = sessionOptions('cpu', { threads: 3, stateOnDevice: true });
    // ONNX Runtime's load-time warnings stay out of the server's log; its errors do not
    expect(sessionOptions('cuda', { threads: 1, stateOnDevice: false }).logSeverityLevel).toBe(3);
    expect(cpu).toMatchObject({ executionProviders: ['cpu'], intraOpNumThreads: 3, graphOptimizationLevel: 'all' });
    expect(cpu.preferredOutputLocation).toBeUndefined();
    expect(sessionOptions('webgpu', { threads: 3, stateOnDevice: true }).preferredOutputLocation).toEqual({
      z_h_out: 'gpu-buffer',
      z_l_out: 'gpu-buffer',
      logits: 'cpu',
      q_halt: 'cpu',
    });
    expect(sessionOptions('webgpu', { threads: 3, stateOnDevice: false }).preferredOutputLocation).toBeUndefined();
    expect(sessionOptions('cuda', { threads: 3, stateOnDevice: true }).preferredOutputLocation).toBeUndefined();
    // k steps per run: the answers and q_halts are read, never the logits
    expect(
      sessionOptions('webgpu', { threads: 3, stateOnDevice: true, stepsPerRun: 4 }).preferredOutputLocation,
    ).toEqual({ z_h_out: 'gpu-buffer', z_l_out: 'gpu-buffer', answers: 'cpu', q_halts: 'cpu' });
    // the CUDA device of a worker
    expect(sessionOptions('cuda', { threads: 1, stateOnDevice: true, deviceId: 3 }).executionProviders).toEqual([
      { name: 'cuda', deviceId: 3 },
    ]);
    expect(sessionOptions('cuda', { threads: 1, stateOnDevice: true, deviceId: 0 }).executionProviders).toEqual([
      'cuda',
    ]);
    expect(sessionOptions('cpu', { threads: 1, stateOnDevice: true, deviceId: 3 }).executionProviders).toEqual(['cpu']);
  });

  it('finds the CUDA provider libraries next to libonnxruntime.so.1', () => {
    expect(onnxruntimeBinDir().endsWith(join('onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64'))).toBe(true);
    const bin = join(tmp, 'bin');
    mkdirSync(bin);
    expect(cudaProviderStatus(bin)).toEqual({
      installed: false,
      dir: bin,
      missing: CUDA_PROVIDER_LIBRARIES,
      missingLibraries: [],
    });
    writeFileSync(join(bin, CUDA_PROVIDER_LIBRARIES[0]!), '');
    expect(cudaProviderStatus(bin).missing).toEqual([CUDA_PROVIDER_LIBRARIES[1]]);
  });

  it('names the CUDA and cuDNN libraries an installed provider links that the loader would not find', () => {
    const status = {
      installed: true,
      dir: '/x',
      missing: [],
      missingLibraries: ['libcublasLt.so.13', 'libcudnn.so.9'],
    };
    expect(cudaUnavailable(status)).toBe(
      'the CUDA provider is installed but the dynamic loader finds no libcublasLt.so.13, libcudnn.so.9 (it needs the CUDA 13 and cuDNN 9 libraries: add their folder to LD_LIBRARY_PATH or register it with ldconfig)',
    );
    expect(cudaUnavailable({ ...status, missingLibraries: [] })).toBeNull();
    expect(webgpuUnavailable(() => null)).toMatch(/^no Vulkan loader \(libvulkan\.so\.1 is not on the library path\)/);
    expect(webgpuUnavailable(() => '/usr/lib/x86_64-linux-gnu/libvulkan.so.1')).toBeNull();
  });

  // The probe of `auto` must print nothing itself (no native warnings): the notes say why a provider was skipped.
  // Native code writes to the process's stderr, so the probe runs in a child process.
  it.runIf(webgpuUnavailable() !== null && !cudaProviderStatus().installed)(
    'probes auto without a line on stderr where there is no GPU',
    () => {
      const model = join(tmp, 'add.onnx');
      writeFileSync(model, addModel());
      const script = join(tmp, 'probe.mts');
      writeFileSync(
        script,
        `import { openSession } from ${JSON.stringify(join(import.meta.dirname, 'providers.ts'))};\n` +
          `const o = await openSession(${JSON.stringify(model)}, 'auto', { threads: 1, stateOnDevice: true });\n` +
          'console.log(o.provider);\n',
      );
      const tsx = createRequire(import.meta.url).resolve('tsx/cli');
      const r = spawnSync(process.execPath, [tsx, script], { encoding: 'utf8', timeout: 60_000 });
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe('cpu');
    },
  );

  // This machine has no CUDA provider installed and no GPU: auto must say so and run on the CPU.
  it('auto falls back to the CPU here, with a note for CUDA and for WebGPU', async () => {
    expect(cudaProviderStatus().installed).toBe(false);
    const opened = await openSession(addModel(), 'auto', { threads: 1, stateOnDevice: true });
    expect(opened.provider).toBe('cpu');
    expect(opened.stateOnDevice).toBe(false);
    expect(opened.notes).toHaveLength(3);
    expect(opened.notes[0]).toMatch(/^cuda: the CUDA provider is not installed \(libonnxruntime_providers_cuda\.so/);
    expect(opened.notes[0]).toContain('pnpm --filter @trm/server cuda:install');
    expect(opened.notes[1]).toMatch(/^webgpu: (no Vulkan loader|no usable GPU adapter: ).*adapter/i);
    expect(opened.notes[2]).toBe('cpu: runs with 1 thread(s)');
    const ort = await import('onnxruntime-node');
    const out = await opened.session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2]), [2]) });
    expect(Array.from(out.y!.data as Float32Array)).toEqual([2, 4]);
    await opened.session.release();
  });

  it('fails at start for an explicit provider that cannot run, saying how to fix it', async () => {
    await expect(openSession(addModel(), 'cuda', { threads: 1, stateOnDevice: true })).rejects.toThrow(
      /^--ep cuda: the CUDA provider is not installed .*install it with `pnpm --filter @trm\/server cuda:install`/,
    );
    // Libraries that pass the file check but do not load: ORT's reason is passed on with the hint.
    const bin = join(tmp, 'fake-bin');
    mkdirSync(bin);
    for (const f of CUDA_PROVIDER_LIBRARIES) writeFileSync(join(bin, f), '');
    await expect(openSession(addModel(), 'cuda', { threads: 1, stateOnDevice: true }, bin)).rejects.toThrow(
      /^--ep cuda: the session could not be created: .*Failed to load shared library.*needs CUDA 13 and cuDNN 9/,
    );
    await expect(openSession(addModel(), 'webgpu', { threads: 1, stateOnDevice: true })).rejects.toThrow(
      /^--ep webgpu: the session could not be created: .*WebGPU needs a GPU with a Vulkan driver/,
    );
  });
});
