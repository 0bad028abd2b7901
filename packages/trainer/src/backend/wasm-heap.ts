// What a failure inside the tfjs wasm backend means. Its kernels run in WebAssembly with a heap of at most 4 GiB;
// a batch whose step does not fit ends in a trap ("memory access out of bounds", "remainder by zero") or in
// Emscripten's "Aborted()", none of which says memory, and the backend is unusable afterwards.
import { FlagError } from '@trm/core';

/** WebAssembly.RuntimeError: Node has it, @types/node does not declare it. */
const WasmRuntimeError = (globalThis as unknown as { WebAssembly: { RuntimeError: new () => Error } }).WebAssembly
  .RuntimeError;

/** True for a trap or abort raised inside WebAssembly code (the wasm backend's kernels). */
export function isWasmTrap(err: unknown): err is Error {
  return err instanceof WasmRuntimeError;
}

/**
 * The error to show for a wasm trap during a run of `rows` rows per step: what ran out, and the flags that get out
 * of it (`flag` sets the rows; ONNX Runtime's CPU provider has no such heap limit).
 */
export function wasmHeapError(err: Error, rows: number, flag = '--batch'): FlagError {
  const what = err.message.split('\n')[0]!.trim();
  const smaller = rows > 1 ? ` (e.g. ${flag} ${Math.floor(rows / 2)})` : '';
  return new FlagError(
    `the tfjs wasm backend failed inside WebAssembly ("${what}") at a batch of ${rows} row(s): its heap, at most ` +
      `4 GiB, does not hold a step of this model at this batch size. Pass a smaller ${flag}${smaller}, or ` +
      '--backend ort-cpu, which has no such limit',
    flag,
  );
}
