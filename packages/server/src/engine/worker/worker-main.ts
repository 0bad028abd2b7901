// The body of an inference worker thread: opens the step function named in workerData (the ONNX step graph on
// the chosen provider, its weights checked against their recorded checksum first, or a test module), answers `ready` (or `start-failed`), then runs step plans one at a time.
// session.run blocks this thread for the whole step, which is why it is not the main thread.
import { readFile } from 'node:fs/promises';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { fp16BuiltGraph } from '../step/fp16-graph.js';
import { openOrtStep } from '../step/ort-step.js';
import type { StepFunction } from '../step/step-function.js';
import { StepRunner } from '../step/step-runner.js';
import { checkStepGraphWeights } from '../weights-checksum.js';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export async function runWorker(): Promise<void> {
  if (isMainThread || !parentPort) {
    process.stderr.write('engine-worker: this file runs as an inference worker thread of the server, not by itself\n');
    process.exitCode = 2;
    return;
  }
  const port = parentPort;
  const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
  const init = workerData as WorkerInit;
  let fn: StepFunction<unknown>;
  try {
    const src = init.source;
    if (src.kind === 'onnx') {
      // Every worker, the replacements included, reads the file anew and checks the bytes ONNX Runtime then loads.
      const bytes = await readFile(src.modelPath);
      checkStepGraphWeights(bytes, src.modelPath);
      const opened = await openOrtStep(
        bytes,
        src.ep,
        {
          threads: src.threads,
          stateOnDevice: src.stateOnDevice,
          stepsPerRun: src.stepsPerRun,
          stepsForm: src.stepsForm,
          deviceId: src.deviceId,
        },
        src.shape,
        src.fp16Graph && fp16BuiltGraph(src.fp16Graph, src.modelPath),
      );
      fn = opened.fn as StepFunction<unknown>;
      post({
        type: 'ready',
        provider: opened.provider,
        notes: opened.notes,
        layout: fn.layout,
        stateType: opened.stateType,
        stepsPerRun: fn.stepsPerRun,
        ...(opened.built ? { builtDtype: 'fp16' } : {}),
      });
    } else {
      const mod = (await import(src.url)) as { createStepFunction(options: unknown): Promise<StepFunction<unknown>> };
      fn = await mod.createStepFunction(src.options);
      post({ type: 'ready', notes: [], layout: fn.layout, stateType: 'float32', stepsPerRun: fn.stepsPerRun });
    }
  } catch (err) {
    post({ type: 'start-failed', message: message(err) });
    return;
  }
  const runner = new StepRunner(fn);
  // Plans arrive one at a time, but chain them anyway so a step never overlaps the previous one.
  let chain = Promise.resolve();
  port.on('message', (m: ToWorker) => {
    chain = chain.then(async () => {
      if (m.type === 'exit') process.exit(m.code);
      if (m.type === 'close') {
        runner.clear();
        await fn.dispose();
        port.close();
        return;
      }
      try {
        const r = await runner.step(m.plan);
        // q_halt and a k-step graph's answers are views of ORT's output memory; copies are always transferable.
        const qHalt = r.qHalt.slice();
        const tokens = r.steps > 1 ? r.tokens.slice() : r.tokens;
        post({ type: 'stepped', id: m.id, steps: r.steps, tokens, qHalt }, [
          tokens.buffer as ArrayBuffer,
          qHalt.buffer,
        ]);
      } catch (err) {
        post({ type: 'step-failed', id: m.id, message: message(err) });
      }
    });
  });
}
