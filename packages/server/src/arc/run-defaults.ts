// What solve-arc does when the command line does not say, by the engine's execution provider. The reference's
// settings (1000 augmented variants per task, 500 adaptation steps of the model's batch) are GPU settings: on a
// CPU one adaptation step of a 30x30 model costs about half a second per row and the 1000 variants of one task
// take hours, so the CPU gets few variants, a short adaptation in small batches, and ONNX Runtime's CPU provider
// for it (the tfjs wasm backend's 4 GiB heap does not hold one batch of the model's size at 30x30).
import { type ModelConfig, stateLen, TRAIN_BACKENDS, type TrainBackendName } from '@trm/core';
import type { ExecutionProviderName } from '../engine/types.js';

/** The trainer's `adapt --backend` choices, from core (the server does not import the trainer). */
export const ADAPT_BACKENDS = TRAIN_BACKENDS;
export type AdaptBackend = TrainBackendName;

export interface SolveArcDefaults {
  /** augmented variants per task besides the original */
  augment: number;
  /** adapt's optimiser steps per chunk */
  adaptSteps: number;
  /** adapt's --backend */
  adaptBackend: AdaptBackend;
}

export const SOLVE_ARC_DEFAULTS: Record<ExecutionProviderName, SolveArcDefaults> = {
  cuda: { augment: 1000, adaptSteps: 500, adaptBackend: 'ort-cuda' },
  webgpu: { augment: 1000, adaptSteps: 500, adaptBackend: 'webgpu' },
  cpu: { augment: 8, adaptSteps: 100, adaptBackend: 'ort-cpu' },
};

/** Backends that train on the CPU, where time bounds the batch. */
const CPU_BACKENDS: readonly AdaptBackend[] = ['ort-cpu', 'wasm', 'cpu'];

/** Canvas cells (rows x seq_len) per adaptation step on a CPU backend: 4 rows of a 30x30 canvas, 64 of 8x8. */
export const CPU_ADAPT_CELLS = 4096;

/**
 * Attention scores (rows x heads x tokens^2) per step that the wasm heap holds: a 30x30 model of 4 heads fails
 * with "memory access out of bounds" or "remainder by zero" at 4 rows and runs at 1; an 8x8 model runs at 64
 * rows. The TensorFlow.js cpu backend keeps its tensors in the JavaScript heap, which is no larger.
 */
export const WASM_ATTENTION_CELLS = 2 ** 21;

/**
 * The most rows per adaptation step that `backend` should take for this model, or null for no limit beyond the
 * model's batch size: a CPU backend is bounded by time (CPU_ADAPT_CELLS), wasm and tfjs cpu also by their heap.
 * Always at least 1.
 */
export function adaptRowLimit(config: ModelConfig, backend: AdaptBackend): number | null {
  if (!CPU_BACKENDS.includes(backend)) return null;
  let rows = Math.floor(CPU_ADAPT_CELLS / config.seq_len);
  if (backend === 'wasm' || backend === 'cpu') {
    const tokens = stateLen(config);
    const cells = config.num_heads * tokens * tokens;
    rows = Math.min(rows, Math.floor(WASM_ATTENTION_CELLS / cells));
  }
  return Math.max(1, rows);
}

/** adapt's batch for a chunk: the model's batch, at most the chunk's demonstration pairs and the row limit. */
export function adaptBatch(modelBatch: number, pairs: number, limit: number | null): number {
  return Math.max(1, Math.min(modelBatch, pairs, limit ?? Number.POSITIVE_INFINITY));
}

/** The value of `--flag` in an argument list (`--flag v` or `--flag=v`), or undefined. */
export function argValue(args: readonly string[], flag: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === flag) return args[i + 1];
    if (args[i]!.startsWith(`${flag}=`)) return args[i]!.slice(flag.length + 1);
  }
  return undefined;
}
