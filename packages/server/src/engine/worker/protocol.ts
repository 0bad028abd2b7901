// Messages between the engine (main thread) and an inference worker. The worker owns the session and the
// recurrent state; the main thread sends one step plan at a time and gets back the answers and halt logits.
import type { MultiStepForm } from '@trm/graph';
import type { RowLayout, StepPlan } from '../step/plan.js';
import type { StepShape } from '../step/step-function.js';
import type { ExecutionProviderChoice, ExecutionProviderName } from '../types.js';

/** Where a worker gets its step function. */
export type StepSource =
  /** the exported step graph on ONNX Runtime */
  | {
      kind: 'onnx';
      modelPath: string;
      ep: ExecutionProviderChoice;
      /** CPU provider threads */
      threads: number;
      /** keep the state in device memory where the provider allows it */
      stateOnDevice: boolean;
      /**
       * supervision steps per session.run (the step graph unrolled k times at load; 1: as exported); absent: the
       * provider's default (stepsPerRunOn)
       */
      stepsPerRun?: number;
      /** the CUDA device of this worker's session (default 0) */
      deviceId?: number;
      /** how the graph of several steps per run is made (default loop) */
      stepsForm?: MultiStepForm;
      /**
       * The float16 graph built from the weights of the model folder `from` (config.json + weights.safetensors) with
       * FP16_GRAPH_OPS (fp16-graph.ts), run instead of modelPath's on the GPU providers (`gpu`) or on every one (`all`)
       */
      fp16Graph?: { from: string; on: 'gpu' | 'all' };
      shape: StepShape;
    }
  /** a module exporting `createStepFunction(options)` (the fake model of the tests) */
  | { kind: 'module'; url: string; options: unknown };

/** workerData of an inference worker. */
export interface WorkerInit {
  source: StepSource;
}

export type ToWorker =
  | { type: 'step'; id: number; plan: StepPlan }
  /** free the session and end the thread after the current step */
  | { type: 'close' }
  /** end the thread with process.exit(code) after the current step, as a crash would */
  | { type: 'exit'; code: number };

export type FromWorker =
  | {
      type: 'ready';
      /** absent for step modules */
      provider?: ExecutionProviderName;
      notes: string[];
      layout: RowLayout;
      /** float32 | float16 */
      stateType: string;
      /** supervision steps per run of the loaded graph */
      stepsPerRun: number;
      /** set when the worker built the graph it runs (fp16GraphFrom): its element type, fp16 */
      builtDtype?: string;
    }
  | { type: 'start-failed'; message: string }
  | { type: 'stepped'; id: number; steps: number; tokens: Uint8Array; qHalt: Float32Array }
  | { type: 'step-failed'; id: number; message: string };
